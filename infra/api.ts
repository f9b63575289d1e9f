// The gateway's front door: one API Gateway REST API (regional) for everything the gateway serves. GraphQL over HTTP
// (queries, mutations, SSE subscriptions) goes through a Lambda REQUEST authorizer that names the caller's tenant's API
// key, so each tenant's usage plan (rate, burst, daily quota) applies, then to the GraphQL function with response
// streaming (up to 15 minutes); providers' notifications, users' browsers back from authorisation, the OAuth
// endpoints and /healthz go, without the authorizer (each authenticates itself), to a buffered function of their own.
// No Function URL: nothing reaches a function but through the REST API.
import { PROVIDERS } from '../domain/provider.ts'
import { DEFAULT_STAGE_LIMITS } from '../domain/rate-limits.ts'
import { GRAPHQL_PATH, HEALTH_PATH, JWKS_PATH, notificationPath, OAUTH_TOKEN_PATH } from '../service/public-paths.ts'
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
 * Lambda's maximum, and a streaming integration's (900,000 ms). A subscription ends before it (service/config.ts
 * `SUBSCRIPTION_MAX_SECONDS`, 900 s by default, and functions/graphql.ts derives its deadline from the invocation's
 * remaining time, minus a margin), so the stream closes cleanly and the client resubscribes. A stream that sends
 * nothing for 5 minutes is cut by API Gateway (a regional endpoint's idle timeout): SSE sends a comment every 12 s
 * (graphql-yoga's SSE processor), so an open subscription is never idle that long.
 */
const GRAPHQL_TIMEOUT_SECONDS = 900

/** API Gateway gives up on a buffered integration after 29 s: a function behind one has no use for longer. */
const BUFFERED_TIMEOUT = '30 seconds'

/**
 * How long API Gateway keeps an authorizer's answer for one Authorization header (its maximum is 3,600 s). Within it
 * a credential is not checked by the authorizer again, so a revoked token or a disabled client still passes it: the
 * GraphQL function checks every credential itself, and refuses those.
 */
const AUTHORIZER_CACHE_SECONDS = 300

/**
 * The value of the stage's default API key: what the authorizer names for a tenant with no usage plan of its own. Not
 * a secret: the REST API takes API keys from its authorizer alone (`apiKeySource: AUTHORIZER`), never from a
 * client's `x-api-key` header. Derived from the app and stage so the authorizer's environment and the key are made
 * from the same value without one depending on the other (the key needs the deployed stage, which needs the routes,
 * which need the authorizer).
 */
const DEFAULT_API_KEY = `${$app.name}-${$app.stage}-default-usage-plan`

/**
 * The REST API. Regional: a streamed response may stay idle 5 minutes there, 30 s behind an edge-optimised endpoint's
 * CloudFront. No CORS from API Gateway: the app answers CORS itself (tenants' registered origins), preflights included.
 */
export const api = new sst.aws.ApiGatewayV1('Api', {
  endpoint: { type: 'regional' },
  cors: false,
  transform: {
    api: (args) => {
      args.apiKeySource = 'AUTHORIZER'
      args.description = 'consent-gateway: GraphQL, provider webhooks, authorisation callbacks, OAuth, health'
    },
    deployment: (args) => {
      // The gateway responses below are part of what a deployment must pick up.
      const urns: $util.Output<string[]> = $util.all(gatewayResponses.map((response) => response.urn))
      args.triggers = $util.all([$util.output(args.triggers ?? {}), urns]).apply(([triggers, responses]) => ({
        ...triggers,
        gatewayResponses: responses.join(','),
      }))
    },
  },
})

/** The API's base URL without its trailing slash (`https://<id>.execute-api.<region>.amazonaws.com/<stage>`). */
export const baseUrl = api.url.apply((url) => url.replace(/\/$/, ''))

/**
 * Everything the REST API routes outside GraphQL, in one function (functions/public-api.ts): a warm container serves
 * a provider's notification, a browser's return and a token request alike, and its bundle holds no GraphQL schema.
 */
export const publicRoutes = new sst.aws.Function('PublicRoutes', {
  ...gatewayFunction(baseUrl),
  handler: 'functions/public-api.handler',
  description: 'Provider webhooks, authorisation callbacks, OAuth token and keys, health (REST API, buffered)',
  timeout: BUFFERED_TIMEOUT,
  memory: '512 MB',
})

/** The GraphQL API, streamed: functions/graphql.ts wraps its handler in `awslambda.streamifyResponse`. */
export const graphql = new sst.aws.Function('GraphQL', {
  ...gatewayFunction(baseUrl),
  handler: 'functions/graphql.handler',
  description: 'GraphQL API: queries, mutations, SSE subscriptions (REST API, streamed)',
  streaming: true,
  timeout: `${GRAPHQL_TIMEOUT_SECONDS} seconds`,
  memory: '1024 MB',
  concurrency: { reserved: GRAPHQL_RESERVED_CONCURRENCY },
})

const shared = gatewayFunction(baseUrl)
/**
 * The REQUEST authorizer (functions/authorizer.ts). 512 MB: a Basic credential seen first costs one scrypt check,
 * whose speed follows the CPU share Lambda gives by memory; API Gateway's cache spares most requests the call.
 */
export const authorizerFunction = new sst.aws.Function('Authorizer', {
  ...shared,
  environment: $resolve([shared.environment]).apply(([variables]) => ({
    ...variables,
    DEFAULT_API_KEY,
  })),
  handler: 'functions/authorizer.handler',
  description: "REST API authorizer: checks the caller's credential, names its tenant's usage plan key",
  timeout: '10 seconds',
  memory: '512 MB',
})

export const authorizer = api.addAuthorizer({
  name: 'Credentials',
  requestFunction: authorizerFunction.arn,
  identitySource: 'method.request.header.Authorization',
  ttl: AUTHORIZER_CACHE_SECONDS,
})

/**
 * GraphQL's integration: the function's response-streaming invocation, streamed to the client as produced, for up to
 * {@link GRAPHQL_TIMEOUT_SECONDS} (the route is given the function by ARN, so SST does not know it streams).
 */
const streamed = (args: aws.apigateway.IntegrationArgs): undefined => {
  args.uri = graphql.nodes.function.responseStreamingInvokeArn
  args.responseTransferMode = 'STREAM'
  args.timeoutMilliseconds = GRAPHQL_TIMEOUT_SECONDS * 1000
  return undefined
}

// Routed by ARN, not by handler path: a handler path makes the route build a function of its own (one per route, in
// src/components/aws/helpers/function-builder.ts), an ARN reuses the ones above.
for (const method of ['GET', 'POST'] as const) {
  api.route(`${method} ${GRAPHQL_PATH}`, graphql.arn, {
    auth: { custom: authorizer.id },
    // Counted by the usage plan of the key the authorizer names.
    apiKey: true,
    transform: { integration: streamed },
  })
}
// A browser's preflight carries no credentials: it reaches the app, which answers for registered origins only.
api.route(`OPTIONS ${GRAPHQL_PATH}`, graphql.arn, { transform: { integration: streamed } })

// One greedy route for providers' notifications (Worldline posts below its path); the app checks the provider and the
// rest of the path itself (http/app.ts). A REST API resource cannot have two path-variable children, so no
// `{provider}` beside it.
api.route('POST /webhooks/{proxy+}', publicRoutes.arn)
api.route('GET /callbacks/{provider}/{token}', publicRoutes.arn)
api.route(`POST ${OAUTH_TOKEN_PATH}`, publicRoutes.arn)
api.route(`GET ${JWKS_PATH}`, publicRoutes.arn)
api.route(`GET ${HEALTH_PATH}`, publicRoutes.arn)

const graphqlError = (code: string, message: string, extensions: Record<string, unknown> = {}) =>
  JSON.stringify({
    errors: [{ message, extensions: { code, ...extensions, requestId: '$context.requestId' } }],
  })

/**
 * API Gateway's own refusals, in the API's shape: GraphQL errors with their codes (docs/errors.md) and the headers a
 * client acts on. A usage plan's counters are API Gateway's: no RateLimit fields here (npm start sends them).
 */
const gatewayResponses = [
  new aws.apigateway.Response('ApiThrottled', {
    restApiId: api.nodes.api.id,
    responseType: 'THROTTLED',
    statusCode: '429',
    responseParameters: { 'gatewayresponse.header.Retry-After': "'1'" },
    responseTemplates: {
      'application/json': graphqlError('RATE_LIMITED', 'Too many requests; retry after 1 s', {
        retryable: true,
        retryAfterSeconds: 1,
      }),
    },
  }),
  new aws.apigateway.Response('ApiQuotaExceeded', {
    restApiId: api.nodes.api.id,
    responseType: 'QUOTA_EXCEEDED',
    statusCode: '429',
    // The day's count starts again at 00:00 UTC; a gateway response cannot compute the wait, so an hour at most.
    responseParameters: { 'gatewayresponse.header.Retry-After': "'3600'" },
    responseTemplates: {
      'application/json': graphqlError('RATE_LIMITED', "The day's request quota is spent; it renews at 00:00 UTC", {
        retryable: true,
        retryAfterSeconds: 3600,
      }),
    },
  }),
  new aws.apigateway.Response('ApiUnauthorized', {
    restApiId: api.nodes.api.id,
    responseType: 'UNAUTHORIZED',
    statusCode: '401',
    responseParameters: {
      'gatewayresponse.header.WWW-Authenticate':
        '\'Basic realm="consent-gateway", charset="UTF-8", Bearer realm="consent-gateway"\'',
    },
    responseTemplates: {
      'application/json': graphqlError(
        'UNAUTHORIZED',
        'Send credentials in the Authorization header: HTTP Basic with an API client id and secret, or a bearer token',
      ),
    },
  }),
]

api.deploy()

/** The usage plan of tenants without one of their own (`set-limits` gives a tenant its own). */
export const defaultUsagePlan = api.addUsagePlan('DefaultUsagePlan', {
  throttle: { rate: DEFAULT_STAGE_LIMITS.rate, burst: DEFAULT_STAGE_LIMITS.burst },
  quota: { limit: DEFAULT_STAGE_LIMITS.quotaPerDay, period: 'day' },
})
defaultUsagePlan.addApiKey('DefaultApiKey', { value: DEFAULT_API_KEY })

/**
 * The REST API and its stage, for `npm run admin -- set-limits` under `sst shell` (cli/target.ts): tenants' usage
 * plans are attached to this stage.
 */
export const gatewayStage = new sst.Linkable('GatewayStage', {
  properties: { restApiId: api.nodes.api.id, stageName: $app.stage },
})

/** What `sst deploy` prints: where partners, providers and operators point things. */
export const outputs = {
  graphqlUrl: $interpolate`${baseUrl}${GRAPHQL_PATH}`,
  /** Register these with each provider (Worldline: the base; it appends `/notification/status`). */
  ...Object.fromEntries(
    PROVIDERS.map((provider) => [
      `${provider.toLowerCase()}WebhookUrl`,
      $interpolate`${baseUrl}${notificationPath(provider)}`,
    ]),
  ),
  /** Per-consent links are `<callbackBaseUrl>/<provider>/<token>` (`callbackPrefixPath`); the gateway makes them. */
  callbackBaseUrl: $interpolate`${baseUrl}/callbacks`,
  /** Where partners' backends ask for access tokens, and where anyone finds the keys that verify them. */
  tokenUrl: $interpolate`${baseUrl}${OAUTH_TOKEN_PATH}`,
  jwksUrl: $interpolate`${baseUrl}${JWKS_PATH}`,
  tableName: table.name,
}
