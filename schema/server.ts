// The GraphQL server (graphql-yoga): authentication before execution and one guard around it (request-guard.ts), what
// each caller may run (trusted-operations.ts: end users' tokens only their tenant's registered documents), query
// limits (graphql-armor and graphql-js's own token limit), one error masking point, request ids, and subscriptions
// (SSE, Apollo's multipart: apollo-multipart.ts) that end when their credential does (credential-recheck.ts), and
// queries and mutations run compiled (compiled-queries.ts), the common request past yoga's pipeline under the same rules
// (fast-path.ts). This file composes them; each concern is its own module (query-limits.ts, error-masking.ts,
// graphiql-page.ts).
// Transport-free: http/app.ts mounts `yoga.fetch` at /graphql, with CORS, body limits and the request id (echoed in
// `x-request-id`) around it; a transport that authenticates its own way (graphql-ws.ts) runs each operation through
// `executeForCaller` (caller-operations.ts), past the same rules.
import { randomUUID } from 'node:crypto'
import { createYoga, type YogaServerInstance } from 'graphql-yoga'
import type { Authenticator, Principal } from '../service/principal.ts'
import type { Gateway } from '../composition/gateway.ts'
import type { Logger } from '../runtime/logging.ts'
import { useApolloMultipartSubscriptions, type ApolloMultipartOptions } from './apollo-multipart.ts'
import { rememberCallers, type OperationContext } from './caller-operations.ts'
import type { GraphQLContext, GraphQLServices } from './context.ts'
import { useQueryCost, type QueryCosts } from './cost.ts'
import { CompiledQueries } from './compiled-queries.ts'
import { useCredentialRecheck } from './credential-recheck.ts'
import { maskError, useErrorExtensions } from './error-masking.ts'
import { createFastPath, rememberFastPath } from './fast-path.ts'
import { graphiqlPage } from './graphiql-page.ts'
import { schema } from './index.ts'
import { LIMITS } from './limits.ts'
import { queryLimitPlugins } from './query-limits.ts'
import { useTenantRateLimits } from './rate-limit.ts'
import { useTrustedOperations } from './trusted-operations.ts'
import {
  useApiClientAuthentication,
  useMalformedParameters,
  useRequestGuard,
  type Handovers,
  type TransportContext,
} from './request-guard.ts'
import { currentDeadline, currentRequestId } from '../runtime/request-scope.ts'

export interface GraphQLServerOptions {
  readonly services: GraphQLServices
  /**
   * The server's compiled documents (compiled-queries.ts); `false`: none, every document interpreted by yoga's
   * executor (what the engines' differential test compares against).
   * @default new CompiledQueries() (compiled after COMPILE_AFTER_RUNS runs, the compiler loaded then)
   */
  readonly compiledQueries?: CompiledQueries | false
  /** HTTP Basic and bearer tokens (service/caller-authentication.ts). */
  readonly authenticator: Authenticator
  readonly logger: Logger
  /**
   * Serve GraphiQL on GET /graphql. Local mode pre-fills it with these request headers (the demo credentials).
   * `render` replaces yoga's page, whose scripts come from a CDN (local mode passes the self-contained page of
   * @graphql-yoga/render-graphiql, so GraphiQL works offline).
   * @default false
   */
  readonly graphiql?:
    | false
    | {
        readonly defaultHeaders?: Record<string, string>
        /**
         * The Host header values (`host:port`) whose page carries `defaultHeaders`: our own loopback names. Any other
         * Host (a DNS-rebinding page that resolved its name to 127.0.0.1, a phone on the LAN) gets the page without
         * them. Without this list no page carries them.
         * @default []
         */
        readonly trustedHosts?: readonly string[]
        /** Operations preloaded as tabs (title comment first), instead of GraphiQL's welcome text. */
        readonly tabs?: readonly string[]
        readonly render?: (options?: Record<string, unknown>) => string
      }
  /** @default '/graphql' */
  readonly endpoint?: string
  /** Apollo's multipart subscriptions (heartbeat interval). @default APOLLO_MULTIPART_DEFAULTS */
  readonly apolloMultipart?: ApolloMultipartOptions
}

