// The OAuth 2.0 endpoints as plain fetch handlers, for the HTTP app to mount: `POST /oauth/token` (client credentials,
// RFC 6749 §4.4, and token exchange for one end user, RFC 8693; clients authenticate with client_secret_basic or
// client_secret_post, through the same authenticator, caches and failure limits as HTTP Basic on /graphql) and
// `GET /.well-known/jwks.json` (the public keys every token verifies with). Errors are RFC 6749 §5.2's.
import { randomUUID } from 'node:crypto'
import { RateLimitedError, ServiceUnavailableError, UnauthorizedError, ValidationError } from '../domain/errors.ts'
import type { RequestHandler as FetchHandler, RequestInfo as OAuthRequestInfo } from './env.ts'
import type { AccessTokens, IssuedToken } from '../service/access-tokens.ts'
import type { AuthenticationAttempt, ApiClientPrincipal } from '../service/principal.ts'
import { PARTNER_SCOPE, USER_TOKEN_SCOPES } from '../service/principal.ts'
import type { Logger } from '../runtime/logging.ts'

/** RFC 8693's grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
/**
 * Our subject token type for token exchange: the subject token is a user id of the authenticated client's tenant
 * (the partner's own reference for its end user, as consents carry it), not a token. The client's credentials vouch
 * for it, as they do in `createUserToken`.
 */
export const USER_ID_TOKEN_TYPE = 'urn:consent-gateway:params:oauth:token-type:user-id'
/** What the exchange issues (RFC 8693 §3): an access token. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

/** Form bodies larger than this are refused: a token request is a few hundred bytes. */
const MAX_BODY_BYTES = 8 * 1024
const CLIENT_CHALLENGE = 'Basic realm="consent-gateway", charset="UTF-8"'
/** Token answers must never be cached (RFC 6749 §5.1). */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

export interface TokenEndpointDependencies {
  /** API clients by their secret: the gateway's ApiClientAuthenticator (scrypt, caches, failure limits). */
  readonly clients: {
    authenticate(authorization: string, attempt?: AuthenticationAttempt): Promise<ApiClientPrincipal>
  }
  readonly tokens: AccessTokens
  readonly logger: Logger
}

type OAuthError =
  | 'invalid_request'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'temporarily_unavailable'
  | 'server_error'

/** An error answer of RFC 6749 §5.2 (and RFC 8693's invalid_target), thrown while a request is read. */
class OAuthFailure extends Error {
  constructor(
    readonly error: OAuthError,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description)
  }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers },
  })

const failure = (failed: OAuthFailure) =>
  json(failed.status, { error: failed.error, error_description: failed.description }, failed.headers)

/**
 * `POST /oauth/token`. Everything that costs nothing is checked before the client's secret (an unsupported grant
 * costs no scrypt); the client is then authenticated exactly as HTTP Basic is on /graphql.
 */
