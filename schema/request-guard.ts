// What a GraphQL request goes through before GraphQL runs, as yoga plugins: authentication (with the caller's network
// address for the failure limits, and a web page's origin checked against the caller's tenant), malformed parameters as a 400, and the one guard around all of it that answers any
// error thrown on the way as typed JSON. Nothing reaches @whatwg-node/server's own error handler, which answers with
// the error's stack whatever NODE_ENV says.
import { randomUUID } from 'node:crypto'
import { GraphQLError } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import {
  ERROR_CATALOGUE,
  InvalidTokenError,
  isConsentGatewayError,
  OriginNotAllowedError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  type ErrorCode,
} from '../domain/errors.ts'
import type { Authenticator, Principal } from '../service/principal.ts'
import type { RateLimitDecision } from '../service/rate-limiter.ts'
import type { Logger } from '../runtime/logging.ts'
import { currentRequestId } from '../runtime/request-scope.ts'

/** What a transport tells the server about a request beyond the request itself. */
export interface TransportContext {
  /**
   * The caller's address as the platform saw it (on Lambda, `requestContext.http.sourceIp`). Without it, node:http's
   * socket address. Never taken from a header: X-Forwarded-For is whatever the caller wants it to be.
   */
  readonly clientAddress?: string
  /** A page's cross-origin request (http/cors.ts): asked, once the caller is known, whether its origin may call. */
  readonly webOrigin?: WebOriginCheck
}

/** Whether a web page's origin may call the API with a tenant's credentials. */
export interface WebOriginCheck {
  /** The page's origin, as its browser sent it. */
  readonly origin: string
  /** Whether pages on the origin may call with the credentials of `tenantId`'s callers. */
  allows(tenantId: string): Promise<boolean>
}

/**
 * What the fast path (fast-path.ts) decided before it handed a request to yoga: the credential failed (yoga's guard
 * answers the error), or it held and the request was counted against the tenant's limits (the decision as the limiter
 * gave it, failure included; null when the process applies no limits).
 */
export type Handover =
  { readonly failed: unknown } | { readonly principal: Principal; readonly counted: Promise<RateLimitDecision | null> }

export type Handovers = WeakMap<Request, Handover>

/** The cross-origin check the transport handed over, if the request is a page's. */
function webOriginOf(serverContext: unknown): WebOriginCheck | null {
  const check = (serverContext as { webOrigin?: WebOriginCheck } | null | undefined)?.webOrigin
  return check && typeof check.allows === 'function' ? check : null
}

/** The caller's network address, or null when the transport does not know it. */
export function clientAddressOf(serverContext: unknown): string | null {
  const context = serverContext as
    { clientAddress?: unknown; req?: { socket?: { remoteAddress?: unknown } } } | null | undefined
  if (typeof context?.clientAddress === 'string' && context.clientAddress) return context.clientAddress
  const remote = context?.req?.socket?.remoteAddress
  return typeof remote === 'string' && remote ? remote : null
}

/** A GraphQL-over-HTTP error response, for requests stopped before execution (401, 413, 429, 503). */
export function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
  extensions: Record<string, unknown> = {},
): Response {
  const body = {
    errors: [{ message, extensions: { code, requestId: currentRequestId(), errorId: randomUUID(), ...extensions } }],
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/graphql-response+json; charset=utf-8', ...headers },
  })
}

/** The answer to an error that stopped a request before GraphQL ran: typed, never the error's own text if unexpected. */
export function responseForError(error: unknown, logger: Logger): Response {
  if (error instanceof UnauthorizedError) {
    return errorResponse(401, error.code, error.message, { 'www-authenticate': challengeFor(error) })
  }
  if (error instanceof RateLimitedError || error instanceof ServiceUnavailableError) {
    const retryAfter = String(error.retryAfterSeconds)
    const fields = error instanceof RateLimitedError ? error.responseHeaders : {}
    return errorResponse(
      error.httpStatus,
      error.code,
      error.message,
      { ...fields, 'retry-after': retryAfter },
      { retryable: true, retryAfterSeconds: error.retryAfterSeconds },
    )
  }
  if (isConsentGatewayError(error)) {
    return errorResponse(error.httpStatus, error.code, error.message, {}, { retryable: error.retryable })
  }
  const errorId = randomUUID()
  logger.error('unexpected error before GraphQL ran', { errorId, error })
  return errorResponse(
    500,
    'INTERNAL_SERVER_ERROR',
    'Unexpected error.',
    {},
    { retryable: ERROR_CATALOGUE.INTERNAL_SERVER_ERROR.retryable, errorId },
  )
}

