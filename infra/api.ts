// The gateway's front doors: an HTTP API for what providers, browsers and partners' token requests call (webhooks,
// authorisation callbacks, the OAuth endpoints, health, laid out by service/public-paths.ts) and a streaming Function
// URL for GraphQL (queries, mutations, SSE subscriptions: an HTTP API cannot stream and cuts every request at 30 s).
// Both functions serve the same app (http/app.ts), each with the routes it is given.
import { PROVIDERS } from '../domain/provider.ts'
import { HEALTH_PATH, JWKS_PATH, notificationPath, OAUTH_TOKEN_PATH } from '../service/public-paths.ts'
import { gatewayFunction } from './functions.ts'
import { table } from './storage.ts'

/**
 * Simultaneous GraphQL invocations at most. Each open SSE subscription holds one for up to {@link GRAPHQL_TIMEOUT},
 * so this bounds open subscriptions plus requests in flight, and with them the table's read rate and the bill.
 * Reserving is free and also guarantees the capacity, but Lambda keeps 100 of the account's concurrency unreserved:
 * the account's quota must be at least this plus 100 (new accounts may start lower: ask for a raise before deploying).
 */
const GRAPHQL_RESERVED_CONCURRENCY = 50

/**
 * Lambda's maximum. A subscription ends before it (service/config.ts `SUBSCRIPTION_MAX_SECONDS`, 900 s by default,
 * and functions/graphql.ts derives its deadline from the invocation's remaining time, minus a margin), so the stream
 * closes cleanly and the client resubscribes.
 */
const GRAPHQL_TIMEOUT = '900 seconds'

/** The HTTP API gives up on an integration after 30 s: a function behind it has no use for longer. */
const HTTP_API_TIMEOUT = '30 seconds'

/**
 * Providers' notifications, users' browsers back from authorisation, the OAuth endpoints and /healthz. No CORS: none is
 * a script's cross-origin call (a partner's backend asks for tokens). Its URL is every function's `PUBLIC_BASE_URL`;
 * the functions depend on the API resource, the routes on the functions, so Pulumi orders them without a cycle.
 */
export const api = new sst.aws.ApiGatewayV2('PublicApi', { cors: false })

/**
 * Everything the HTTP API routes, in one function (functions/public-api.ts): a warm container serves a provider's
 * notification, a browser's return and a token request alike, and its bundle holds no GraphQL schema (its cold start
 * is the gateway's and the HTTP app's alone).
 */
export const publicRoutes = new sst.aws.Function('PublicRoutes', {
  ...gatewayFunction(api.url),
  handler: 'functions/public-api.handler',
  description: 'Provider webhooks, authorisation callbacks, OAuth token and keys, health (HTTP API)',
  timeout: HTTP_API_TIMEOUT,
  memory: '512 MB',
})

// Routed by ARN, not by handler path: a handler path makes the route build a function of its own (one per route, in
// src/components/aws/helpers/function-builder.ts), an ARN reuses the one above.
// Worldline posts below its notification path (`/webhooks/worldline/notification/status`), hence the greedy route;
// the app checks the provider and the rest of the path itself (http/app.ts).
api.route('POST /webhooks/{provider}', publicRoutes.arn)
api.route('POST /webhooks/{proxy+}', publicRoutes.arn)
api.route('GET /callbacks/{provider}/{token}', publicRoutes.arn)
api.route(`POST ${OAUTH_TOKEN_PATH}`, publicRoutes.arn)
api.route(`GET ${JWKS_PATH}`, publicRoutes.arn)
api.route(`GET ${HEALTH_PATH}`, publicRoutes.arn)

/**
 * The GraphQL API on a Function URL with response streaming: `streaming` makes SST create the URL with invoke mode
 * `RESPONSE_STREAM` (read in src/components/aws/function.ts), and functions/graphql.ts wraps its handler in
 * `awslambda.streamifyResponse`. No IAM auth: the API checks its clients' credentials itself. No URL-level CORS:
 * the app answers CORS as under `npm start` (a Function URL's CORS setting would override its headers): only tenants'
 * registered origins and the stage's `CorsAllowedOrigins` (infra/secrets.ts), exactly, never in credentials mode; no
 * header for any other origin.
 */
export const graphql = new sst.aws.Function('GraphQL', {
  ...gatewayFunction(api.url),
  handler: 'functions/graphql.handler',
  description: 'GraphQL API: queries, mutations, SSE subscriptions',
  streaming: true,
  url: { authorization: 'none', cors: false },
  timeout: GRAPHQL_TIMEOUT,
  memory: '1024 MB',
  concurrency: { reserved: GRAPHQL_RESERVED_CONCURRENCY },
})

/** What `sst deploy` prints: where partners, providers and operators point things. */
export const outputs = {
  graphqlUrl: graphql.url,
  /** Register these with each provider (Worldline: the base; it appends `/notification/status`). */
  ...Object.fromEntries(
    PROVIDERS.map((provider) => [
      `${provider.toLowerCase()}WebhookUrl`,
      $interpolate`${api.url}${notificationPath(provider)}`,
    ]),
  ),
  /** Per-consent links are `<callbackBaseUrl>/<provider>/<token>` (`callbackPrefixPath`); the gateway makes them. */
  callbackBaseUrl: $interpolate`${api.url}/callbacks`,
  /** Where partners' backends ask for access tokens, and where anyone finds the keys that verify them. */
  tokenUrl: $interpolate`${api.url}${OAUTH_TOKEN_PATH}`,
  jwksUrl: $interpolate`${api.url}${JWKS_PATH}`,
  tableName: table.name,
}
