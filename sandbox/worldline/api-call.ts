// One AIS (or directory) call end to end: injected faults, Bearer token, X-Request-ID and MessageCreateDateTime,
// JSON body, the expiry sweep, and Worldline's error body.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { FaultInjector } from '../shared/faults.ts'
import { BodyTooLargeError, readBody, sendJson, type RouteHandler, type SandboxRequest } from '../shared/http.ts'
import {
  WorldlineApiError,
  accessTokenExpired,
  schemaViolation,
  unauthorized,
  type WorldlineErrorBody,
} from './errors.ts'
import type { TokenStore } from './tokens.ts'

export interface AisCall {
  params: Readonly<Record<string, string>>
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** The parsed JSON body; undefined when there is none. */
  body: unknown
}

export interface AisAnswer {
  status: number
  /** Undefined answers with an empty body (DELETE's 204). */
  body?: unknown
}

export type AisOperation = (call: AisCall) => Promise<AisAnswer> | AisAnswer

export interface AisCallContext {
  faults: FaultInjector
  tokens: TokenStore
  /** Runs before every authenticated operation: the lazy expiry sweep. */
  beforeOperation: () => void
}

export interface AisEndpointOptions {
  /**
   * Require `X-Request-ID` (a UUID) and `MessageCreateDateTime` (ISO-8601), as every AIS operation does
   * (docs/providers.md, Worldline evidence: Auth). The directory route only needs the token and `Service` in the contract, so it passes false.
   * @default true
   */
  requireMessageHeaders?: boolean
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Date and time with at least minutes, optional seconds and fraction, optional offset (ISO-8601 extended). */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/

/** Wraps an operation as a route; `X-Request-ID` is echoed on every answer, errors included, when the call sent one. */
export function aisEndpoint(
  context: AisCallContext,
  operation: AisOperation,
  options: AisEndpointOptions = {},
): RouteHandler {
  const requireMessageHeaders = options.requireMessageHeaders ?? true
  return async (request: SandboxRequest, response: ServerResponse) => {
    const echo = echoHeaders(request.headers)
    try {
      await context.faults.applyDelay()
      const text = await readBody(request.raw)
      // Injected failures change nothing: they answer before the token or the body is even looked at.
      const failure = context.faults.takeFailure()
      if (failure) {
        const body: WorldlineErrorBody = { Code: failure.code, Message: 'injected failure (sandbox fault control)' }
        sendJson(response, failure.status, body, echo)
        return
      }
      authenticate(request.headers, context.tokens)
      if (requireMessageHeaders) checkMessageHeaders(request.headers)
      const body = parseJson(text)
      context.beforeOperation()
      const answer = await operation({
        params: request.params,
        query: request.url.searchParams,
        headers: request.headers,
        body,
      })
      if (answer.body === undefined) {
        response.writeHead(answer.status, { ...echo, 'cache-control': 'no-store' })
        response.end()
      } else {
        sendJson(response, answer.status, answer.body, echo)
      }
    } catch (error) {
      if (error instanceof WorldlineApiError) {
        const challenge: Record<string, string> =
          error.status === 401 && error.code === '021' ? { 'www-authenticate': 'Bearer' } : {}
        sendJson(response, error.status, error.body, { ...echo, ...challenge })
      } else if (error instanceof BodyTooLargeError) {
        sendJson(response, 413, tooLargeBody(error.message), echo)
      } else {
        throw error
      }
    }
  }
}

function authenticate(headers: IncomingHttpHeaders, tokens: TokenStore): void {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')
  if (!match) throw unauthorized('Authorization: Bearer <access token> is required')
  const check = tokens.check(match[1] ?? '')
  if (check === 'expired') throw accessTokenExpired()
  if (check === 'unknown') throw unauthorized('the access token is not valid')
}

function checkMessageHeaders(headers: IncomingHttpHeaders): void {
  const requestId = single(headers, 'x-request-id')
  if (requestId === undefined) throw schemaViolation('the X-Request-ID header is required')
  if (!UUID.test(requestId)) throw schemaViolation(`X-Request-ID must be a UUID, got ${requestId.slice(0, 60)}`)
  const created = single(headers, 'messagecreatedatetime')
  if (created === undefined) throw schemaViolation('the MessageCreateDateTime header is required')
  if (!ISO_DATE_TIME.test(created) || Number.isNaN(Date.parse(created))) {
    throw schemaViolation(`MessageCreateDateTime must be an ISO-8601 date and time, got ${created.slice(0, 40)}`)
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw schemaViolation('the request body is not valid JSON')
  }
}

/**
 * The call's `X-Request-ID`, to send back as is when it is one the spec allows (1 to 36 characters); otherwise the
 * answer keeps the fresh one the server gave every answer.
 */
export function echoHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const requestId = single(headers, 'x-request-id')
  return requestId !== undefined && requestId.length <= 36 ? { 'X-Request-ID': requestId } : {}
}

/**
 * A body over the size limit: HTTP's 413 (a front server's answer: Worldline's error table has no 413), with the
 * table's 001 "Bad client request" as the nearest code.
 */
export function tooLargeBody(message: string): WorldlineErrorBody {
  return { Code: '001', Message: message.slice(0, 140) }
}

export function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  return text === undefined || text === '' ? undefined : text
}