export function createTokenHandler(deps: TokenEndpointDependencies): FetchHandler {
  return async (request, info = {}) => {
    try {
      if (request.method !== 'POST') {
        throw new OAuthFailure('invalid_request', 'The token endpoint takes POST only', 405, { allow: 'POST' })
      }
      if (!deps.tokens.enabled) {
        throw new OAuthFailure('temporarily_unavailable', 'No token signing keys are configured', 503)
      }
      const params = await formOf(request)
      const grant = grantOf(params)
      const principal = await authenticateClient(deps, request, params, info)
      return json(200, await grant(principal))
    } catch (error) {
      if (error instanceof OAuthFailure) return failure(error)
      const errorId = randomUUID()
      deps.logger.error('token request failed', { errorId, error })
      return failure(new OAuthFailure('server_error', `Unexpected error (errorId ${errorId})`, 500))
    }
  }

  /** The grant the request asks for, its parameters checked; it runs once the client is authenticated. */
  function grantOf(params: Map<string, string>): (client: ApiClientPrincipal) => Promise<Record<string, unknown>> {
    const grantType = params.get('grant_type')
    if (!grantType) throw new OAuthFailure('invalid_request', 'grant_type is required')
    if (grantType === 'client_credentials') {
      const scopes = scopesOf(params.get('scope') ?? PARTNER_SCOPE)
      if (scopes.some((scope) => scope !== PARTNER_SCOPE)) {
        throw new OAuthFailure('invalid_scope', `An API client's token has the one scope "${PARTNER_SCOPE}"`)
      }
      return async (client) => {
        try {
          return tokenAnswer(await deps.tokens.issueForClient(client))
        } catch (error) {
          throw failureOfAuthentication(error)
        }
      }
    }
    if (grantType === TOKEN_EXCHANGE_GRANT) return exchangeOf(params)
    throw new OAuthFailure(
      'unsupported_grant_type',
      `Supported grant types: client_credentials, ${TOKEN_EXCHANGE_GRANT}`,
    )
  }

  /** RFC 8693 token exchange: the subject is a user id of the client's tenant; the token acts for that user. */
  function exchangeOf(params: Map<string, string>): (client: ApiClientPrincipal) => Promise<Record<string, unknown>> {
    const userId = params.get('subject_token')
    if (!userId) throw new OAuthFailure('invalid_request', 'subject_token (the user id) is required')
    if (params.get('subject_token_type') !== USER_ID_TOKEN_TYPE) {
      throw new OAuthFailure('invalid_request', `subject_token_type must be ${USER_ID_TOKEN_TYPE}`)
    }
    if (params.has('actor_token') || params.has('actor_token_type')) {
      throw new OAuthFailure('invalid_request', 'actor_token is not supported: the authenticated client is the actor')
    }
    const requested = params.get('requested_token_type')
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) {
      throw new OAuthFailure('invalid_request', `requested_token_type can only be ${ACCESS_TOKEN_TYPE}`)
    }
    for (const target of ['audience', 'resource']) {
      const value = params.get(target)
      if (value !== undefined && value !== deps.tokens.audience) {
        throw new OAuthFailure('invalid_target', `Tokens are issued for ${deps.tokens.audience} only`)
      }
    }
    const scopes = scopesOf(params.get('scope') ?? 'consents:read')
    const unknown = scopes.filter((scope) => !(USER_TOKEN_SCOPES as readonly string[]).includes(scope))
    if (unknown.length || scopes.length === 0) {
      throw new OAuthFailure('invalid_scope', `A user's token may have ${USER_TOKEN_SCOPES.join(' and ')}`)
    }
    const expiresIn = params.get('expires_in')
    if (expiresIn !== undefined && !/^\d{1,9}$/.test(expiresIn)) {
      throw new OAuthFailure('invalid_request', 'expires_in must be a whole number of seconds')
    }
    const consentIds = params.has('consent_ids') ? scopesOf(params.get('consent_ids') ?? '') : null
    return async (client) => {
      let token: IssuedToken
      try {
        token = await deps.tokens.issueForUser(client, {
          userId,
          scopes,
          expiresInSeconds: expiresIn === undefined ? null : Number(expiresIn),
          consentIds,
        })
      } catch (error) {
        if (error instanceof ValidationError) {
          const described = error.issues.map((issue) => `${PARAMETER[issue.path] ?? issue.path}: ${issue.message}`)
          throw new OAuthFailure('invalid_request', described.join('; '))
        }
        // The client disabled since its secret was verified (UNAUTHORIZED), or the store out of reach.
        throw failureOfAuthentication(error)
      }
      return { ...tokenAnswer(token), issued_token_type: ACCESS_TOKEN_TYPE }
    }
  }
}

/** The request parameters a validation issue's path names. */
const PARAMETER: Record<string, string> = {
  userId: 'subject_token',
  scopes: 'scope',
  expiresInSeconds: 'expires_in',
  consentIds: 'consent_ids',
}

const tokenAnswer = (token: IssuedToken) => ({
  access_token: token.accessToken,
  token_type: token.tokenType,
  expires_in: token.expiresIn,
  scope: token.scope,
})

/** Space-separated values (scopes, consent ids), empty ones dropped. */
const scopesOf = (value: string): string[] => [...new Set(value.split(' ').filter(Boolean))]

/**
 * The form's parameters. RFC 6749 §3.1-3.2: the body is `application/x-www-form-urlencoded`, a parameter sent twice
 * is an error, and one sent empty counts as omitted.
 */
