// Who is calling: HTTP Basic credentials of an API client -> the tenant it acts for. A verified credential is cached
// (keyed by client id and a SHA-256 of the secret), so the hash check happens once per credential, and the table is
// read again once per cache period (the client still enabled, its hash still current or still in its rotation grace:
// no hash check for that). A secret rotated out works until its grace ends, never a moment longer, cached or not.
// Generated secrets verify with one keyed SHA-256, secrets an operator chose with scrypt (crypto/secret-hash.ts).
// Credentials not verified yet are checked only while failed attempts stay within limits per client id and per source
// address, and every refusal costs at least one scrypt check (an unknown or disabled client one against a fixed hash,
// a wrong secret for a keyed hash one more after it), so timing tells nothing of whether a client exists (a wrong
// secret for a client in a rotation grace of scrypt hashes costs two: one per live hash).
import { hash } from 'node:crypto'
import { RateLimitedError, UnauthorizedError } from '../domain/errors.ts'
import type { AccessRepository, ApiClientRecord } from '../store/access-repository.ts'
import type { StoredPrincipal } from '../store/stored-principal.ts'
import type { FailureLog } from './failure-log.ts'
import { FailureLimiter, type FailureLimits } from './failure-limiter.ts'
import type { ApiClientPrincipal, AuthenticationAttempt } from './principal.ts'
import { usesScrypt, verifySecret } from '../crypto/secret-hash.ts'
import { CLIENT_ID } from './tenants.ts'

export type { AuthenticationAttempt, Principal } from './principal.ts'

export interface AuthenticatorOptions {
  /**
   * How long a verified credential is trusted without checking the table (also how long a disabled client, or a
   * secret rotated out without a grace period, keeps working, open subscriptions included). A secret rotated out with
   * a grace period is never trusted past the grace's end.
   * @default 60_000
   */
  readonly cacheTtlMs?: number
  /**
   * How long a wrong credential is remembered as wrong, so repeating it costs no scrypt.
   * @default 5_000
   */
  readonly negativeCacheTtlMs?: number
  /**
   * Verified credentials kept at most, and wrong ones as many again (separately: a flood of wrong ones cannot push a
   * verified one out); the least recently used go first.
   * @default 10_000
   */
  readonly maxEntries?: number
  /** Failed attempts allowed per client id and per source address (see failure-limiter.ts for the defaults). */
  readonly failureLimits?: FailureLimits
  /**
   * Where failed and limited attempts are counted (one line per interval). None: not logged.
   * @default undefined
   */
  readonly failureLog?: FailureLog | undefined
  /**
   * Hash checks running at once; more wait their turn. scrypt is CPU-bound: one at a time leaves the other cores to
   * the requests of verified credentials, so a flood of first attempts does not slow them down.
   * @default 1
   */
  readonly maxConcurrentHashes?: number
  /**
   * Hash checks waiting their turn at most; beyond that an attempt is answered 429 at once.
   * @default 64
   */
  readonly maxQueuedHashes?: number
  /**
   * Checks a secret against a stored hash.
   * @default verifySecret (keyed SHA-256 or scrypt, by the stored hash's format)
   */
  readonly verifySecret?: (secret: string, stored: string) => Promise<boolean>
}

/** At most `size` tasks at once, at most `queue` more waiting; past that, RATE_LIMITED. */
class Slots {
  readonly #waiting: (() => void)[] = []
  #free: number

