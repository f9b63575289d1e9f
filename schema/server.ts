// The GraphQL server (graphql-yoga): authentication before execution and one guard around it (request-guard.ts), what
// each caller may run (trusted-operations.ts: end users' tokens only their tenant's registered documents), query
// limits (graphql-armor and graphql-js's own token limit), one error masking point, request ids, and subscriptions
// (SSE, Apollo's multipart: apollo-multipart.ts) that end when their credential does (credential-recheck.ts).
// Transport-free: http/app.ts mounts `yoga.fetch` at /graphql, with CORS, body limits and the request id (echoed in
// `x-request-id`) around it; a transport that authenticates its own way (graphql-ws.ts) runs each operation through
// `executeForCaller`, past the same rules.
import { randomUUID } from 'node:crypto'
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions'
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit'
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth'
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives'
import { GraphQLError, parse, type ExecutionResult, type ParseOptions, type Source } from 'graphql'
import {
  createYoga,
  isAsyncIterable,
  mapAsyncIterator,
  type GraphQLParams,
  type Plugin,
  type YogaServerInstance,
} from 'graphql-yoga'
import { ERROR_CATALOGUE, isConsentGatewayError, RateLimitedError, type ErrorCode } from '../domain/errors.ts'
import type { Authenticator, Principal } from '../service/principal.ts'
import type { Gateway } from '../composition/gateway.ts'
import type { Logger } from '../runtime/logging.ts'
import { useApolloMultipartSubscriptions, type ApolloMultipartOptions } from './apollo-multipart.ts'
import type { GraphQLContext, GraphQLServices } from './context.ts'
import { useQueryCost, withCost, type QueryCosts } from './cost.ts'
import { useCredentialRecheck } from './credential-recheck.ts'
import { schema } from './index.ts'
import { LIMITS } from './limits.ts'
import { useTenantRateLimits } from './rate-limit.ts'
import { useTrustedOperations } from './trusted-operations.ts'
import {
  useApiClientAuthentication,
  useMalformedParameters,
  useRequestGuard,
  type TransportContext,
} from './request-guard.ts'
import { currentDeadline, currentRequestId } from '../runtime/request-scope.ts'

export interface GraphQLServerOptions {
  readonly services: GraphQLServices
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

/**
 * graphql-armor's limits, each its own envelop plugin. Not `EnvelopArmorPlugin`: it always loads armor's token
 * limit, which deep-imports `graphql/language/parser`, and a bundler that prefers `module` (SST's esbuild does)
 * resolves that to graphql's CommonJS copy beside the ES module copy everything else uses: two `GraphQLError`
 * classes, and syntax errors no longer recognised as such (they answered 200 instead of 400 in the bundle tests).
 */
const armorPlugins = (): Plugin[] => [
  maxDepthPlugin(LIMITS.maxDepth),
  maxAliasesPlugin(LIMITS.maxAliases),
  maxDirectivesPlugin(LIMITS.maxDirectives),
  costLimitPlugin(LIMITS.costLimit),
  blockFieldSuggestionsPlugin(),
]

/**
 * The token limit, by graphql-js's own parser (`maxTokens`, graphql 16.7+): the parse stops at the limit, so an
 * abusive document costs no more than an allowed one. Reported as a validation failure, like armor's limits.
 */
function useMaxTokens(maxTokens: number): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source: string | Source, options?: ParseOptions) => {
        try {
          return parse(source, { ...options, maxTokens })
        } catch (error) {
          if (error instanceof GraphQLError && /more that \d+ tokens/.test(error.message)) {
            throw new GraphQLError(`The query exceeds the token limit of ${maxTokens}.`, {
              source: error.source,
              positions: error.positions,
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' satisfies ErrorCode },
            })
          }
          throw error
        }
      })
    },
  }
}

const errorId = () => randomUUID()

type ResultWithErrors = { readonly data?: unknown; readonly errors?: readonly GraphQLError[] }

/** graphql-armor reports its limits (depth, tokens) as "Syntax Error: ... limit ..."; they are validation failures. */
const codeOfGraphQLError = (message: string): ErrorCode =>
  /^Syntax Error/.test(message) && !/limit/i.test(message) ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED'

/** graphql-armor's limit messages ("Syntax Error: Query Cost limit of 5000 exceeded, found 6400.") and ours. */
const ARMOR_LIMIT =
  /^Syntax Error: (Query Cost|Query depth|Aliases|Directives) limit of (\d+) exceeded, found ([\d.]+)\.$/
const LIMIT_WORDING: Record<string, (found: number) => string> = {
  'Query Cost': (found) => `cost limit of %s (its cost is ${found})`,
  'Query depth': (found) => `depth limit of %s (its depth is ${found})`,
  Aliases: (found) => `alias limit of %s (it has ${found})`,
  Directives: (found) => `directive limit of %s (it has ${found})`,
}

/**
 * A refused query parsed fine: armor's "Syntax Error:" prefix misleads (a partner looks for a typo). Says instead
 * which limit the query exceeds and by how much; any other message is kept.
 */