export type GraphQLServer = YogaServerInstance<TransportContext, GraphQLContext>

/**
 * What resolvers need from a gateway. A subscription ends at the configured maximum from its start, or earlier when
 * the platform ends the request sooner (a Lambda invocation's remaining time, carried in the request scope).
 */
export function graphQLServicesOf(gateway: Gateway): GraphQLServices {
  return {
    consents: gateway.consents,
    operations: gateway.operations,
    watcher: gateway.watcher,
    providers: gateway.providers,
    logger: gateway.logger,
    events: gateway.events,
    webhooks: gateway.webhooks,
    deliveries: gateway.deliveries,
    tokens: gateway.tokens,
    trustedDocuments: gateway.trustedDocuments,
    clock: gateway.clock,
    rateLimits: gateway.rateLimits,
    subscriptionDeadline: () =>
      Math.min(
        Date.now() + gateway.config.subscriptionMaxSeconds * 1000,
        currentDeadline() ?? Number.POSITIVE_INFINITY,
      ),
  }
}

export function createGraphQLServer(options: GraphQLServerOptions): GraphQLServer {
  const principals = new WeakMap<Request, Principal>()
  const costs: QueryCosts = new WeakMap()
  const graphiql = options.graphiql
  const mask = maskError(options.logger)
  const compiled =
    options.compiledQueries === false
      ? new CompiledQueries({ compileAfterRuns: Number.POSITIVE_INFINITY })
      : (options.compiledQueries ??
        new CompiledQueries({
          onCompilerUnavailable: (error) =>
            options.logger.error('graphql-jit did not load; documents stay interpreted', {
              error: error instanceof Error ? error : String(error),
            }),
        }))
  const handovers: Handovers = new WeakMap()
  const server = createYoga<TransportContext, GraphQLContext>({
    schema,
    graphqlEndpoint: options.endpoint ?? '/graphql',
    landingPage: false,
    // Bodies are bounded before yoga sees them (http/body-limit.ts: a POST declares its length, at most 64 kB). Yoga's
    // own limit re-streams every body and costs ~0.3 ms a request (bench/).
    maxRequestBodySize: false,
    ...(graphiql && graphiql.render ? { renderGraphiQL: graphiql.render } : {}),
    graphiql: graphiql ? graphiqlPage(graphiql) : false,
    // Answered by the app around it (http/cors.ts), preflights included.
    cors: false,
    logging: false,
    maskedErrors: { maskError: mask, errorMessage: 'Unexpected error.' },
    plugins: [
      // Inside authentication's wrapper (listed before it): the tenant is known when its limits are counted.
      useTenantRateLimits(options.services.rateLimits, principals, handovers),
      useApiClientAuthentication(options.authenticator, principals, handovers),
      useMalformedParameters(),
      useTrustedOperations(options.services.trustedDocuments, principals),
      useCredentialRecheck(mask),
      ...queryLimitPlugins(),
      useQueryCost(LIMITS.costLimit, costs),
      useErrorExtensions(),
      useApolloMultipartSubscriptions(options.apolloMultipart),
      // After the cost plugin: it keeps each document's cost for the fast path.
      compiled.plugin(costs),
      // Last: the outermost wrapper of the request handler.
      useRequestGuard(options.logger),
    ],
    context: ({ request, operationServices }: { request: Request } & OperationContext) => ({
      principal: principals.get(request) ?? null,
      requestId: currentRequestId() ?? randomUUID(),
      signal: request.signal,
      services: operationServices ?? options.services,
    }),
  })
  rememberCallers(server, { principals, mask, rateLimits: options.services.rateLimits, costs })
  rememberFastPath(
    server,
    createFastPath({
      authenticator: options.authenticator,
      services: options.services,
      compiled,
      handovers,
      mask,
      errorMessage: 'Unexpected error.',
    }),
  )
  return server
}
