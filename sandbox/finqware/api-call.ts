// One Finqware API call end to end: request id, injected faults, JSON body, authentication (OAuth2 bearer token or
// the internal mode's body secret), error rendering.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { FaultInjector } from '../shared/faults.ts'
import { BodyTooLargeError, readBody, sendJson, type RouteHandler, type SandboxRequest } from '../shared/http.ts'
import { FinqwareApiError, badRequest, errorBody, unauthorized } from './errors.ts'
import type { TokenIssuer } from './oauth2.ts'
import type { FinqwareAuthMode, FinqwareClient } from './options.ts'

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
  authMode: FinqwareAuthMode
  tokens: TokenIssuer
  /** Runs before every authenticated operation: the lazy deadline sweep. */
  beforeOperation: () => void
}

/** `request_id` is "from x-request-id header" (Finqware's Create Consent page): echo it, or make one up. */
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

/** Wraps an operation as a route: every AIS endpoint is a POST with a JSON body (Finqware's changelog). */
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
      const client =
        context.authMode === 'oauth2'
          ? authenticateBearer(body, request.headers.authorization, context)
          : authenticateInternal(body, context.clients)
      context.beforeOperation()
      const answer = await operation({ requestId, body, client })
      sendJson(response, answer.status, answer.body, { 'x-request-id': requestId })
    } catch (error) {
      if (error instanceof FinqwareApiError) {
        sendFinqwareError(response, requestId, error.status, error.code, error.message)
      } else if (error instanceof BodyTooLargeError) {
        // Finqware's code for an oversized body is not published; bad_request with HTTP 413 is our pick.
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
 * Internal (non-OAuth2) mode, which Finqware calls test-only: `client_id` and `client_secret` in the body. A Bearer
 * header alone is refused with 401.
 */
function authenticateInternal(
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

/**
 * OAuth2 mode: a valid `Authorization: Bearer` token, and `client_id` in the body still (Finqware requires it in
 * both modes) naming the client the token was issued to. A body carrying `client_secret` is refused: the secret
 * belongs at the token endpoint, and a client that sends it in every body in production is misconfigured.
 */
function authenticateBearer(
  body: Record<string, unknown>,
  authorization: string | undefined,
  context: ApiCallContext,
): Required<FinqwareClient> {
  if (body.client_secret !== undefined) {
    throw unauthorized('client_secret is not accepted in OAuth2 mode: authenticate with a Bearer token')
  }
  const tokenClient = context.tokens.clientOfBearer(authorization)
  if (tokenClient === null) throw unauthorized('a valid Bearer token is required (missing, unknown or expired)')
  const clientId = body.client_id
  if (typeof clientId !== 'string' || clientId === '') throw unauthorized('client_id is required')
  const client = context.clients.find((known) => known.clientId === clientId)
  if (!client || client.clientId !== tokenClient) throw unauthorized('the token was not issued to this client_id')
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
