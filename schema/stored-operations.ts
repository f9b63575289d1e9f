// A stored graphql-ws subscription run against one change, outside any connection (the poller on AWS): graphql's
// `execute` on the subscription operation with the change as root value, so the root field's `resolve` gets the
// change as its source, under a context like yoga's (the restored principal, the services, a fresh derived-state map),
// and the answer goes through the same masking, error extensions, `extensions.cost` and formatting as every other.
// Nothing is validated again: the document passed every check when it was subscribed.
import { randomUUID } from 'node:crypto'
import {
  execute,
  GraphQLError,
  parse,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
} from 'graphql'
import type { Logger } from '../runtime/logging.ts'
import type { Principal } from '../service/principal.ts'
import type { GraphQLContext, GraphQLServices } from './context.ts'
import { queryCostOf, withCost, type QueryCost } from './cost.ts'
import { formatResult } from './formatted-result.ts'
import { schema } from './index.ts'
import { LIMITS } from './limits.ts'
import { decorateResult, maskError } from './error-masking.ts'
import { currentRequestId, runInRequestScope } from '../runtime/request-scope.ts'

/** What a subscription stored of its operation: the document's text (a trusted document's, resolved), as sent. */
export interface StoredOperation {
  readonly query: string
  readonly variables: Record<string, unknown> | null
  readonly operationName: string | null
}

/**
 * Runs one stored operation for its principal with `payload` as the subscription field's source (a consent for
 * `consentUpdated`, `{ node, cursor }` for `consentEvents`); the `next` message's payload.
 */
export type RunStoredOperation = (
  operation: StoredOperation,
  principal: Principal,
  payload: unknown,
) => Promise<FormattedExecutionResult>

/** Runs stored operations; `forTick()` gives a runner that parses each distinct text once. */
export interface StoredOperations {
  forTick(): RunStoredOperation
}

type Parsed = { readonly document: DocumentNode; readonly costs: Map<string | null, QueryCost | null> } | GraphQLError

/** Nothing aborts a stored operation's run: its connection is not here to go away. */
const NEVER_ABORTED = new AbortController().signal

export function storedOperations(services: GraphQLServices, logger: Logger): StoredOperations {
  const mask = maskError(logger)
  return {
    forTick() {
      const parsed = new Map<string, Parsed>()
      const parseOnce = (text: string): Parsed => {
        let entry = parsed.get(text)
        if (!entry) {
          try {
            entry = { document: parse(text, { maxTokens: LIMITS.maxTokens }), costs: new Map() }
          } catch (error) {
            entry = error instanceof GraphQLError ? error : new GraphQLError('The stored document does not parse.')
          }
          parsed.set(text, entry)
        }
        return entry
      }
      const run: RunStoredOperation = async (operation, principal, payload) => {
        const entry = parseOnce(operation.query)
        if (entry instanceof GraphQLError) return formatResult(decorateResult({ errors: [entry] }))
        let cost = entry.costs.get(operation.operationName)
        if (cost === undefined) {
          cost = queryCostOf(schema, entry.document, operation.operationName, LIMITS.costLimit)
          entry.costs.set(operation.operationName, cost)
        }
        const contextValue: GraphQLContext = {
          principal,
          requestId: currentRequestId() ?? randomUUID(),
          signal: NEVER_ABORTED,
          services,
        }
        const result: ExecutionResult = await execute({
          schema,
          document: entry.document,
          rootValue: payload,
          contextValue,
          variableValues: operation.variables ?? undefined,
          operationName: operation.operationName ?? undefined,
        })
        const masked = result.errors?.length
          ? { ...result, errors: result.errors.map((error) => mask(error, 'Unexpected error.') as GraphQLError) }
          : result
        const decorated = decorateResult(masked)
        return formatResult(cost ? withCost(decorated, cost) : decorated)
      }
      // Errors carry a request id: the run's (a Lambda invocation's), or one of its own outside any.
      return (operation, principal, payload) =>
        currentRequestId() === undefined
          ? runInRequestScope({ requestId: randomUUID() }, () => run(operation, principal, payload))
          : run(operation, principal, payload)
    },
  }
}
