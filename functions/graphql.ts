// Lambda entry: the GraphQL API, streaming: queries, mutations and SSE subscriptions through the one app (http/app.ts)
// behind the REST API's authorizer in streaming mode (payload 1.0; a Function URL's payload 2.0 works the same). The
// authorizer's context (tenant, client) is not read: every request's credential is verified here again. Only clients,
// the schema, yoga and the app are built at module scope; provider adapters load on first use.
import { createHttpApp } from '../http/app.ts'
import { fastPathOf } from '../schema/fast-path.ts'
import { createGraphQLServer, graphQLServicesOf } from '../schema/server.ts'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { streamingHandler } from './lambda-http.ts'

const gateway = createGateway(deployedConfig())
const graphql = createGraphQLServer({
  services: graphQLServicesOf(gateway),
  authenticator: gateway.authenticator,
  logger: gateway.logger,
  graphiql: process.env.GRAPHIQL === 'false' ? false : {},
})
const app = createHttpApp(
  { gateway, graphql, fastPath: fastPathOf(graphql) },
  { corsAllowedOrigins: gateway.config.corsAllowedOrigins ?? [] },
)

export const handler = streamingHandler(app)