export function plainLimitMessage(message: string): string {
  const match = ARMOR_LIMIT.exec(message)
  const wording = match && LIMIT_WORDING[match[1] ?? '']
  if (!match || !wording) return message
  return `The query exceeds the ${wording(Math.round(Number(match[3]))).replace('%s', match[2] ?? '')}.`
}

function decorateError(error: GraphQLError, requestError: boolean): GraphQLError {
  // yoga's JSON body parser puts JSON.parse's own error (its name, its text, a piece of the body) in `originalError`,
  // and answers 400 under either media type because it is there. The client gets the 400 and the message, not the
  // parser's internals.
  const { originalError, ...extensions } = error.extensions ?? {}
  const parserFailure = originalError !== undefined && !(originalError instanceof GraphQLError)
  const code = typeof extensions.code === 'string' ? extensions.code : codeOfGraphQLError(error.message)
  // The operation never ran (parse, validation, limits, variables): a request error, 400 under
  // application/graphql-response+json and 200 under application/json (`spec`), as GraphQL over HTTP asks.
  const http = parserFailure
    ? { ...(extensions.http as Record<string, unknown> | undefined), status: 400, spec: false }
    : (extensions.http ?? (requestError && code.startsWith('GRAPHQL_') ? { status: 400, spec: true } : undefined))
  return new GraphQLError(plainLimitMessage(error.message), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: {
      ...extensions,
      code,
      requestId: extensions.requestId ?? currentRequestId(),
      errorId: extensions.errorId ?? errorId(),
      ...(http ? { http } : {}),
    },
  })
}

export function decorateResult<T extends ResultWithErrors>(result: T): T {
  if (!result.errors?.length) return result
  const requestError = !('data' in result)
  return { ...result, errors: result.errors.map((error) => decorateError(error, requestError)) }
}

/**
 * Every error that leaves the server, whichever stage raised it (parse, validation, armor, execution, a
 * subscription), carries `extensions.code`, `requestId` and `errorId`.
 */
function useErrorExtensions(): Plugin {
  return {
    onResultProcess(payload) {
      const { result } = payload
      if (isAsyncIterable(result)) payload.setResult(mapAsyncIterator(result, decorateResult))
      else if (Array.isArray(result)) payload.setResult(result.map(decorateResult))
      else payload.setResult(decorateResult(result))
    },
  }
}

/**
 * The one masking point: domain errors keep their message and get their catalogue code; GraphQL's own (syntax,
 * validation, limits) pass unchanged; anything else is logged with an errorId and shown as INTERNAL_SERVER_ERROR.
 */
export function maskError(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const requestId = currentRequestId()
    const id = errorId()
    const graphQLError = error instanceof GraphQLError ? error : null
    const location = graphQLError
      ? {
          nodes: graphQLError.nodes,
          source: graphQLError.source,
          positions: graphQLError.positions,
          path: graphQLError.path,
        }
      : {}

    // Resolvers' errors can arrive wrapped in more than one GraphQLError: find what was thrown.
    let original: unknown = error
    while (original instanceof GraphQLError && original.originalError) original = original.originalError
    if (isConsentGatewayError(original)) {
      const retryAfter = (original as { retryAfterSeconds?: unknown }).retryAfterSeconds
      // No originalError: yoga counts errors that carry one as unexpected (a 500 for a failed subscription).
      return new GraphQLError(original.message, {
        ...location,
        extensions: {
          code: original.code,
          retryable: original.retryable,
          ...(typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {}),
          requestId,
          errorId: id,
        },
      })
    }
    // A chain that ends in a GraphQLError is GraphQL's own (syntax, validation, armor limits, variable coercion):
    // its message is meant for the client; useErrorExtensions gives it its code.
    if (graphQLError && original instanceof GraphQLError) return graphQLError
    logger.error('unexpected error', { errorId: id, error: original instanceof Error ? original : String(original) })
    return new GraphQLError(message, {
      ...location,
      extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode, requestId, errorId: id },
    })
  }
}

/** GraphiQL's page per request: the pre-filled headers only for a trusted Host, the tabs for everyone. */
function graphiqlPage(graphiql: Exclude<GraphQLServerOptions['graphiql'], false | undefined>) {
  const trusted = new Set((graphiql.trustedHosts ?? []).map((host) => host.toLowerCase()))
  const common = {
    title: 'consent-gateway',
    shouldPersistHeaders: false,
    ...(graphiql.tabs?.length ? { defaultTabs: graphiql.tabs.map((query) => ({ query })) } : {}),
  }
  return (request: Request) => {
    const host = (request.headers.get('host') ?? '').toLowerCase()
    const filled = graphiql.defaultHeaders && trusted.has(host)
    return filled ? { ...common, headers: JSON.stringify(graphiql.defaultHeaders, null, 2) } : common
  }
}

/** What `executeForCaller` hands one operation's context besides the transport's (never an HTTP request's). */
interface OperationContext {
  readonly operationServices?: GraphQLServices | undefined
}

