// gql.tada typed against the gateway's schema (schema/schema.graphql, turned into graphql-env.d.ts by `npm run
// example:codegen`): every operation of the example is checked against the schema by `tsc`, with no code generated.
import { initGraphQLTada } from 'gql.tada'
import type { introspection } from './graphql-env.d.ts'

export const graphql = initGraphQLTada<{
  introspection: introspection
  scalars: { DateTime: string }
  // The page reads whole results; fragments only keep the documents short.
  disableMasking: true
}>()

export type { ResultOf, VariablesOf, TadaPersistedDocumentNode } from 'gql.tada'
