// Access tokens (RFC 9068 JWTs, ES256): a partner's own bearer token from its client credentials, and tokens it mints
// for one of its end users. A token is verified from its signature and claims alone, against the public keys held in
// memory: no scrypt, no table read for a partner's token. A user token also reads, through a cache of a few seconds,
// whether its partner revoked that user's tokens since it was issued.
import { decodeTime, isValid as isUlid, ulid } from 'ulid'
import type * as Jose from 'jose'
import {
  ForbiddenError,
  InvalidTokenError,
  UnauthorizedError,
  ValidationError,
  type ValidationIssue,
} from '../domain/errors.ts'
import { decodePublicId } from '../domain/ids.ts'
import type { AccessRepository } from '../store/access-repository.ts'
import type { TokenRevocationRepository } from '../store/token-revocation-repository.ts'
import type { StoredPrincipal } from '../store/stored-principal.ts'
import {
  PARTNER_SCOPE,
  scopeOf,
  tenantWide,
  USER_TOKEN_SCOPES,
  type ApiClientPrincipal,
  type EndUserPrincipal,
  type Principal,
  type UserTokenScope,
} from './principal.ts'
import { CLIENT_ID } from './tenants.ts'
import type { SigningKey, PublicJwk } from '../crypto/token-keys.ts'

/** Lifetimes and bounds of access tokens. */
export interface TokenSettings {
  /**
   * Lifetime of an API client's own bearer token (`/oauth/token`, client credentials), in seconds.
   * @default 900 (15 minutes)
   */
  readonly clientTokenTtlSeconds: number
  /**
   * Lifetime of an end user's token when its partner names none, in seconds.
   * @default 900 (15 minutes)
   */
  readonly userTokenDefaultTtlSeconds: number
  /**
   * Longest lifetime a partner may give an end user's token, in seconds.
   * @default 3_600 (60 minutes)
   */
  readonly userTokenMaxTtlSeconds: number
  /**
   * How long a user's revocation state is trusted without reading it again: `revokeUserTokens` takes effect on other
   * processes within this (at once on the process that revoked).
   * @default 5_000
   */
  readonly revocationCacheMs: number
  /**
   * How long an open subscription trusts that its token's API client is still enabled before reading it again.
   * @default 60_000
   */
  readonly clientRecheckMs: number
  /**
   * Clock difference tolerated on `exp`, in seconds.
   * @default 5
   */
  readonly clockToleranceSeconds: number
  /**
   * Consent ids one user token may be restricted to, at most.
   * @default 50
   */
  readonly maxConsentIds: number
}

export const TOKEN_DEFAULTS: TokenSettings = {
  clientTokenTtlSeconds: 900,
  userTokenDefaultTtlSeconds: 900,
  userTokenMaxTtlSeconds: 3_600,
  revocationCacheMs: 5_000,
  clientRecheckMs: 60_000,
  clockToleranceSeconds: 5,
  maxConsentIds: 50,
}

/** A principal of a bearer token, as stored. */
export type StoredTokenPrincipal = Exclude<StoredPrincipal, { credential: 'BASIC' }>

/** A token as the token endpoint and `createUserToken` hand it out. */
export interface IssuedToken {
  readonly accessToken: string
  readonly tokenType: 'Bearer'
  /** Seconds from now. */
  readonly expiresIn: number
  /** Epoch ms. */
  readonly expiresAt: number
  /** Space-separated, as OAuth writes scopes. */
  readonly scope: string
  readonly tokenId: string
}

/** What a partner asks for when it mints a token for one of its end users. */
export interface UserTokenRequest {
  readonly userId: string
  readonly scopes: readonly string[]
  /** @default TokenSettings.userTokenDefaultTtlSeconds */
  readonly expiresInSeconds?: number | null | undefined
  /** Public consent ids (`consent_...`); none or null: every consent of the user. */
  readonly consentIds?: readonly string[] | null | undefined
}

export interface AccessTokensDependencies {
  /** Signing key first; null when none is configured (then no token is issued and none verifies). */
  readonly keys: readonly SigningKey[] | null
  /** `iss` of every token: the gateway's public base URL. */
  readonly issuer: string
  /** `aud` of every token: the GraphQL API's URL. */
  readonly audience: string
  readonly revocations: TokenRevocationRepository
  readonly access: AccessRepository
  readonly settings?: Partial<TokenSettings> | undefined
  /** Wall clock, epoch ms: tokens are about real time, whatever the gateway's own clock says. */
  readonly now?: () => number
}

