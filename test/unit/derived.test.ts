import { describe, expect, it } from 'vitest'
import {
  canAccessData,
  deriveState,
  effectiveStatus,
  nextAction,
  showingAs,
  storedStatusesShownAs,
} from '../../domain/derived.ts'
import { CONSENT_STATUSES } from '../../domain/status.ts'
import { aConsent, at } from '../support/fixtures.ts'

const caps = { canReauthorize: false }

describe('effective status', () => {
  const active = aConsent({ status: 'ACTIVE', validUntil: '2026-09-01T00:00:00.000Z', authorizationUrl: null })

  it('is the stored status while no deadline has passed', () => {
    expect(effectiveStatus(active, at('2026-08-31T23:59:59.999Z'))).toEqual({ status: 'ACTIVE', reason: null })
  })

  it('is never ACTIVE from validUntil on', () => {
    expect(effectiveStatus(active, at('2026-09-01T00:00:00.000Z'))).toEqual({
      status: 'EXPIRED',
      reason: 'VALIDITY_ENDED',
    })
  })

  it.each(['AUTHORIZED', 'SUSPENDED', 'AWAITING_REAUTHORIZATION'] as const)(
    'expires %s at validUntil too',
    (status) => {
      expect(effectiveStatus({ ...active, status }, at('2026-10-01T00:00:00.000Z')).status).toBe('EXPIRED')
    },
  )

  it.each(['CREATED', 'AWAITING_AUTHORIZATION', 'PARTIALLY_AUTHORIZED'] as const)(
    'is never %s past linkExpiresAt',
    (status) => {
      const pending = aConsent({ status, linkExpiresAt: '2026-06-08T12:00:00.000Z' })
      expect(effectiveStatus(pending, at('2026-06-08T11:59:59.000Z')).status).toBe(status)
      expect(effectiveStatus(pending, at('2026-06-08T12:00:00.000Z'))).toEqual({
        status: 'LINK_EXPIRED',
        reason: 'LINK_TIMEOUT',
      })
    },
  )

  it('leaves an ACTIVE consent alone when its link deadline passes (the link is used up, not the access)', () => {
    expect(
      effectiveStatus({ ...active, linkExpiresAt: '2026-06-08T12:00:00.000Z' }, at('2026-07-01T00:00:00.000Z')).status,
    ).toBe('ACTIVE')
  })

  it('does not move final statuses', () => {
    const revoked = aConsent({
      status: 'REVOKED',
      statusReason: 'REVOKED_BY_TPP',
      validUntil: '2026-06-02T00:00:00.000Z',
    })
    expect(effectiveStatus(revoked, at('2027-01-01T00:00:00.000Z'))).toEqual({
      status: 'REVOKED',
      reason: 'REVOKED_BY_TPP',
    })
  })
})

describe('canAccessData', () => {
  it('is true only for an effectively ACTIVE consent', () => {
    const now = at('2026-07-01T00:00:00.000Z')
    for (const status of CONSENT_STATUSES) {
      expect(canAccessData(aConsent({ status, validUntil: null, linkExpiresAt: null }), now)).toBe(status === 'ACTIVE')
    }
  })

  it('stops for a UK consent whose reconfirmation lapsed, while the status stays ACTIVE', () => {
    const uk = aConsent({ status: 'ACTIVE', region: 'UK', reconfirmBy: '2026-09-01T00:00:00.000Z', validUntil: null })
    expect(canAccessData(uk, at('2026-08-31T00:00:00.000Z'))).toBe(true)
    const lapsed = at('2026-09-01T00:00:00.000Z')
    expect(canAccessData(uk, lapsed)).toBe(false)
    expect(effectiveStatus(uk, lapsed).status).toBe('ACTIVE')
    expect(nextAction(uk, lapsed, caps)).toBe('RECONFIRM')
  })

  it('ignores reconfirmBy outside the UK', () => {
    const eea = aConsent({ status: 'ACTIVE', region: 'EEA', reconfirmBy: '2026-09-01T00:00:00.000Z' })
    expect(canAccessData(eea, at('2026-10-01T00:00:00.000Z'))).toBe(true)
  })
})

describe('nextAction', () => {
  const now = at('2026-06-02T00:00:00.000Z')

  it('sends the user to the bank while a link is open, and waits when there is none', () => {
    expect(nextAction(aConsent({ status: 'AWAITING_AUTHORIZATION' }), now, caps)).toBe('REDIRECT_USER')
    expect(nextAction(aConsent({ status: 'PARTIALLY_AUTHORIZED', authorizationUrl: null }), now, caps)).toBe('WAIT')
  })

  it('waits while the provider works', () => {
    for (const status of ['AUTHORIZED', 'SUSPENDED', 'UNKNOWN'] as const)
      expect(nextAction(aConsent({ status }), now, caps)).toBe('WAIT')
  })

  it('has nothing to do for a healthy ACTIVE consent', () => {
    expect(nextAction(aConsent({ status: 'ACTIVE', authorizationUrl: null }), now, caps)).toBe('NONE')
  })

  it('asks for a new consent after a final status, or re-authorisation where the provider can', () => {
    for (const status of ['REJECTED', 'FAILED', 'LINK_EXPIRED', 'REVOKED', 'SUPERSEDED'] as const) {
      expect(nextAction(aConsent({ status }), now, caps)).toBe('CREATE_NEW')
    }
    expect(nextAction(aConsent({ status: 'EXPIRED' }), now, caps)).toBe('CREATE_NEW')
    expect(nextAction(aConsent({ status: 'EXPIRED' }), now, { canReauthorize: true })).toBe('REAUTHORIZE')
  })

  it('follows the clock: a lapsed link means CREATE_NEW even before any job ran', () => {
    const pending = aConsent({ status: 'AWAITING_AUTHORIZATION', linkExpiresAt: '2026-06-01T13:00:00.000Z' })
    expect(deriveState(pending, now, caps)).toMatchObject({
      status: 'LINK_EXPIRED',
      nextAction: 'CREATE_NEW',
      isTerminal: true,
    })
  })
})

describe('storedStatusesShownAs', () => {
  it('finds every stored status that can show as the wanted one', () => {
    const now = at('2030-01-01T00:00:00.000Z')
    for (const wanted of CONSENT_STATUSES) {
      const sources = storedStatusesShownAs(wanted)
      for (const stored of CONSENT_STATUSES) {
        const shown = effectiveStatus(
          aConsent({
            status: stored,
            linkExpiresAt: '2026-01-01T00:00:00.000Z',
            validUntil: '2026-01-01T00:00:00.000Z',
          }),
          now,
        ).status
        if (shown === wanted) expect(sources).toContain(stored)
      }
      expect(sources).toContain(wanted)
    }
  })
})

describe('showingAs', () => {
  it('keeps exactly the consents whose effective status is wanted, among the stored statuses it reads', () => {
    const now = at('2030-01-01T00:00:00.000Z')
    for (const wanted of CONSENT_STATUSES) {
      const query = showingAs([wanted], now)
      for (const stored of CONSENT_STATUSES) {
        const consent = aConsent({
          status: stored,
          linkExpiresAt: '2026-01-01T00:00:00.000Z',
          validUntil: '2026-01-01T00:00:00.000Z',
        })
        const shown = effectiveStatus(consent, now).status
        expect(query.keep(consent)).toBe(shown === wanted)
        if (shown === wanted) expect(query.storedStatus).toContain(stored)
      }
    }
  })
})
