// Finqware's OAuth2 (Bearer token) mode: the token endpoint and the check every API call passes in that mode.
// Finqware's Get Consent page says the body's `client_secret` is for the internal (non-OAuth2) mode, "e.g.,
// test-only", and is not required with a Bearer token; its OAuth2 page's content is not public to us. So the token
// path (`/oauth2/token`), the client-credentials grant with HTTP Basic client authentication (RFC 6749 §4.4, §2.3.1),
// the answer `{access_token, token_type, expires_in}` (seconds, RFC 6749 §5.1) and refusals in Finqware's own error
// body are our guesses (docs/providers.md, Finqware section).
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { SandboxClock } from '../shared/clock.ts'
import { readFormBody, sendJson, type RouteHandler } from '../shared/http.ts'
import { requestIdOf, sendFinqwareError } from './api-call.ts'
import type { FinqwareClient } from './options.ts'

export const TOKEN_PATH = '/oauth2/token'

interface IssuedToken {
  clientId: string
  expiresAt: number
}

/** How many tokens were issued, and how many API calls were refused for their token (missing, unknown, expired). */
export interface TokenCounts {
  issued: number
  refused: number
}

export class TokenIssuer {
  readonly #tokens = new Map<string, IssuedToken>()
  #issued = 0
  #refused = 0

  constructor(
    private readonly clock: SandboxClock,
    private readonly lifetimeSeconds: number,
    private readonly clients: readonly Required<FinqwareClient>[],
  ) {}

  counts(): TokenCounts {
    return { issued: this.#issued, refused: this.#refused }
  }

  /** `POST /oauth2/token`: `grant_type=client_credentials`, the client's id and secret in HTTP Basic. */
  endpoint(): RouteHandler {
    return async (request, response) => {
      const requestId = requestIdOf(request.headers)
      const form = await readFormBody(request.raw)
      const client = this.#clientOf(request.headers.authorization)
      if (!client) {
        sendFinqwareError(response, requestId, 401, 'unauthorized', 'client authentication failed')
        return
      }
      if (form.get('grant_type') !== 'client_credentials') {
        sendFinqwareError(response, requestId, 400, 'validation_error', 'grant_type must be client_credentials')
        return
      }
      const token = randomBytes(32).toString('base64url')
      this.#forgetExpired()
      this.#tokens.set(token, {
        clientId: client.clientId,
        expiresAt: this.clock.now().getTime() + this.lifetimeSeconds * 1000,
      })
      this.#issued += 1
      sendJson(
        response,
        200,
        { access_token: token, token_type: 'Bearer', expires_in: this.lifetimeSeconds },
        { 'x-request-id': requestId },
      )
    }
  }

  /**
   * The client a Bearer `authorization` header stands for, or null (counted as refused) when it is missing, unknown
   * or expired on the sandbox clock. Tokens live in memory only: a restarted sandbox refuses the old ones, as a
   * provider may revoke tokens at any time, and a client asks for a new one.
   */
  clientOfBearer(authorization: string | undefined): string | null {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '')
    const issued = match?.[1] === undefined ? undefined : this.#tokens.get(match[1])
    if (!issued || issued.expiresAt <= this.clock.now().getTime()) {
      this.#refused += 1
      return null
    }
    return issued.clientId
  }

  #clientOf(authorization: string | undefined): Required<FinqwareClient> | undefined {
    const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(authorization ?? '')
    if (!match?.[1]) return undefined
    const decoded = Buffer.from(match[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return undefined
    // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    const id = safeDecode(decoded.slice(0, colon))
    const secret = safeDecode(decoded.slice(colon + 1))
    const client = this.clients.find((known) => known.clientId === id)
    return client && secret !== null && sameText(client.clientSecret, secret) ? client : undefined
  }

  #forgetExpired(): void {
    const now = this.clock.now().getTime()
    for (const [token, issued] of this.#tokens) if (issued.expiresAt <= now) this.#tokens.delete(token)
  }
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return null
  }
}

function sameText(expected: string, given: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}
