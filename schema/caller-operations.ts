// Operations of callers a transport authenticated itself (graphql-ws connections, over node:http or API Gateway): each
// runs past everything an HTTP request meets after authentication, on the server createGraphQLServer made.
import { GraphQLError, type ExecutionResult } from 'graphql'
import { isAsyncIterable, mapAsyncIterator, type GraphQLParams } from 'graphql-yoga'
import { RateLimitedError } from '../domain/errors.ts'
import type { Principal } from '../service/principal.ts'
import type { GraphQLServices } from './context.ts'
import { withCost, type QueryCosts } from './cost.ts'
import { decorateResult, type maskError } from './error-masking.ts'
import { rateLimitFields } from './rate-limit.ts'
import type { TransportContext } from './request-guard.ts'
import type { GraphQLServer } from './server.ts'

/** What `executeForCaller` hands one operation's context besides the transport's (never an HTTP request's). */
export interface OperationContext {
  readonly operationServices?: GraphQLServices | undefined
}

/** What a server keeps for callers a transport authenticated itself: who sent which request, its masking. */
export interface ServerCallers {
  readonly principals: WeakMap<Request, Principal>
  readonly mask: ReturnType<typeof maskError>
  readonly rateLimits: GraphQLServices['rateLimits']
  /** What each request's operation costs (schema/cost.ts). */
  readonly costs: QueryCosts
}

const CALLERS = new WeakMap<GraphQLServer, ServerCallers>()

/** Called by createGraphQLServer for each server it makes, so `executeForCaller` can run operations on it. */
export function rememberCallers(server: GraphQLServer, callers: ServerCallers): void {
  CALLERS.set(server, callers)
}

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
    if (decision && !decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, rateLimitFields(decision))
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
