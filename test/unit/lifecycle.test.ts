// The clocks of a consent as data: deadlines per status, the next one, what reaching them does, re-check intervals,
// and the webhook retry backoff.
import { describe, expect, it } from 'vitest'
import type { Consent } from '../../domain/consent.ts'
import { DEFAULT_DEADLINE_POLICY, deadlinesOf, nextCheckAt, nextDeadline, sweepStep } from '../../domain/lifecycle.ts'
import { LIFECYCLE_DEFAULTS } from '../../service/config.ts'
import { retryDelayMs } from '../../service/webhook-dispatcher.ts'
import { aConsent, T0 } from '../support/fixtures.ts'

const DAY = 86_400_000
const plus = (days: number, from = T0) => new Date(from.getTime() + days * DAY)
const iso = (days: number) => plus(days).toISOString()
const policy = DEFAULT_DEADLINE_POLICY

const active = (overrides: Partial<Consent> = {}) =>
  aConsent({ status: 'ACTIVE', linkExpiresAt: null, authorizationUrl: null, validUntil: iso(90), ...overrides })

describe('deadlines', () => {
  it('a pending consent has its link expiry only', () => {
    expect(deadlinesOf(aConsent(), policy)).toEqual([
      { kind: 'LINK_EXPIRY', at: '2026-06-08T12:00:00.000Z', target: '2026-06-08T12:00:00.000Z' },
    ])
  })

  it('a granted EEA consent has the warnings at 7 and 1 days, then the end of validity', () => {
    expect(deadlinesOf(active(), policy).map((d) => [d.kind, d.at])).toEqual([
      ['EXPIRY_WARNING', iso(83)],
      ['EXPIRY_WARNING', iso(89)],
      ['VALIDITY_END', iso(90)],
    ])
  })

  it('an ACTIVE UK consent also has its reconfirmation warnings and due date, in time order', () => {
    const consent = active({ region: 'UK', validUntil: iso(90), reconfirmBy: iso(60) })
    expect(deadlinesOf(consent, policy).map((d) => d.kind)).toEqual([
      'RECONFIRMATION_WARNING',
      'RECONFIRMATION_WARNING',
      'RECONFIRMATION_DUE',
      'EXPIRY_WARNING',
      'EXPIRY_WARNING',
      'VALIDITY_END',
    ])
  })

  it('a terminal consent has none', () => {
    expect(deadlinesOf(active({ status: 'REVOKED' }), policy)).toEqual([])
    expect(nextDeadline(active({ status: 'EXPIRED' }), policy)).toBeNull()
  })

  it('the next deadline is the first after what is handled; one that fell before the consent had it never comes', () => {
    expect(nextDeadline(active(), policy)).toMatchObject({ kind: 'EXPIRY_WARNING', at: iso(83) })
    expect(nextDeadline(active({ sweptUntil: iso(83) }), policy)).toMatchObject({ at: iso(89) })
    // Granted for 5 days: the 7-day warning was due before the consent existed.
    expect(nextDeadline(active({ validUntil: iso(5) }), policy)).toMatchObject({ kind: 'EXPIRY_WARNING', at: iso(4) })
  })

  it('honours configured offsets', () => {
    const kinds = deadlinesOf(active(), { warningOffsetsDays: [30, 14, 2] }).map((d) => d.at)
    expect(kinds).toEqual([iso(60), iso(76), iso(88), iso(90)])
  })
})

describe('a sweep step', () => {
  it('does nothing before the next deadline, and nothing twice', () => {
    expect(sweepStep(active(), plus(82), policy)).toBeNull()
    const first = sweepStep(active(), plus(84), policy)
    expect(first).toMatchObject({ kind: 'EXPIRY_WARNING', deadline: iso(90) })
    expect(first?.consent.status).toBe('ACTIVE')
    expect(first?.consent.sweptUntil).toBe(plus(84).toISOString())
    expect(sweepStep(first?.consent as Consent, plus(84), policy)).toBeNull()
  })

  it('sends only the latest warning when the sweep was late past several', () => {
    const step = sweepStep(active(), plus(89.5), policy)
    expect(step).toMatchObject({ kind: 'EXPIRY_WARNING' })
    expect(sweepStep(step?.consent as Consent, plus(89.6), policy)).toBeNull()
  })

  it('expires a granted consent at the end of validity, whatever warnings were also due', () => {
    const step = sweepStep(active(), plus(91), policy)
    expect(step).toMatchObject({ kind: 'CHANGE', deadline: iso(90) })
    expect(step?.consent).toMatchObject({ status: 'EXPIRED', statusReason: 'VALIDITY_ENDED' })
  })

  it('expires the link of a pending consent', () => {
    const step = sweepStep(aConsent(), plus(8), policy)
    expect(step?.consent).toMatchObject({
      status: 'LINK_EXPIRED',
      statusReason: 'LINK_TIMEOUT',
      authorizationUrl: null,
    })
  })

  it('records a lapsed UK reconfirmation without changing the status', () => {
    const consent = active({ region: 'UK', reconfirmBy: iso(60) })
    const step = sweepStep(consent, plus(60.5), policy)
    expect(step).toMatchObject({ kind: 'RECONFIRMATION_LAPSED', deadline: iso(60) })
    expect(step?.consent.status).toBe('ACTIVE')
  })

  it('leaves a terminal consent alone', () => {
    expect(sweepStep(active({ status: 'REVOKED' }), plus(200), policy)).toBeNull()
  })
})

describe('re-checks and retries', () => {
  const recheck = LIFECYCLE_DEFAULTS.recheck.YAPILY

  it('re-checks pending consents often, granted ones a few times a day, terminal ones never', () => {
    expect(nextCheckAt(aConsent(), T0, recheck)).toBe(new Date(T0.getTime() + recheck.pendingEveryMs).toISOString())
    expect(nextCheckAt(active(), T0, recheck)).toBe(new Date(T0.getTime() + recheck.grantedEveryMs).toISOString())
    expect(nextCheckAt(active({ status: 'SUPERSEDED' }), T0, recheck)).toBeNull()
    expect(recheck.pendingEveryMs).toBeLessThan(recheck.grantedEveryMs)
  })

  it('backs off exponentially with jitter, capped', () => {
    const settings = LIFECYCLE_DEFAULTS.delivery
    expect(retryDelayMs(1, settings, 0)).toBe(15_000)
    expect(retryDelayMs(1, settings, 0.999_999)).toBeCloseTo(30_000, -1)
    expect(retryDelayMs(4, settings, 0)).toBe(120_000)
    expect(retryDelayMs(30, settings, 1)).toBe(settings.maxBackoffMs)
    // Within 72 hours: the number of attempts this schedule makes, at the latest.
    let elapsed = 0
    let attempts = 0
    while (elapsed < settings.maxAgeMs) elapsed += retryDelayMs(++attempts, settings, 1)
    expect(attempts).toBeGreaterThan(15)
    expect(attempts).toBeLessThan(25)
  })
})
