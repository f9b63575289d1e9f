// Stands in, inside the Lambda bundles, for fast-json-stringify, which graphql-jit imports but calls only when a query
// is compiled with `customJSONSerializer` (schema/compiled-queries.ts never asks for it: answers go through
// JSON.stringify). The real package brings ajv and its formats, about 200 kB of every GraphQL bundle and its cold start.
export default function fastJsonStringify() {
  throw new Error('fast-json-stringify is not bundled: compile queries without customJSONSerializer')
}
