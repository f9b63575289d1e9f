// A tenant's request limits (its usage plan): a steady rate with a burst above it, and a quota per UTC day. The same
// three numbers drive API Gateway's usage plan on AWS and the in-process token bucket under `npm start`.

export interface RateLimits {
  /** Requests per second, sustained (the bucket's refill rate). */
  readonly rate: number
  /** Requests at once above the rate (the bucket's size). */
  readonly burst: number
  /** Requests per UTC day; the count starts again at 00:00 UTC, as API Gateway's DAY quota period does. */
  readonly quotaPerDay: number
}

/**
 * What a usage plan may say: API Gateway's own bounds (a stage's default account limits are 10,000 requests per
 * second with a burst of 5,000; a rate above the account's is never reached) and a day's quota a 32-bit counter holds.
 */
export const RATE_LIMIT_BOUNDS = {
  maxRate: 10_000,
  maxBurst: 5_000,
  maxQuotaPerDay: 2_000_000_000,
} as const

/**
 * The stage's default usage plan on AWS: what a tenant without limits of its own shares with every other such tenant
 * (API Gateway needs a usage plan for every key its authorizer names). Set each tenant's own with `set-limits`.
 */
export const DEFAULT_STAGE_LIMITS: RateLimits = { rate: 50, burst: 100, quotaPerDay: 500_000 }

const SECONDS_PER_DAY = 86_400

/** What is wrong with `limits`, one sentence each; empty when they are usable. */
export function rateLimitProblems(limits: RateLimits): string[] {
  const problems: string[] = []
  const { rate, burst, quotaPerDay } = limits
  if (
    !Number.isFinite(rate) ||
    rate <= 0 ||
    rate > RATE_LIMIT_BOUNDS.maxRate ||
    Math.round(rate * 1000) !== rate * 1000
  )
    problems.push(`the rate must be above 0 and at most ${RATE_LIMIT_BOUNDS.maxRate} requests per second (3 decimals)`)
  if (!Number.isInteger(burst) || burst < 1 || burst > RATE_LIMIT_BOUNDS.maxBurst)
    problems.push(`the burst must be a whole number from 1 to ${RATE_LIMIT_BOUNDS.maxBurst}`)
  if (!Number.isInteger(quotaPerDay) || quotaPerDay < 1 || quotaPerDay > RATE_LIMIT_BOUNDS.maxQuotaPerDay)
    problems.push(`the daily quota must be a whole number from 1 to ${RATE_LIMIT_BOUNDS.maxQuotaPerDay}`)
  return problems
}

/** Seconds from `now` (epoch ms) to the next 00:00 UTC, at least 1. */
export function secondsToUtcMidnight(now: number): number {
  return Math.max(1, SECONDS_PER_DAY - (Math.floor(now / 1000) % SECONDS_PER_DAY))
}

/** The UTC day `now` falls in (days since the epoch). */
export const utcDayOf = (now: number): number => Math.floor(now / 1000 / SECONDS_PER_DAY)