  constructor(
    size: number,
    private readonly queue: number,
  ) {
    this.#free = size
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--
    else if (this.#waiting.length >= this.queue) throw new RateLimitedError(1)
    else await new Promise<void>((resolve) => this.#waiting.push(resolve))
    try {
      return await task()
    } finally {
      const next = this.#waiting.shift()
      if (next) next()
      else this.#free++
    }
  }
}

const MAX_HEADER_LENGTH = 1_024

/**
 * What unknown and disabled clients are checked against: same format and parameters as a real hash, of a random
 * secret nobody kept, so their answer takes as long as a known client's.
 */
const UNMATCHABLE_HASH = 'scrypt-sha256$16384$8$1$8Dol75MMsoBnLBn-QXH3Qw$Kxt751LebvzPeg8T-pwhah9kcylBo1KzeJK0JIXORDM'

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

/** A credential that verified: the principal it gives, the stored hash it matched, when the table last agreed. */
interface Verified {
  readonly principal: ApiClientPrincipal
  readonly secretHash: string
  checkedAt: number
  /** Epoch ms the matched hash stops verifying: a rotated-out secret's grace end; infinite for the current one. */
  validUntil: number
}

/** Until when `secretHash` verifies for `client` at `now`: infinite while current, its grace end while rotated out. */
function validUntilOf(client: ApiClientRecord, secretHash: string, now: number): number | null {
  if (client.secretHash === secretHash) return Number.POSITIVE_INFINITY
  if (client.previousSecretHash !== secretHash || !client.previousSecretUntil) return null
  const until = Date.parse(client.previousSecretUntil)
  return until > now ? until : null
}

const INVALID = 'Invalid client credentials'

/**
 * Which stored hash a secret verified against, without the hash itself (nor, of course, the secret): what a stored
 * principal keeps to tell, later, whether that hash is still the client's current one or its rotated-out one.
 */
export const secretHashFingerprint = (secretHash: string): string => hash('sha256', secretHash, 'base64url')

type StoredBasic = Extract<StoredPrincipal, { credential: 'BASIC' }>

/** A restored Basic principal's last check: until when it is trusted. */
interface RestoredCheck {
  checkedAt: number
  validUntil: number
}

export class ApiClientAuthenticator {
  readonly #verified = new Map<string, Verified>()
  readonly #rejected = new Map<string, number>()
  readonly #inFlight = new Map<string, Promise<Verified | null>>()
  readonly #rechecks = new Map<string, Promise<number | null>>()
  /** The verification behind each principal this authenticator gave, for {@link describe}. */
  readonly #origins = new WeakMap<ApiClientPrincipal, Verified>()
  /** The description each restored principal came from, so it can be described again. */
  readonly #descriptions = new WeakMap<ApiClientPrincipal, StoredBasic>()
  /** Restored principals' checks, by client id and hash fingerprint: shared by every restored copy. */
  readonly #restored = new Map<string, RestoredCheck>()
  readonly #restoredChecks = new Map<string, Promise<number | null>>()
  readonly #ttl: number
  readonly #negativeTtl: number
  readonly #maxEntries: number
  readonly #limiter: FailureLimiter
  readonly #failureLog: FailureLog | undefined
  readonly #verifySecret: (secret: string, stored: string) => Promise<boolean>
  readonly #hashSlots: Slots

  constructor(
    private readonly access: AccessRepository,
    options: AuthenticatorOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.#ttl = options.cacheTtlMs ?? 60_000
    this.#negativeTtl = options.negativeCacheTtlMs ?? 5_000
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#limiter = new FailureLimiter(options.failureLimits, now)
    this.#failureLog = options.failureLog
    this.#verifySecret = options.verifySecret ?? verifySecret
    this.#hashSlots = new Slots(options.maxConcurrentHashes ?? 1, options.maxQueuedHashes ?? 64)
  }

  /** Cache entries and limiter buckets held (for tests and metrics). */
  get trackedEntries(): number {
    return this.#verified.size + this.#rejected.size + this.#limiter.size
  }

  /**
   * The principal for an `Authorization` header. Throws {@link UnauthorizedError} for anything but valid credentials,
   * {@link RateLimitedError} while the client id or the source has failed too often (before checking anything), and
   * ServiceUnavailableError when the store cannot answer.
   */
  async authenticate(
    authorization: string | null | undefined,
    attempt: AuthenticationAttempt = {},
  ): Promise<ApiClientPrincipal> {
    const credentials = parseBasicCredentials(authorization)
    if (!credentials) throw new UnauthorizedError('Send API client credentials with HTTP Basic authentication')
    const { clientId, secret } = credentials
    const source = attempt.source || null
    // The format is public: a malformed id tells nothing and costs nothing.
    if (!CLIENT_ID.test(clientId)) {
      this.#logFailure('authentication failed', '(malformed)', source)
      throw new UnauthorizedError(INVALID)
    }
    const cacheKey = `${clientId}\u0000${hash('sha256', secret, 'base64url')}`

    // A credential that verified before needs no limiter and no scrypt, only the table's word once per cache period:
    // a flood of failures against its client id neither locks it out nor slows it.
    const known = this.#verified.get(cacheKey)
    if (known) {
      this.#touch(cacheKey, known)
      if (this.#trustedUntil(known) > this.now()) return known.principal
      if ((await this.#recheck(cacheKey, known)) !== null) return known.principal
    }

    // Concurrent first requests with the same credential share one verification (and one limiter token).
    const pending = this.#inFlight.get(cacheKey)
    if (pending) return this.#principalOf(await pending)

    const reservation = this.#limiter.reserve(clientId, source)
    if (!('succeeded' in reservation)) {
      this.#logFailure('authentication rate limited', clientId, source)
      throw new RateLimitedError(reservation.retryAfterSeconds)
    }
    const rejectedUntil = this.#rejected.get(cacheKey)
    if (rejectedUntil !== undefined && rejectedUntil > this.now()) {
      reservation.failed()
      this.#logFailure('authentication failed', clientId, source)
      throw new UnauthorizedError(INVALID)
    }

    const verification = this.#verify(cacheKey, clientId, secret).finally(() => this.#inFlight.delete(cacheKey))
    this.#inFlight.set(cacheKey, verification)
    let verified: Verified | null
    try {
      verified = await verification
    } catch (error) {
      reservation.cancelled()
      if (error instanceof RateLimitedError) this.#logFailure('authentication rate limited', clientId, source)
      throw error
    }
    if (verified) {
      reservation.succeeded()
      this.#rejected.delete(cacheKey)
      this.#touch(cacheKey, verified)
    } else {
      reservation.failed()
      this.#remember(this.#rejected, cacheKey, this.now() + this.#negativeTtl)
      this.#logFailure('authentication failed', clientId, source)
    }
    return this.#principalOf(verified)
  }

  #principalOf(verified: Verified | null): ApiClientPrincipal {
    if (!verified) throw new UnauthorizedError(INVALID)
    return verified.principal
  }

  async #verify(cacheKey: string, clientId: string, secret: string): Promise<Verified | null> {
    const client = await this.access.getApiClient(clientId)
    const current = client?.secretHash ?? UNMATCHABLE_HASH
    // The check runs for unknown and disabled clients too: the answer must not come sooner for them.
    let matched = (await this.#hashSlots.run(() => this.#verifySecret(secret, current))) ? current : null
    let scrypted = usesScrypt(current)
    // During a rotation's grace the secret rotated out verifies too: a second check, for that client only.
    const previous = client?.previousSecretHash
    if (!matched && client && previous && validUntilOf(client, previous, this.now()) !== null) {
      matched = (await this.#hashSlots.run(() => this.#verifySecret(secret, previous))) ? previous : null
      scrypted ||= usesScrypt(previous)
    }
    const now = this.now()
    const validUntil = client && matched ? validUntilOf(client, matched, now) : null
    if (!client || client.disabled || !matched || validUntil === null) {
      // A keyed hash answers in microseconds: a refusal that ran no scrypt runs one, so a wrong secret takes as long
      // for a client with a generated secret as for an unknown client (which costs one against UNMATCHABLE_HASH).
      if (!scrypted) await this.#hashSlots.run(() => this.#verifySecret(secret, UNMATCHABLE_HASH))
      return null
    }
    const verified: Verified = {
      secretHash: matched,
      checkedAt: now,
      validUntil,
      principal: {
        kind: 'API_CLIENT',
        credential: 'BASIC',
        tenantId: client.tenantId,
        clientId: client.clientId,
        revalidate: () => this.#revalidate(cacheKey, verified),
      },
    }
    this.#origins.set(verified.principal, verified)
    return verified
  }

  /**
   * A principal this authenticator gave, as it can be stored (a WebSocket connection's, between invocations): its
   * tenant, client and a fingerprint of the hash its secret matched. Throws for a principal it did not give.
   */
  describe(principal: ApiClientPrincipal): StoredBasic {
    const restored = this.#descriptions.get(principal)
    if (restored) return restored
    const verified = this.#origins.get(principal)
    if (!verified) throw new Error('describe: not a principal this authenticator verified')
    return {
      kind: 'API_CLIENT',
      credential: 'BASIC',
      tenantId: principal.tenantId,
      clientId: principal.clientId,
      secretHashFingerprint: secretHashFingerprint(verified.secretHash),
    }
  }

  /**
   * The principal a stored description stands for. Its `revalidate` checks what a live one's checks, once per cache
   * period (restored copies of one credential share the check): the client there, enabled, in the same tenant, and
   * the hash the secret matched still its current one, or the rotated-out one while its grace lasts.
   */
  restore(stored: StoredBasic): ApiClientPrincipal {
    const key = `${stored.clientId}\u0000${stored.secretHashFingerprint}`
    const principal: ApiClientPrincipal = {
      kind: 'API_CLIENT',
      credential: 'BASIC',
      tenantId: stored.tenantId,
      clientId: stored.clientId,
      revalidate: () => this.#revalidateRestored(key, stored),
    }
    this.#descriptions.set(principal, { ...stored })
    return principal
  }

  #revalidateRestored(key: string, stored: StoredBasic): Promise<number | null> {
    const known = this.#restored.get(key)
    if (known) {
      const until = Math.min(known.checkedAt + this.#ttl, known.validUntil)
      if (until > this.now()) return Promise.resolve(until)
    }
    const running = this.#restoredChecks.get(key)
    if (running) return running
    const check = (async () => {
      const client = await this.access.getApiClient(stored.clientId)
      const now = this.now()
      const matched =
        client &&
        [client.secretHash, client.previousSecretHash].find(
          (secretHash) =>
            typeof secretHash === 'string' && secretHashFingerprint(secretHash) === stored.secretHashFingerprint,
        )
      const validUntil = client && matched ? validUntilOf(client, matched, now) : null
      if (!client || client.disabled || client.tenantId !== stored.tenantId || validUntil === null) {
        this.#restored.delete(key)
        return null
      }
      const checked = { checkedAt: now, validUntil }
      this.#remember(this.#restored, key, checked)
      return Math.min(checked.checkedAt + this.#ttl, checked.validUntil)
    })().finally(() => this.#restoredChecks.delete(key))
    this.#restoredChecks.set(key, check)
    return check
  }

  async #revalidate(cacheKey: string, verified: Verified): Promise<number | null> {
    const current = this.#verified.get(cacheKey)
    if (current === verified && this.#trustedUntil(verified) > this.now()) return this.#trustedUntil(verified)
    return this.#recheck(cacheKey, verified)
  }

  /** Until when a verified credential is trusted without the table: its cache period, cut short by a grace end. */
  #trustedUntil(verified: Verified): number {
    return Math.min(verified.checkedAt + this.#ttl, verified.validUntil)
  }

  /**
   * Asks the table whether a verified credential still holds: the client enabled and the hash the secret matched
   * still its current one, or the one rotated out while its grace lasts. No scrypt: the cache key proves the same
   * secret was presented. Concurrent re-checks share one read.
   */
  #recheck(cacheKey: string, verified: Verified): Promise<number | null> {
    const running = this.#rechecks.get(cacheKey)
    if (running) return running
    const recheck = (async () => {
      const client = await this.access.getApiClient(verified.principal.clientId)
      const now = this.now()
      const validUntil = client ? validUntilOf(client, verified.secretHash, now) : null
      const holds =
        client !== null && !client.disabled && validUntil !== null && client.tenantId === verified.principal.tenantId
      if (!holds) {
        if (this.#verified.get(cacheKey) === verified) this.#verified.delete(cacheKey)
        return null
      }
      verified.checkedAt = now
      verified.validUntil = validUntil
      this.#touch(cacheKey, verified)
      return this.#trustedUntil(verified)
    })().finally(() => this.#rechecks.delete(cacheKey))
    this.#rechecks.set(cacheKey, recheck)
    return recheck
  }

  #touch(cacheKey: string, verified: Verified): void {
    this.#remember(this.#verified, cacheKey, verified)
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key)
    map.set(key, value)
    while (map.size > this.#maxEntries) {
      const oldest = map.keys().next().value
      if (oldest === undefined) break
      map.delete(oldest)
    }
  }

  #logFailure(kind: 'authentication failed' | 'authentication rate limited', clientId: string, source: string | null) {
    this.#failureLog?.record(kind, {
      message: kind === 'authentication failed' ? 'authentication failed' : 'authentication attempts rate limited',
      tally: { clientIds: clientId, sources: source ?? '(unknown)' },
    })
  }
}
