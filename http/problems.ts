// The app's own answers when a request goes no further than HTTP: a small JSON problem (`{ error, requestId }`) on
// every route but /graphql, where a GraphQL client expects a GraphQL error (`errors[].extensions.code`). No answer
// ever carries an error's own text: what went wrong is logged under the request id the client is given.
import { randomUUID } from 'node:crypto'
import { ServiceUnavailableError, type ErrorCode } from '../domain/errors.ts'
import type { HttpContext } from './env.ts'
import type { Logger } from '../runtime/logging.ts'

const JSON_TYPE = 'application/json; charset=utf-8'
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8'

/** `{ error, requestId }` with `status`: the refusals of the provider, browser and operator routes. */
export function problem(
  c: HttpContext,
  status: number,
  error: string,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(JSON.stringify({ error, requestId: c.get('requestId') }), {
    status,
    headers: { 'content-type': JSON_TYPE, ...headers },
  })
}

/** A GraphQL-over-HTTP error answer, for a GraphQL request refused before GraphQL runs (411, 413). */
export function graphqlProblem(
  c: HttpContext,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): Response {
  const extensions = { code, requestId: c.get('requestId'), errorId: randomUUID() }
  return new Response(JSON.stringify({ errors: [{ message, extensions }] }), {
    status,
    headers: { 'content-type': GRAPHQL_RESPONSE_TYPE, ...headers },
  })
}

/** A path the app does not serve. */
/**
 * The token endpoint's own refusals before its handler runs (method, length, size), in RFC 6749 §5.2's shape like every
 * other answer there: `invalid_request`, never cached.
 */
export function oauthProblem(
  c: HttpContext,
  status: number,
  description: string,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(
    JSON.stringify({ error: 'invalid_request', error_description: description, requestId: c.get('requestId') }),
    { status, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', pragma: 'no-cache', ...headers } },
  )
}

export const notFound = (c: HttpContext): Response => problem(c, 404, 'not_found')

/** A path the app serves, asked with a method it does not: 405 naming the ones it does. */
export const methodNotAllowed =
  (...allowed: readonly string[]) =>
  (c: HttpContext): Response =>
    problem(c, 405, 'method_not_allowed', { allow: allowed.join(', ') })

/**
 * What a route threw: the store unavailable is a 503 with Retry-After (the caller retries); anything else is logged
 * and answered as a bare 500, never with the error's text.
 */
export function errorAnswer(logger: Logger) {
  return (error: unknown, c: HttpContext): Response => {
    if (error instanceof ServiceUnavailableError) {
      return problem(c, 503, 'retry_later', { 'retry-after': String(error.retryAfterSeconds) })
    }
    logger.error('request failed', { error, path: c.req.path })
    return problem(c, 500, 'internal_error')
  }
}
