// The one error masking point of the GraphQL server, and the extensions every error leaves with: domain errors keep
// their message and catalogue code, GraphQL's own pass with theirs, anything else is logged and shown as
// INTERNAL_SERVER_ERROR; each carries `code`, `requestId` and `errorId`.
import { randomUUID } from 'node:crypto'
import { GraphQLError } from 'graphql'
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga'
import { isConsentGatewayError, type ErrorCode } from '../domain/errors.ts'
import type { Logger } from '../runtime/logging.ts'
import { currentRequestId } from '../runtime/request-scope.ts'

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
  // yoga's executor marks the variables it cannot coerce 400 under either media type: they are request errors too.
  const given = extensions.http
  const http = parserFailure
    ? { ...given, status: 400, spec: false }
    : requestError && code.startsWith('GRAPHQL_') && (given === undefined || given.status === 400)
      ? { ...given, status: 400, spec: true }
      : given
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
export function useErrorExtensions(): Plugin {
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