/**
 * The `WWW-Authenticate` challenge of a 401: for a bearer token that does not hold, RFC 6750's `invalid_token` with
 * the reason; otherwise both schemes the API takes.
 */
export function challengeFor(error: UnauthorizedError): string {
  if (error instanceof InvalidTokenError) {
    return `Bearer realm="consent-gateway", error="invalid_token", error_description="${error.message.replace(/["\\]/g, "'")}"`
  }
  return 'Basic realm="consent-gateway", charset="UTF-8", Bearer realm="consent-gateway"'
}

const isGraphiQLPageRequest = (request: Request) =>
  request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')

/**
 * The caller of `request`: its credentials verified (with the caller's address, for the failure limits), and a page's
 * origin checked against the caller's tenant (403 ORIGIN_NOT_ALLOWED when not registered). Throws what yoga's guard
 * answers.
 */
export async function authenticateRequest(
  authenticator: Authenticator,
  request: Request,
  serverContext: unknown,
): Promise<Principal> {
  const principal = await authenticator.authenticate(request.headers.get('authorization'), {
    source: clientAddressOf(serverContext),
  })
  // A page on another tenant's origin may not use this tenant's credentials (a token it got hold of).
  const webOrigin = webOriginOf(serverContext)
  if (webOrigin && !(await webOrigin.allows(principal.tenantId))) {
    throw new OriginNotAllowedError(webOrigin.origin)
  }
  return principal
}

/**
 * Authenticates every GraphQL request before it is parsed; nothing is executed without valid credentials, nor for a
 * page whose origin the caller's tenant has not registered (403 ORIGIN_NOT_ALLOWED). It runs as
 * a wrapper of the request handler (not in the hook itself), so {@link useRequestGuard} answers whatever it throws:
 * 401, 429 with Retry-After, 503 with Retry-After when the store cannot answer. A request the fast path handed over
 * (schema/fast-path.ts) was authenticated there: its outcome is taken as it is, not checked (nor counted) again.
 */
export function useApiClientAuthentication(
  authenticator: Authenticator,
  principals: WeakMap<Request, Principal>,
  handovers: Handovers = new WeakMap(),
): Plugin<Record<string, unknown>, TransportContext> {
  return {
    onRequest(payload) {
      if (payload.request.method === 'OPTIONS' || isGraphiQLPageRequest(payload.request)) return
      payload.setRequestHandler(async (request, serverContext) => {
        const handover = handovers.get(request)
        if (handover && 'failed' in handover) throw handover.failed
        const principal = handover
          ? handover.principal
          : await authenticateRequest(authenticator, request, serverContext)
        principals.set(request, principal)
        return payload.requestHandler(request, serverContext)
      })
    },
  }
}

/**
 * The outermost wrapper of the request handler (list it after every plugin that wraps the handler): whatever is thrown
 * inside, by authentication or anything else, becomes a typed JSON answer here.
 */
export function useRequestGuard(logger: Logger): Plugin<Record<string, unknown>, TransportContext> {
  return {
    onRequest(payload) {
      payload.setRequestHandler(async (request, serverContext) => {
        try {
          return await payload.requestHandler(request, serverContext)
        } catch (error) {
          return responseForError(error, logger)
        }
      })
    },
  }
}

/**
 * GraphQL parameters that do not parse (a GET's or a form's `variables` or `extensions` that are not JSON) are a
 * malformed request, 400 BAD_REQUEST, not an internal error: yoga's parsers let JSON.parse's SyntaxError through.
 */
export function useMalformedParameters(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return
      setRequestParser(async (request) => {
        try {
          return await requestParser(request)
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error
          throw new GraphQLError('Malformed request: `variables` and `extensions` must be JSON objects', {
            extensions: { code: 'BAD_REQUEST' satisfies ErrorCode, http: { status: 400 } },
          })
        }
      })
    },
  }
}
