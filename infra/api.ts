// The gateway's front doors: an HTTP API for what providers and browsers call (webhooks, authorisation callbacks,
// laid out by service/public-paths.ts) and a streaming Function URL for GraphQL (queries, mutations, SSE
// subscriptions: an HTTP API cannot stream and cuts every request at 30 s).
import { PROVIDERS } from '../domain/provider.ts'
import { notificationPath } from '../service/public-paths.ts'
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
 * Providers' notifications and users' browsers back from authorisation. No CORS: neither is a script's cross-origin
 * call. Its URL is every function's `PUBLIC_BASE_URL`; the functions depend on the API resource, the routes on the
 * functions, so Pulumi orders them without a cycle.
 */
export const api = new sst.aws.ApiGatewayV2('PublicApi', { cors: false })

/** `POST /webhooks/<provider>[/...]`: provider notifications, signatures checked over the raw body. */
export const providerWebhook = new sst.aws.Function('ProviderWebhook', {
  ...gatewayFunction(api.url),
  handler: 'functions/provider-webhook.handler',
  description: 'Provider notifications (POST /webhooks/<provider>)',
  timeout: HTTP_API_TIMEOUT,
  memory: '512 MB',
})

/** `GET /callbacks/<provider>/<signed link>`: the user's browser back from the provider, sent on to the partner. */
export const authorisationCallback = new sst.aws.Function('AuthorisationCallback', {
  ...gatewayFunction(api.url),
  handler: 'functions/authorisation-callback.handler',
  description: 'Authorisation callbacks (GET /callbacks/<provider>/<token>)',
  timeout: HTTP_API_TIMEOUT,
  memory: '512 MB',
})

// Routed by ARN, not by handler path: a handler path makes the route build a function of its own (one per route, in
// src/components/aws/helpers/function-builder.ts), an ARN reuses the one above.
// Worldline posts below its notification path (`/webhooks/worldline/notification/status`), hence the greedy route;
// the handler checks the provider and the rest of the path itself (service/public-paths.ts `notificationRoute`).
api.route('POST /webhooks/{provider}', providerWebhook.arn)
api.route('POST /webhooks/{proxy+}', providerWebhook.arn)
api.route('GET /callbacks/{provider}/{token}', authorisationCallback.arn)

/**
 * The GraphQL API on a Function URL with response streaming: `streaming` makes SST create the URL with invoke mode
 * `RESPONSE_STREAM` (read in src/components/aws/function.ts), and functions/graphql.ts wraps its handler in
 * `awslambda.streamifyResponse`. No IAM auth: the API checks its clients' credentials itself. No URL-level CORS:
 * GraphQL Yoga answers CORS as under `npm start` (a Function URL's CORS setting would override its headers): only the
 * stage's `CorsAllowedOrigins` (infra/secrets.ts), exactly, never in credentials mode; no header for any other origin.
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
  tableName: table.name,
}