/**
 * jose, loaded on the first token signed or verified: the functions that never see one (webhooks, callbacks, jobs)
 * and a Basic-only GraphQL container do not load it (about 40 kB).
 */
let joseModule: Promise<typeof Jose> | null = null
const jose = () => (joseModule ??= import('jose'))

const MAX_TOKEN_LENGTH = 4_096
const MAX_ENTRIES = 10_000
const TYP = 'at+jwt'
const USER_ID = /^[^\p{Cc}]{1,128}$/u

/** A user id as consents carry it: 1-128 characters, no control characters. */
export function checkUserId(userId: string, path: string, issues: ValidationIssue[]): void {
  if (!USER_ID.test(userId)) issues.push({ path, message: 'must be 1-128 characters without control characters' })
}

/** A small least-recently-used map with a time-to-live, whose concurrent misses share one load. */
class TimedCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>()
  readonly #loading = new Map<string, Promise<V>>()

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    /** Which of a cached value and a newly loaded one to keep (a load that began before a write must not undo it). */
    private readonly keep: (cached: V, loaded: V) => V = (_cached, loaded) => loaded,
  ) {}

  /** The cached value and until when it holds, loading it when absent or stale. */
  async get(key: string, load: () => Promise<V>): Promise<{ value: V; until: number }> {
    const cached = this.#entries.get(key)
    if (cached && cached.until > this.now()) return cached
    let loading = this.#loading.get(key)
    if (!loading) {
      loading = load().finally(() => this.#loading.delete(key))
      this.#loading.set(key, loading)
      const loaded = await loading
      const current = this.#entries.get(key)
      return this.set(key, current ? this.keep(current.value, loaded) : loaded)
    }
    const value = await loading
    return this.#entries.get(key) ?? { value, until: this.now() + this.ttlMs }
  }

  set(key: string, value: V): { value: V; until: number } {
    const entry = { value, until: this.now() + this.ttlMs }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    while (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
    return entry
  }
}

/**
 * Tokens this process verified, with their claims, most recently used last: at most MAX_ENTRIES, each until its
 * token's expiry. Keyed by the whole token, so a token that differs in any byte is verified afresh.
 */
class VerifiedTokens {
  readonly #entries = new Map<string, { claims: Claims; until: number }>()

  get(token: string, now: number): Claims | null {
    const entry = this.#entries.get(token)
    if (!entry) return null
    this.#entries.delete(token)
    if (entry.until <= now) return null
    this.#entries.set(token, entry)
    return entry.claims
  }

  set(token: string, claims: Claims, until: number): void {
    this.#entries.delete(token)
    this.#entries.set(token, { claims, until })
    while (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
  }
}

/** A verified token's claims, before they are read as a principal. */
interface Claims extends Jose.JWTPayload {
  readonly client_id?: unknown
  readonly scope?: unknown
  readonly tenant?: unknown
  readonly act?: unknown
  readonly consent_ids?: unknown
}

export class AccessTokens {
  readonly #keys: ReadonlyMap<string, SigningKey>
  readonly #signing: SigningKey | null
  readonly #settings: TokenSettings
  readonly #now: () => number
  readonly #revocations: TimedCache<number | null>
  readonly #clients: TimedCache<{ enabled: boolean; tenantId: string | null }>
  readonly #verified = new VerifiedTokens()

  constructor(private readonly deps: AccessTokensDependencies) {
    this.#keys = new Map((deps.keys ?? []).map((key) => [key.kid, key]))
    this.#signing = deps.keys?.[0] ?? null
    this.#settings = { ...TOKEN_DEFAULTS, ...deps.settings }
    this.#now = deps.now ?? Date.now
    // A revocation only ever moves later: a read that began before this process revoked must not bring it back.
    this.#revocations = new TimedCache<number | null>(this.#settings.revocationCacheMs, this.#now, (cached, loaded) =>
      cached === null ? loaded : Math.max(cached, loaded ?? cached),
    )
    this.#clients = new TimedCache(this.#settings.clientRecheckMs, this.#now)
  }

  /** `iss` of every token: the gateway's public base URL (the token endpoint and the JWKS hang off it). */
  get issuer(): string {
    return this.deps.issuer
  }

  /** `aud` of every token: the GraphQL API. */
  get audience(): string {
    return this.deps.audience
  }

  get settings(): TokenSettings {
    return this.#settings
  }

  /** Whether tokens can be issued and verified here (signing keys are configured). */
  get enabled(): boolean {
    return this.#signing !== null
  }

  /** The public keys, for `/.well-known/jwks.json`. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: [...this.#keys.values()].map((key) => key.publicJwk) }
  }

  /** An API client's own bearer token (client credentials), for a client authenticated by its secret. */
  async issueForClient(client: ApiClientPrincipal): Promise<IssuedToken> {
    await this.#assertEnabled(client.clientId, client.tenantId)
    return this.#sign(
      { client_id: client.clientId, tenant: client.tenantId, scope: PARTNER_SCOPE },
      client.clientId,
      this.#settings.clientTokenTtlSeconds,
    )
  }

  /**
   * A token for one end user of the partner's tenant: `sub` the user, `act` the partner's client. Partner credentials
   * only (FORBIDDEN otherwise); VALIDATION_ERROR naming the field for a bad user id, scope, lifetime or consent id.
   */
  async issueForUser(partner: Principal, request: UserTokenRequest): Promise<IssuedToken> {
    const tenantId = tenantWide(scopeOf(partner))
    if (partner.kind !== 'API_CLIENT') throw new ForbiddenError('Only partner credentials may mint user tokens')
    const issues: ValidationIssue[] = []
    checkUserId(request.userId, 'userId', issues)
    const scopes = [...new Set(request.scopes)]
    if (scopes.length === 0) issues.push({ path: 'scopes', message: 'must name at least one scope' })
    for (const scope of scopes) {
      if (!(USER_TOKEN_SCOPES as readonly string[]).includes(scope)) {
        issues.push({
          path: 'scopes',
          message: `"${scope.slice(0, 64)}" is not one of ${USER_TOKEN_SCOPES.join(', ')}`,
        })
      }
    }
    const max = this.#settings.userTokenMaxTtlSeconds
    const ttl = request.expiresInSeconds ?? this.#settings.userTokenDefaultTtlSeconds
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > max) {
      issues.push({ path: 'expiresInSeconds', message: `must be a whole number of seconds from 1 to ${max}` })
    }
    const consentIds = [...new Set(request.consentIds ?? [])]
    if (consentIds.length > this.#settings.maxConsentIds) {
      issues.push({ path: 'consentIds', message: `must name at most ${this.#settings.maxConsentIds} consents` })
    }
    for (const id of consentIds) {
      if (decodePublicId(id)?.type !== 'Consent') {
        issues.push({
          path: 'consentIds',
          message: `"${id.slice(0, 64)}" is not a consent id (expected consent_<ULID>)`,
        })
      }
    }
    if (issues.length) throw new ValidationError(issues)
    await this.#assertEnabled(partner.clientId, tenantId)
    const ordered = USER_TOKEN_SCOPES.filter((scope) => scopes.includes(scope))
    return this.#sign(
      {
        client_id: partner.clientId,
        tenant: tenantId,
        scope: ordered.join(' '),
        act: { sub: partner.clientId },
        ...(consentIds.length ? { consent_ids: consentIds } : {}),
      },
      request.userId,
      ttl,
    )
  }

  /**
   * Revokes every token minted so far for one end user of the partner's tenant (partner credentials only). This
   * process refuses them at once, every other within `revocationCacheMs`. Returns the moment (epoch ms) before which
   * the user's tokens are revoked.
   */
  async revokeUserTokens(partner: Principal, userId: string): Promise<number> {
    const tenantId = tenantWide(scopeOf(partner))
    const issues: ValidationIssue[] = []
    checkUserId(userId, 'userId', issues)
    if (issues.length) throw new ValidationError(issues)
    const at = this.#now()
    // Once every token it revokes has expired, the item says nothing more: TTL may take it then.
    const lapseSeconds = this.#settings.userTokenMaxTtlSeconds + this.#settings.clockToleranceSeconds + 60
    await this.deps.revocations.revoke(tenantId, userId, at, Math.ceil(at / 1000) + lapseSeconds)
    this.#revocations.set(revocationKey(tenantId, userId), at)
    return at
  }

  /**
   * The principal a bearer token gives. Throws InvalidTokenError for anything but a token we signed, for this
   * audience, unexpired and unrevoked; ServiceUnavailableError when a user token's revocation cannot be read.
   */
  async verify(token: string): Promise<Principal> {
    if (!this.#signing) throw new InvalidTokenError('Bearer tokens are not accepted here: no signing keys are set')
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError()
    const claims = this.#verified.get(token, this.#now()) ?? (await this.#verifySignature(token))
    const principal = this.#principalOf(claims)
    if (principal.kind === 'END_USER' && !(await this.#unrevoked(principal))) {
      throw new InvalidTokenError("The access token has been revoked: its user's tokens were revoked")
    }
    return principal
  }

  /**
   * The claims of a token whose signature, issuer, audience, type and expiry hold, remembered until it expires: a
   * partner sends the same token with every request, and its ES256 verification is most of what a request costs.
   */
  async #verifySignature(token: string): Promise<Claims> {
    const { jwtVerify } = await jose()
    let claims: Claims
    try {
      const verified = await jwtVerify<Claims>(
        token,
        (header) => {
          const key = header.kid === undefined ? undefined : this.#keys.get(header.kid)
          if (!key) throw new InvalidTokenError('The access token was signed by a key this gateway does not know')
          return key.publicKey
        },
        {
          algorithms: ['ES256'],
          typ: TYP,
          issuer: this.deps.issuer,
          audience: this.deps.audience,
          clockTolerance: this.#settings.clockToleranceSeconds,
          requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id', 'scope', 'tenant'],
          currentDate: new Date(this.#now()),
        },
      )
      claims = verified.payload
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_JWT_EXPIRED') {
        throw new InvalidTokenError('The access token has expired')
      }
      throw error instanceof InvalidTokenError ? error : new InvalidTokenError()
    }
    // Held no later than its expiry (`exp` is required above), without the clock tolerance.
    if (typeof claims.exp === 'number') this.#verified.set(token, claims, claims.exp * 1000)
    return claims
  }

  /** A principal a token gave, as it can be stored (a WebSocket connection's, between invocations): its claims. */
  describe(principal: EndUserPrincipal | (ApiClientPrincipal & { credential: 'BEARER' })): StoredTokenPrincipal {
    if (principal.kind === 'END_USER') {
      return {
        kind: 'END_USER',
        tenantId: principal.tenantId,
        clientId: principal.clientId,
        userId: principal.userId,
        scopes: [...principal.scopes],
        consentIds: principal.consentIds ? [...principal.consentIds] : null,
        tokenId: principal.tokenId,
        issuedAt: principal.issuedAt,
        expiresAt: principal.expiresAt,
      }
    }
    if (principal.tokenId === undefined || principal.expiresAt === undefined) {
      throw new Error('describe: a bearer principal without its token id and expiry')
    }
    return {
      kind: 'API_CLIENT',
      credential: 'BEARER',
      tenantId: principal.tenantId,
      clientId: principal.clientId,
      tokenId: principal.tokenId,
      expiresAt: principal.expiresAt,
    }
  }

  /**
   * The principal a stored token description stands for (its signature was verified when it was stored). Its
   * `revalidate` checks what a live one's checks: unexpired, its client enabled in its tenant, a user's tokens not
   * revoked since it was issued.
   */
  restore(stored: StoredTokenPrincipal): Principal {
    if (stored.kind === 'END_USER') {
      const principal: EndUserPrincipal = {
        kind: 'END_USER',
        tenantId: stored.tenantId,
        clientId: stored.clientId,
        userId: stored.userId,
        scopes: USER_TOKEN_SCOPES.filter((scope) => stored.scopes.includes(scope)),
        consentIds: stored.consentIds ? [...stored.consentIds] : null,
        tokenId: stored.tokenId,
        issuedAt: stored.issuedAt,
        expiresAt: stored.expiresAt,
        revalidate: () => this.#revalidate(principal),
      }
      return principal
    }
    const principal: ApiClientPrincipal = {
      kind: 'API_CLIENT',
      credential: 'BEARER',
      tenantId: stored.tenantId,
      clientId: stored.clientId,
      tokenId: stored.tokenId,
      expiresAt: stored.expiresAt,
      revalidate: () => this.#revalidate(principal),
    }
    return principal
  }

  async #sign(claims: Record<string, unknown>, subject: string, ttlSeconds: number): Promise<IssuedToken> {
    const key = this.#signing
    if (!key) throw new Error('no token signing keys are configured')
    const now = this.#now()
    const issuedAt = Math.floor(now / 1000)
    // The id carries the issuing moment to the millisecond: revocation compares it, not `iat`'s whole seconds.
    const tokenId = ulid(now)
    const { SignJWT } = await jose()
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: TYP, kid: key.kid })
      .setIssuer(this.deps.issuer)
      .setAudience(this.deps.audience)
      .setSubject(subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .setJti(tokenId)
      .sign(key.privateKey)
    return {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: ttlSeconds,
      expiresAt: (issuedAt + ttlSeconds) * 1000,
      scope: String(claims.scope),
      tokenId,
    }
  }

  /** Reads verified claims as a principal; a combination we never sign is refused like a bad signature. */
  #principalOf(claims: Claims): Principal {
    const { sub, jti, exp, client_id: clientId, tenant, scope, act } = claims
    const invalid = () => new InvalidTokenError()
    if (typeof sub !== 'string' || typeof jti !== 'string' || !isUlid(jti) || typeof exp !== 'number') throw invalid()
    if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) throw invalid()
    if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 64) throw invalid()
    if (typeof scope !== 'string') throw invalid()
    const expiresAt = exp * 1000

    if (act === undefined) {
      if (scope !== PARTNER_SCOPE || sub !== clientId || claims.consent_ids !== undefined) throw invalid()
      const principal: ApiClientPrincipal = {
        kind: 'API_CLIENT',
        credential: 'BEARER',
        tenantId: tenant,
        clientId,
        tokenId: jti,
        expiresAt,
        revalidate: () => this.#revalidate(principal),
      }
      return principal
    }

    if (typeof act !== 'object' || act === null || (act as { sub?: unknown }).sub !== clientId) throw invalid()
    const scopes = scope.split(' ')
    if (!scopes.every((entry) => (USER_TOKEN_SCOPES as readonly string[]).includes(entry))) throw invalid()
    if (!USER_ID.test(sub)) throw invalid()
    const principal: EndUserPrincipal = {
      kind: 'END_USER',
      tenantId: tenant,
      clientId,
      userId: sub,
      scopes: scopes as UserTokenScope[],
      consentIds: consentIdsOf(claims.consent_ids),
      tokenId: jti,
      issuedAt: decodeTime(jti),
      expiresAt,
      revalidate: () => this.#revalidate(principal),
    }
    return principal
  }

  /** Whether the user's tokens were not revoked at or after this one's issue. */
  async #unrevoked(principal: EndUserPrincipal): Promise<boolean> {
    const { value: revokedBefore } = await this.#revocations.get(
      revocationKey(principal.tenantId, principal.userId),
      () => this.deps.revocations.revokedBefore(principal.tenantId, principal.userId),
    )
    return revokedBefore === null || principal.issuedAt > revokedBefore
  }

  /**
   * A partner's bearer token (15 minutes) and its verified Basic credential (60 s) are trusted without the table on
   * reads; a token that would outlive them is not: minting asks the table (strongly consistent, a read per token
   * minted, never on a hot path), so a disabled client mints nothing from the moment it is disabled.
   */
  async #assertEnabled(clientId: string, tenantId: string): Promise<void> {
    const client = await this.deps.access.getApiClient(clientId)
    if (!client || client.disabled || client.tenantId !== tenantId) {
      throw new UnauthorizedError('The API client is disabled')
    }
  }

  /**
   * For open subscriptions: the token still unexpired, its client still enabled in its tenant (read once per
   * `clientRecheckMs`), and a user token not revoked (read once per `revocationCacheMs`). Trusted until the earliest of
   * its expiry and the next of those reads.
   */
  async #revalidate(principal: ApiClientPrincipal | EndUserPrincipal): Promise<number | null> {
    const expiresAt = principal.expiresAt ?? Number.POSITIVE_INFINITY
    if (this.#now() >= expiresAt) return null
    const client = await this.#clients.get(principal.clientId, async () => {
      const record = await this.deps.access.getApiClient(principal.clientId)
      return { enabled: record !== null && !record.disabled, tenantId: record?.tenantId ?? null }
    })
    if (!client.value.enabled || client.value.tenantId !== principal.tenantId) return null
    let until = Math.min(expiresAt, client.until)
    if (principal.kind === 'END_USER') {
      if (!(await this.#unrevoked(principal))) return null
      until = Math.min(until, this.#now() + this.#settings.revocationCacheMs)
    }
    return until
  }
}

const revocationKey = (tenantId: string, userId: string) => `${tenantId}\u0000${userId}`

/** The internal ids of a verified `consent_ids` claim; null when the token names none. */
function consentIdsOf(claim: unknown): readonly string[] | null {
  if (claim === undefined) return null
  if (!Array.isArray(claim) || claim.length === 0) throw new InvalidTokenError()
  return claim.map((id: unknown) => {
    const decoded = typeof id === 'string' ? decodePublicId(id) : null
    if (decoded?.type !== 'Consent') throw new InvalidTokenError()
    return decoded.id
  })
}
