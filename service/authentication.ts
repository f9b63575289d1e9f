// Who is calling: HTTP Basic credentials of an API client -> the tenant it acts for. A verified credential is cached
// briefly (keyed by client id and a SHA-256 of the secret), so the slow scrypt check and the table read happen once
// per client per cache period, not on every request.
import { hash } from 'node:crypto'
import { UnauthorizedError } from '../domain/errors.ts'
import type { AccessRepository } from '../store/access-repository.ts'
import { verifySecret } from './secret-hash.ts'

/** An authenticated caller. Every request is bound to exactly one tenant. */
export interface Principal {
  readonly kind: 'API_CLIENT'
  readonly tenantId: string
  readonly clientId: string
}

export interface AuthenticatorOptions {
  /**
   * How long a verified credential is trusted without checking the table (also how long a disabled client or a
   * rotated secret keeps working).
   * @default 60_000
   */
  readonly cacheTtlMs?: number
  /**
   * How long a wrong credential is remembered as wrong, so repeating it costs no scrypt.
   * @default 5_000
   */
  readonly negativeCacheTtlMs?: number
  /**
   * Cache entries kept at most; the oldest go first.
   * @default 10_000
   */
  readonly maxEntries?: number
}

const MAX_HEADER_LENGTH = 1_024

/** Parses `Basic base64(clientId:secret)`; null when it is not that. */
export function parseBasicCredentials(header: string | null | undefined): { clientId: string; secret: string } | null {
  if (!header || header.length > MAX_HEADER_LENGTH) return null
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header)
  if (!match?.[1]) return null
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const separator = decoded.indexOf(':')
  if (separator < 1) return null
  return { clientId: decoded.slice(0, separator), secret: decoded.slice(separator + 1) }
}

type CacheEntry = { readonly principal: Principal | null; readonly expiresAt: number }

export class ApiClientAuthenticator {
  readonly #cache = new Map<string, CacheEntry>()
  readonly #inFlight = new Map<string, Promise<Principal | null>>()
  readonly #ttl: number
  readonly #negativeTtl: number
  readonly #maxEntries: number

  constructor(
    private readonly access: AccessRepository,
    options: AuthenticatorOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.#ttl = options.cacheTtlMs ?? 60_000
    this.#negativeTtl = options.negativeCacheTtlMs ?? 5_000
    this.#maxEntries = options.maxEntries ?? 10_000
  }

  /** The principal for an `Authorization` header; throws {@link UnauthorizedError} for anything else. */
  async authenticate(authorization: string | null | undefined): Promise<Principal> {
    const credentials = parseBasicCredentials(authorization)
    if (!credentials) throw new UnauthorizedError('Send API client credentials with HTTP Basic authentication')
    const cacheKey = `${credentials.clientId}\u0000${hash('sha256', credentials.secret, 'base64url')}`

    const cached = this.#cache.get(cacheKey)
    let principal: Principal | null
    if (cached && cached.expiresAt > this.now()) {
      principal = cached.principal
    } else {
      // Concurrent first requests with the same credential share one verification.
      let pending = this.#inFlight.get(cacheKey)
      if (!pending) {
        pending = this.#verify(credentials.clientId, credentials.secret).finally(() => this.#inFlight.delete(cacheKey))
        this.#inFlight.set(cacheKey, pending)
      }
      principal = await pending
      this.#remember(cacheKey, principal)
    }
    if (!principal) throw new UnauthorizedError('Invalid client credentials')
    return principal
  }

  async #verify(clientId: string, secret: string): Promise<Principal | null> {
    const client = await this.access.getApiClient(clientId)
    if (!client || client.disabled) return null
    if (!(await verifySecret(secret, client.secretHash))) return null
    return { kind: 'API_CLIENT', tenantId: client.tenantId, clientId: client.clientId }
  }

  #remember(cacheKey: string, principal: Principal | null): void {
    this.#cache.delete(cacheKey)
    this.#cache.set(cacheKey, { principal, expiresAt: this.now() + (principal ? this.#ttl : this.#negativeTtl) })
    while (this.#cache.size > this.#maxEntries) {
      const oldest = this.#cache.keys().next().value
      if (oldest === undefined) break
      this.#cache.delete(oldest)
    }
  }
}
