// Local mode's stand-in for API Gateway's usage plans: one token bucket (rate, burst) and one daily quota per tenant,
// in process, with the limits `set-limits` stored on the tenant (read again after a short cache period). On AWS the
// gateway does this before a request reaches Lambda (infra/api.ts); the same numbers drive both. A decision carries
// the numbers of the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11) either way it goes; the
// transport writes them (schema/rate-limit.ts).
import { secondsToUtcMidnight, utcDayOf, type RateLimits } from '../domain/rate-limits.ts'

/** The two policies a tenant is held to: its bucket and its day's quota. */
export type RateLimitPolicyName = 'burst' | 'day'

/** One policy: `quota` requests over `windowSeconds`. */
export interface RateLimitPolicy {
  readonly quota: number
  readonly windowSeconds: number
}

/** What one request was told, in numbers (every answer carries them, refused or not). */
export interface RateLimitDecision {
  readonly allowed: boolean
  /** When refused: whole seconds until a request would be allowed. */
  readonly retryAfterSeconds: number
  /**
   * The bucket, as a quota of `burst` requests over the whole seconds it takes to refill, and the day's quota over
   * 86,400 s.
   */
  readonly policies: Readonly<Record<RateLimitPolicyName, RateLimitPolicy>>
  /**
   * The policy closest to exhaustion (the draft's rule for several policies): whichever of the bucket and the day has
   * fewer requests left; when refused, the one that refused.
   */
  readonly closest: RateLimitPolicyName
  /** Requests `closest` has left (0 when refused). */
  readonly remaining: number
  /** Whole seconds until `closest` is whole again (the bucket full, or 00:00 UTC); when refused, `retryAfterSeconds`. */
  readonly resetSeconds: number
}

export interface RateLimiterOptions {
  /**
   * How long a tenant's limits are trusted before the table is read again: `set-limits` takes effect on a running
   * process within this.
   * @default 5_000
   */
  readonly limitsCacheMs?: number
  /**
   * Tenants whose buckets are kept at most; the least recently used go first (a tenant seen again starts full).
   * @default 10_000
   */
  readonly maxTenants?: number
}

interface Bucket {
  readonly limits: RateLimits
  tokens: number
  refilledAt: number
  day: number
  usedToday: number
}

interface CachedLimits {
  readonly limits: RateLimits | null
  readonly until: number
}

const sameLimits = (a: RateLimits, b: RateLimits) =>
  a.rate === b.rate && a.burst === b.burst && a.quotaPerDay === b.quotaPerDay

export class TenantRateLimiter {
  readonly #buckets = new Map<string, Bucket>()
  readonly #limits = new Map<string, CachedLimits>()
  readonly #loading = new Map<string, Promise<RateLimits | null>>()
  readonly #cacheMs: number
  readonly #maxTenants: number

  constructor(
    /** A tenant's own limits, or null when it has none (then it is not limited here). */
    private readonly limitsOf: (tenantId: string) => Promise<RateLimits | null>,
    options: RateLimiterOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.#cacheMs = options.limitsCacheMs ?? 5_000
    this.#maxTenants = options.maxTenants ?? 10_000
  }

  /**
   * Counts one request of `tenantId`: allowed while its bucket holds a token and its day's quota lasts; null when the
   * tenant has no limits. A refused request takes nothing.
   */
  async take(tenantId: string): Promise<RateLimitDecision | null> {
    const limits = await this.#limitsOf(tenantId)
    if (!limits) {
      this.#buckets.delete(tenantId)
      return null
    }
    const now = this.now()
    const bucket = this.#bucketOf(tenantId, limits, now)
    const elapsed = Math.max(0, now - bucket.refilledAt) / 1000
    bucket.tokens = Math.min(limits.burst, bucket.tokens + elapsed * limits.rate)
    bucket.refilledAt = now
    const day = utcDayOf(now)
    if (bucket.day !== day) {
      bucket.day = day
      bucket.usedToday = 0
    }
    const quotaLeft = limits.quotaPerDay - bucket.usedToday
    if (quotaLeft <= 0) return this.#refused(limits, secondsToUtcMidnight(now), 'day')
    if (bucket.tokens < 1) return this.#refused(limits, Math.ceil((1 - bucket.tokens) / limits.rate), 'burst')
    bucket.tokens -= 1
    bucket.usedToday += 1
    const inBucket = Math.floor(bucket.tokens)
    const leftToday = limits.quotaPerDay - bucket.usedToday
    const policies = policiesOf(limits)
    // The draft's rule for several policies: name the one closest to exhaustion.
    return leftToday < inBucket
      ? {
          allowed: true,
          retryAfterSeconds: 0,
          policies,
          closest: 'day',
          remaining: leftToday,
          resetSeconds: secondsToUtcMidnight(now),
        }
      : {
          allowed: true,
          retryAfterSeconds: 0,
          policies,
          closest: 'burst',
          remaining: inBucket,
          resetSeconds: Math.ceil((limits.burst - bucket.tokens) / limits.rate),
        }
  }

  #refused(limits: RateLimits, retryAfterSeconds: number, by: RateLimitPolicyName): RateLimitDecision {
    return {
      allowed: false,
      retryAfterSeconds,
      policies: policiesOf(limits),
      closest: by,
      remaining: 0,
      resetSeconds: retryAfterSeconds,
    }
  }

  #bucketOf(tenantId: string, limits: RateLimits, now: number): Bucket {
    const known = this.#buckets.get(tenantId)
    this.#buckets.delete(tenantId)
    // New limits start a full bucket but keep the day's count: a raised quota is not a fresh day.
    const bucket: Bucket =
      known && sameLimits(known.limits, limits)
        ? known
        : {
            limits,
            tokens: limits.burst,
            refilledAt: now,
            day: known?.day ?? utcDayOf(now),
            usedToday: known?.usedToday ?? 0,
          }
    this.#buckets.set(tenantId, bucket)
    while (this.#buckets.size > this.#maxTenants) {
      const oldest = this.#buckets.keys().next().value
      if (oldest === undefined) break
      this.#buckets.delete(oldest)
    }
    return bucket
  }

  async #limitsOf(tenantId: string): Promise<RateLimits | null> {
    const cached = this.#limits.get(tenantId)
    if (cached && cached.until > this.now()) return cached.limits
    const running = this.#loading.get(tenantId)
    if (running) return running
    const load = this.limitsOf(tenantId)
      .then((limits) => {
        this.#limits.set(tenantId, { limits, until: this.now() + this.#cacheMs })
        if (this.#limits.size > this.#maxTenants) this.#limits.delete(this.#limits.keys().next().value ?? '')
        return limits
      })
      .finally(() => this.#loading.delete(tenantId))
    this.#loading.set(tenantId, load)
    return load
  }
}

/** The bucket over the whole seconds it takes to refill, and the day's quota over a day. */
function policiesOf(limits: RateLimits): RateLimitDecision['policies'] {
  return {
    burst: { quota: limits.burst, windowSeconds: Math.max(1, Math.ceil(limits.burst / limits.rate)) },
    day: { quota: limits.quotaPerDay, windowSeconds: 86_400 },
  }
}
