// One Finqware API call end to end: request id, injected faults, JSON body, internal-mode auth, error rendering.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { FaultInjector } from '../shared/faults.ts'
import { BodyTooLargeError, readBody, sendJson, type RouteHandler, type SandboxRequest } from '../shared/http.ts'
import { FinqwareApiError, badRequest, errorBody, unauthorized } from './errors.ts'
import type { FinqwareClient } from './options.ts'

export interface ApiCall {
  requestId: string
  body: Record<string, unknown>
  client: Required<FinqwareClient>
}

export interface ApiAnswer {
  status: number
  body: Record<string, unknown>
}

export type ApiOperation = (call: ApiCall) => Promise<ApiAnswer> | ApiAnswer

export interface ApiCallContext {
  faults: FaultInjector
  clients: readonly Required<FinqwareClient>[]
  /** Runs before every authenticated operation: the lazy deadline sweep. */
  beforeOperation: () => void
}

/** `request_id` is "from x-request-id header" (finqware.md 1.1): echo it, or make one up. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const header = headers['x-request-id']
  const value = Array.isArray(header) ? header[0] : header
  return value && value.length <= 128 ? value : randomUUID()
}

/** Answers with Finqware's error body, echoing the request id as a header too. */
export function sendFinqwareError(
  response: ServerResponse,
  requestId: string,
  status: number,
  code: string,
  message: string,
): void {
  sendJson(response, status, errorBody(requestId, code, message), { 'x-request-id': requestId })
}

/** Wraps an operation as a route: every AIS endpoint is a POST with a JSON body (finqware.md 1.1). */
export function apiEndpoint(context: ApiCallContext, operation: ApiOperation): RouteHandler {
  return async (request: SandboxRequest, response: ServerResponse) => {
    const requestId = requestIdOf(request.headers)
    try {
      await context.faults.applyDelay()
      const text = await readBody(request.raw)
      // Injected failures change nothing: they answer before the body is even looked at.
      const failure = context.faults.takeFailure()
      if (failure) {
        sendFinqwareError(response, requestId, failure.status, failure.code, 'injected failure (sandbox fault control)')
        return
      }
      const body = parseJsonObject(text)
      const client = authenticate(body, context.clients)
      context.beforeOperation()
      const answer = await operation({ requestId, body, client })
      sendJson(response, answer.status, answer.body, { 'x-request-id': requestId })
    } catch (error) {
      if (error instanceof FinqwareApiError) {
        sendFinqwareError(response, requestId, error.status, error.code, error.message)
      } else if (error instanceof BodyTooLargeError) {
        // Finqware's code for an oversized body is undocumented [?]; bad_request with HTTP 413 is our pick.
        sendFinqwareError(response, requestId, 413, 'bad_request', error.message)
      } else {
        throw error
      }
    }
  }
}

function parseJsonObject(text: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw badRequest('request body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('request body must be a JSON object')
  }
  return parsed as Record<string, unknown>
}

/**
 * Internal (non-OAuth2) mode only: `client_id` and `client_secret` in the body. The OAuth2 Bearer mode is not
 * simulated (its token endpoint is undocumented, finqware.md 1.1 [?]); a Bearer header alone is refused with 401.
 */
function authenticate(
  body: Record<string, unknown>,
  clients: readonly Required<FinqwareClient>[],
): Required<FinqwareClient> {
  const { client_id: clientId, client_secret: clientSecret } = body
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || clientId === '' || clientSecret === '') {
    throw unauthorized('client_id and client_secret are required')
  }
  const client = clients.find((known) => known.clientId === clientId && known.clientSecret === clientSecret)
  if (!client) throw unauthorized('invalid client credentials')
  return client
}

/** Reads a required string field, e.g. `consent_id` (max 128 per the docs). */
export function requiredId(body: Record<string, unknown>, field: string): string {
  const value = body[field]
  if (typeof value !== 'string' || value === '' || value.length > 128) {
    throw new FinqwareApiError(400, 'validation_error', `${field} is required (a string of 1 to 128 characters)`)
  }
  return value
}
