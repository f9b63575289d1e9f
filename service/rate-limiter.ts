// Local mode's stand-in for API Gateway's usage plans: one token bucket (rate, burst) and one daily quota per tenant,
// in process, with the limits `set-limits` stored on the tenant (read again after a short cache period). On AWS the
// gateway does this before a request reaches Lambda (infra/api.ts); the same numbers drive both. The answer carries
// the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11) either way it goes.
import { secondsToUtcMidnight, utcDayOf, type RateLimits } from '../domain/rate-limits.ts'

/** What one request was told. */
export interface RateLimitDecision {
  readonly allowed: boolean
  /** When refused: whole seconds until a request would be allowed. */
  readonly retryAfterSeconds: number
  /** `RateLimit-Policy` and `RateLimit` (structured fields), for every answer, refused or not. */
  readonly headers: Readonly<Record<'ratelimit-policy' | 'ratelimit', string>>
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
    if (quotaLeft <= 0) return this.#refused(limits, bucket, secondsToUtcMidnight(now), 'day')
    if (bucket.tokens < 1) return this.#refused(limits, bucket, Math.ceil((1 - bucket.tokens) / limits.rate), 'rate')
    bucket.tokens -= 1
    bucket.usedToday += 1
    return { allowed: true, retryAfterSeconds: 0, headers: headersOf(limits, bucket, now) }
  }

  #refused(limits: RateLimits, bucket: Bucket, retryAfterSeconds: number, by: 'rate' | 'day'): RateLimitDecision {
    const ratelimit = `"${by === 'rate' ? RATE_POLICY : DAY_POLICY}";r=0;t=${retryAfterSeconds}`
    return { allowed: false, retryAfterSeconds, headers: { 'ratelimit-policy': policyOf(limits), ratelimit } }
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

/** The policy names of the fields: the bucket (its size over the seconds it takes to fill) and the day's quota. */
const RATE_POLICY = 'burst'
const DAY_POLICY = 'day'

/**
 * `RateLimit-Policy`: the bucket as a quota of `burst` requests over the whole seconds it takes to refill, and the
 * day's quota over 86,400 s.
 */
function policyOf(limits: RateLimits): string {
  const window = Math.max(1, Math.ceil(limits.burst / limits.rate))
  return `"${RATE_POLICY}";q=${limits.burst};w=${window}, "${DAY_POLICY}";q=${limits.quotaPerDay};w=86400`
}

/**
 * `RateLimit`: the draft asks for the policy closest to exhaustion, so whichever of the bucket and the day has fewer
 * requests left; `t` is when it is whole again (the bucket full, or 00:00 UTC).
 */
function headersOf(limits: RateLimits, bucket: Bucket, now: number): RateLimitDecision['headers'] {
  const inBucket = Math.floor(bucket.tokens)
  const leftToday = limits.quotaPerDay - bucket.usedToday
  const ratelimit =
    leftToday < inBucket
      ? `"${DAY_POLICY}";r=${leftToday};t=${secondsToUtcMidnight(now)}`
      : `"${RATE_POLICY}";r=${inBucket};t=${Math.ceil((limits.burst - bucket.tokens) / limits.rate)}`
  return { 'ratelimit-policy': policyOf(limits), ratelimit }
}