async function formOf(request: Request): Promise<Map<string, string>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthFailure('invalid_request', 'Send the parameters as application/x-www-form-urlencoded')
  }
  const body = await boundedText(request, MAX_BODY_BYTES)
  if (body === null) throw new OAuthFailure('invalid_request', `The body exceeds ${MAX_BODY_BYTES} bytes`, 413)
  const params = new Map<string, string>()
  const seen = new Set<string>()
  for (const [name, value] of new URLSearchParams(body)) {
    if (seen.has(name)) throw new OAuthFailure('invalid_request', `${name.slice(0, 64)} is sent more than once`)
    seen.add(name)
    if (value !== '') params.set(name, value)
  }
  return params
}

/** The body as text, or null past `limit` bytes (read no further). */
async function boundedText(request: Request, limit: number): Promise<string | null> {
  if (Number(request.headers.get('content-length') ?? 0) > limit) return null
  if (!request.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => undefined)
      return null
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The client, by exactly one of client_secret_basic (the Authorization header) and client_secret_post (client_id and
 * client_secret in the form), through the gateway's authenticator: a wrong secret counts against the same failure
 * limits as one on /graphql.
 */
async function authenticateClient(
  deps: TokenEndpointDependencies,
  request: Request,
  params: Map<string, string>,
  info: OAuthRequestInfo,
): Promise<ApiClientPrincipal> {
  const header = request.headers.get('authorization')
  const postedId = params.get('client_id')
  const postedSecret = params.get('client_secret')
  let authorization: string
  if (header !== null) {
    if (postedSecret !== undefined) {
      throw new OAuthFailure('invalid_request', 'Authenticate the client one way: the Authorization header or the form')
    }
    if (!/^Basic /i.test(header)) {
      throw new OAuthFailure('invalid_client', 'Authenticate the client with HTTP Basic (client_secret_basic)', 401, {
        'www-authenticate': CLIENT_CHALLENGE,
      })
    }
    authorization = header
  } else if (postedId !== undefined && postedSecret !== undefined) {
    authorization = `Basic ${Buffer.from(`${postedId}:${postedSecret}`).toString('base64')}`
  } else {
    throw new OAuthFailure(
      'invalid_client',
      'Client authentication is required: HTTP Basic, or client_id and client_secret in the form',
      401,
      { 'www-authenticate': CLIENT_CHALLENGE },
    )
  }
  let client: ApiClientPrincipal
  try {
    client = await deps.clients.authenticate(authorization, { source: info.clientAddress ?? null })
  } catch (error) {
    throw failureOfAuthentication(error)
  }
  // A client_id in the form beside HTTP Basic must name the same client.
  if (postedId !== undefined && postedId !== client.clientId) {
    throw new OAuthFailure('invalid_request', 'client_id names another client than the credentials')
  }
  return client
}

function failureOfAuthentication(error: unknown): unknown {
  if (error instanceof UnauthorizedError) {
    return new OAuthFailure('invalid_client', 'Client authentication failed', 401, {
      'www-authenticate': CLIENT_CHALLENGE,
    })
  }
  if (error instanceof RateLimitedError || error instanceof ServiceUnavailableError) {
    const message =
      error instanceof RateLimitedError
        ? `Too many failed attempts; retry after ${error.retryAfterSeconds} s`
        : `The service is temporarily unavailable; retry after ${error.retryAfterSeconds} s`
    return new OAuthFailure('temporarily_unavailable', message, error.httpStatus, {
      'retry-after': String(error.retryAfterSeconds),
    })
  }
  return error
}

/** `GET /.well-known/jwks.json`: the public keys, signing key first; anyone may read and cache them for 5 minutes. */
export function createJwksHandler(tokens: Pick<AccessTokens, 'jwks'>): FetchHandler {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return json(405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' })
    }
    return new Response(request.method === 'HEAD' ? null : JSON.stringify(tokens.jwks()), {
      status: 200,
      headers: {
        'content-type': 'application/jwk-set+json; charset=utf-8',
        'cache-control': 'public, max-age=300',
        'access-control-allow-origin': '*',
      },
    })
  }
}

/** Both endpoints over a gateway's API clients and signing keys, for the HTTP app (http/app.ts). */
export function oauthEndpoints(gateway: TokenEndpointDependencies): { oauthToken: FetchHandler; jwks: FetchHandler } {
  return { oauthToken: createTokenHandler(gateway), jwks: createJwksHandler(gateway.tokens) }
}
