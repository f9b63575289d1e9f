// What every gateway function shares, whatever invokes it (HTTP API, Function URL, schedules, the table stream):
// runtime, bundling, the table link and the environment service/config.ts reads.
import { FUNCTION_NODEJS, FUNCTION_RUNTIME } from '../scripts/bundling.ts'
import { SECRET_VARIABLES } from './secrets.ts'
import { table } from './storage.ts'

/**
 * The `sst.aws.Function` settings every gateway function starts from; spread them, then add the handler and what is
 * particular to the function. Call it once per function: SST writes its own variables (`SST_KEY`, `SST_RESOURCE_App`)
 * into the environment object it is given (`normalizeEnvironment` in the platform's src/components/aws/function.ts),
 * so two functions must not share one.
 *
 * Give them to `sst.aws.Function` itself, not to a component that builds a function from them (CronV2's `function`,
 * `Dynamo.subscribe`): those build it inside an `apply`, which unwraps the environment, and the secrets would be kept
 * in clear text in the state. Build the function, then hand the component the function or its ARN (infra/jobs.ts).
 *
 * @param publicBaseUrl Where providers and browsers reach the gateway (`/webhooks/...`, `/callbacks/...`): the HTTP
 * API's URL. Every function needs it: `configFromEnv` refuses to start without `PUBLIC_BASE_URL`.
 *
 * @example
 * ```ts
 * const sweep = new sst.aws.Function('SweepDeadlinesJob', {
 *   ...gatewayFunction(api.url),
 *   handler: 'functions/sweep-deadlines.handler',
 * })
 * new sst.aws.CronV2('SweepDeadlines', { schedule: 'rate(5 minutes)', function: sweep })
 * ```
 */
export function gatewayFunction(publicBaseUrl: $util.Input<string>) {
  return {
    runtime: FUNCTION_RUNTIME,
    // Graviton: about 20% cheaper per GB-second than x86_64; the bundles are plain JavaScript, no native modules.
    architecture: 'arm64',
    // Shared with scripts/build-functions.ts; SST adds the createRequire banner itself (see scripts/bundling.ts).
    nodejs: FUNCTION_NODEJS,
    // Grants dynamodb:* on the table, its indexes and its stream (the Dynamo component's link). The secrets are not
    // linked: the service reads its settings from the environment (configFromEnv), as under `npm start`, and a link
    // would only put a second, unread copy of each into every bundle.
    link: [table],
    // Secret Outputs: Pulumi keeps them encrypted in the state; Lambda shows them to whoever may read the function's
    // configuration. Lambda allows 4 KB of variables per function (see WorldlinePrivateKey in infra/secrets.ts).
    environment: $resolve({
      TABLE_NAME: table.name,
      PUBLIC_BASE_URL: publicBaseUrl,
      ...Object.fromEntries(Object.entries(SECRET_VARIABLES).map(([name, secret]) => [name, secret.value])),
    }).apply(withoutEmptyValues),
  } satisfies Partial<sst.aws.FunctionArgs>
}

/**
 * Drops variables whose value is empty, so a provider a stage leaves out is unset in the function, exactly as with
 * `npm start`. (`configFromEnv` would read an empty variable as unset too; leaving it out also keeps it off Lambda's
 * 4 KB of environment.)
 */
export function withoutEmptyValues(variables: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).filter(([, value]) => value !== ''))
}
