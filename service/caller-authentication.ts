// Who is calling, whatever credential they send: HTTP Basic with an API client's secret goes to ApiClientAuthenticator
// (scrypt, its caches and failure limits), a bearer token to AccessTokens (signature and claims against the keys in
// memory). One entry point for the GraphQL server and anything else that authenticates requests.
import { InvalidTokenError, UnauthorizedError } from '../domain/errors.ts'
import type { StoredPrincipal } from '../store/stored-principal.ts'
import type { AccessTokens } from './access-tokens.ts'
import type { ApiClientAuthenticator } from './authentication.ts'
import type { AuthenticationAttempt, Authenticator, Principal, PrincipalStorage } from './principal.ts'

/** RFC 6750's b64token, at most 4 kB. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]{1,4096}=*) *$/i
const SCHEME = /^([A-Za-z]+)(?: |$)/

export class CallerAuthenticator implements Authenticator, PrincipalStorage {
  constructor(
    /** HTTP Basic: the API client's id and secret. */
    readonly apiClients: ApiClientAuthenticator,
    /** Bearer: an access token this gateway signed. */
    readonly tokens: AccessTokens,
  ) {}

  /**
   * The principal for an `Authorization` header: Basic or Bearer. Throws InvalidTokenError for a bearer token that
   * does not hold, UnauthorizedError for anything else that is not a valid credential, and RateLimitedError or
   * ServiceUnavailableError as ApiClientAuthenticator does.
   */
  async authenticate(
    authorization: string | null | undefined,
    attempt: AuthenticationAttempt = {},
  ): Promise<Principal> {
    const scheme = authorization ? SCHEME.exec(authorization)?.[1]?.toLowerCase() : undefined
    if (scheme === 'bearer') {
      const token = BEARER.exec(authorization ?? '')?.[1]
      if (!token) throw new InvalidTokenError('The bearer token is malformed')
      return this.tokens.verify(token)
    }
    if (scheme === 'basic') return this.apiClients.authenticate(authorization, attempt)
    throw new UnauthorizedError(
      'Send credentials in the Authorization header: HTTP Basic with an API client id and secret, or a bearer token',
    )
  }

  describe(principal: Principal): StoredPrincipal {
    if (principal.kind === 'END_USER') return this.tokens.describe(principal)
    if (principal.credential === 'BASIC') return this.apiClients.describe(principal)
    return this.tokens.describe({ ...principal, credential: 'BEARER' })
  }

  restore(stored: StoredPrincipal): Principal {
    return stored.kind === 'API_CLIENT' && stored.credential === 'BASIC'
      ? this.apiClients.restore(stored)
      : this.tokens.restore(stored)
  }
}