/** What each server keeps for callers a transport authenticated itself: who sent which request, its masking. */
const CALLERS = new WeakMap<
  GraphQLServer,
  {
    principals: WeakMap<Request, Principal>
    mask: ReturnType<typeof maskError>
    rateLimits: GraphQLServices['rateLimits']
    /** What each request's operation costs (schema/cost.ts). */
    costs: QueryCosts
  }
>()

/** One operation of a caller a transport authenticated itself (a graphql-ws connection). */
export interface CallerOperation {
  readonly principal: Principal
  /** As sent: `query`, or `documentId` / `extensions.persistedQuery` for a registered document. */
  readonly params: GraphQLParams & { readonly documentId?: unknown }
  /** Ends the operation (a subscription's stream) when the client completes it or goes away. */
  readonly signal: AbortSignal
  readonly clientAddress?: string | undefined
  /**
   * The use cases this one operation runs with, instead of the server's: a transport that answers a subscription once
   * with the current state and leaves the rest to a poller elsewhere (graphql-ws through API Gateway) hands in
   * stand-ins for the live streams (service/subscription-snapshot.ts).
   * @default the server's services
   */
  readonly services?: GraphQLServices | undefined
}

/**
 * Runs one operation for a caller already authenticated, past everything an HTTP request meets after authentication:
 * the trusted-document rules, the query limits, execution, masking and the errors' extensions, and `extensions.cost` on
 * every result (yoga adds its plugins' result processing only to HTTP answers, so it is added here). A request error
 * (the document refused, invalid, over a limit) is a result without `data`; a subscription's result is its stream.
 */
export async function executeForCaller(
  server: GraphQLServer,
  operation: CallerOperation,
): Promise<ExecutionResult | AsyncIterable<ExecutionResult>> {
  const callers = CALLERS.get(server)
  if (!callers) throw new Error('executeForCaller needs a server made by createGraphQLServer')
  const request = new Request(`http://gateway.invalid${server.graphqlEndpoint}`, {
    method: 'POST',
    signal: operation.signal,
  })
  callers.principals.set(request, operation.principal)
  const context: TransportContext & OperationContext = {
    ...(operation.clientAddress === undefined ? {} : { clientAddress: operation.clientAddress }),
    ...(operation.services ? { operationServices: operation.services } : {}),
  }
  try {
    // Each operation counts against its tenant's limits, as each HTTP request does (schema/rate-limit.ts).
    const decision = await callers.rateLimits?.take(operation.principal.tenantId)
    if (decision && !decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, decision.headers)
    const result = await server.getResultForParams({ params: operation.params, request }, context)
    if (result === undefined)
      return decorateResult({ errors: [callers.mask(new Error('no result'), 'Unexpected error.') as GraphQLError] })
    // Measured at validation: a document refused before it (by the trusted-document rules) has none.
    const cost = callers.costs.get(request)
    const answer = (item: ExecutionResult) => {
      const decorated = decorateResult(item)
      return cost ? withCost(decorated, cost) : decorated
    }
    return isAsyncIterable(result) ? mapAsyncIterator(result, answer) : answer(result)
  } catch (error) {
    // What the parameters' checks throw (the trusted-document rules, yoga's parameter checks): GraphQL errors meant
    // for the client, anything else masked.
    const refusal = error instanceof GraphQLError ? error : (callers.mask(error, 'Unexpected error.') as GraphQLError)
    return decorateResult({ errors: [refusal] })
  }
}

export function createGraphQLServer(options: GraphQLServerOptions): GraphQLServer {
  const principals = new WeakMap<Request, Principal>()
  const costs: QueryCosts = new WeakMap()
  const graphiql = options.graphiql
  const mask = maskError(options.logger)
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
      useTenantRateLimits(options.services.rateLimits, principals),
      useApiClientAuthentication(options.authenticator, principals),
      useMalformedParameters(),
      useTrustedOperations(options.services.trustedDocuments, principals),
      useCredentialRecheck(mask),
      useMaxTokens(LIMITS.maxTokens),
      ...armorPlugins(),
      useQueryCost(LIMITS.costLimit, costs),
      useErrorExtensions(),
      useApolloMultipartSubscriptions(options.apolloMultipart),
      // Last: the outermost wrapper of the request handler.
      useRequestGuard(options.logger),
    ],
    context: ({ request, operationServices }: { request: Request } & OperationContext) => ({
      principal: principals.get(request) ?? null,
      requestId: currentRequestId() ?? randomUUID(),
      signal: request.signal,
      services: operationServices ?? options.services,
      derived: new WeakMap(),
    }),
  })
  CALLERS.set(server, { principals, mask, rateLimits: options.services.rateLimits, costs })
  return server
}

/** The HTTP status a domain error code maps to, for transports that answer outside GraphQL. */
export const httpStatusOf = (code: ErrorCode): number => ERROR_CATALOGUE[code].httpStatus
