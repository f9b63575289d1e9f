// offline: local mode's request limits in numbers (service/rate-limiter.ts) and the IETF RateLimit fields written
// from them (schema/rate-limit.ts), on a clock the test moves: the same strings test/e2e/rate-limits.test.ts reads.
import { describe, expect, it } from 'vitest'
import { TenantRateLimiter } from '../../service/rate-limiter.ts'
import { rateLimitFields } from '../../schema/rate-limit.ts'
import type { RateLimits } from '../../domain/rate-limits.ts'

const TENANT = 'tenant_A'

function limiterAt(limits: RateLimits, start: string) {
  const clock = { now: Date.parse(start) }
  const limiter = new TenantRateLimiter(
    async () => limits,
    {},
    () => clock.now,
  )
  return { clock, take: async () => (await limiter.take(TENANT))! }
}

describe('the RateLimit fields', () => {
  it('name the bucket while it has fewer requests left than the day, and the refusal with Retry-After as t', async () => {
    // Prepare
    const { take } = limiterAt({ rate: 0.5, burst: 2, quotaPerDay: 1000 }, '2026-03-02T10:00:00Z')

    // Act
    const first = await take()
    const second = await take()
    const third = await take()

    // Assert
    expect(first).toMatchObject({ allowed: true, closest: 'burst', remaining: 1, resetSeconds: 2 })
    expect(rateLimitFields(first)).toEqual({
      'ratelimit-policy': '"burst";q=2;w=4, "day";q=1000;w=86400',
      ratelimit: '"burst";r=1;t=2',
    })
    expect(rateLimitFields(second).ratelimit).toBe('"burst";r=0;t=4')
    expect(third).toMatchObject({ allowed: false, retryAfterSeconds: 2 })
    expect(rateLimitFields(third)).toEqual({
      'ratelimit-policy': '"burst";q=2;w=4, "day";q=1000;w=86400',
      ratelimit: '"burst";r=0;t=2',
    })
  })

  it('name the day once its quota runs lower than the bucket, and its refusal until 00:00 UTC', async () => {
    // Prepare: 100 s to midnight
    const { take } = limiterAt({ rate: 10, burst: 5, quotaPerDay: 3 }, '2026-03-02T23:58:20Z')

    // Act
    const answers = [await take(), await take(), await take(), await take()]

    // Assert
    expect(answers.map((answer) => rateLimitFields(answer).ratelimit)).toEqual([
      '"day";r=2;t=100',
      '"day";r=1;t=100',
      '"day";r=0;t=100',
      '"day";r=0;t=100',
    ])
    expect(answers[3]).toMatchObject({ allowed: false, retryAfterSeconds: 100 })
    expect(rateLimitFields(answers[3]!)['ratelimit-policy']).toBe('"burst";q=5;w=1, "day";q=3;w=86400')
  })
})
