import { describe, expect, it } from 'vitest'
import { applyObservation } from '../../domain/observation.ts'
import { aConsent, at } from '../support/fixtures.ts'

const now = at('2026-06-02T10:00:00.000Z')

describe('applying a provider observation', () => {
  it('moves a consent forward and records the raw status', () => {
    const outcome = applyObservation(
      aConsent({ status: 'AWAITING_AUTHORIZATION', providerStatus: 'awaiting_authz' }),
      { providerStatus: 'active', status: 'ACTIVE', reason: null, validUntil: '2026-09-01T00:00:00.000Z' },
      now,
    )
    expect(outcome.kind).toBe('changed')
    if (outcome.kind !== 'changed') return
    expect(outcome.consent).toMatchObject({
      status: 'ACTIVE',
      providerStatus: 'active',
      validUntil: '2026-09-01T00:00:00.000Z',
      authorizationUrl: null,
      updatedAt: now.toISOString(),
      version: 1,
    })
    expect([outcome.from, outcome.to]).toEqual(['AWAITING_AUTHORIZATION', 'ACTIVE'])
  })

  it('ignores old news: awaiting_authz after active changes nothing', () => {
    const outcome = applyObservation(
      aConsent({ status: 'ACTIVE', providerStatus: 'active' }),
      { providerStatus: 'awaiting_authz', status: 'AWAITING_AUTHORIZATION', reason: null },
      now,
    )
    expect(outcome).toEqual({ kind: 'stale', from: 'ACTIVE', to: 'AWAITING_AUTHORIZATION' })
  })

  it('does not let a provider still saying "active" revive a consent that expired by its own clock', () => {
    const expired = aConsent({
      status: 'EXPIRED',
      statusReason: 'VALIDITY_ENDED',
      providerStatus: 'active',
      validUntil: '2026-06-01T00:00:00.000Z',
    })
    expect(applyObservation(expired, { providerStatus: 'active', status: 'ACTIVE', reason: null }, now)).toEqual({
      kind: 'stale',
      from: 'EXPIRED',
      to: 'ACTIVE',
    })
    // A re-authorisation comes with a validity that has not ended: that one does bring it back
    const renewed = applyObservation(
      expired,
      { providerStatus: 'AUTHORIZED', status: 'ACTIVE', reason: null, validUntil: '2026-09-01T00:00:00.000Z' },
      now,
    )
    expect(renewed.kind).toBe('changed')
    // and the partner may start that re-authorisation
    const started = applyObservation(
      expired,
      { providerStatus: 'AWAITING_RE_AUTHORIZATION', status: 'AWAITING_REAUTHORIZATION', reason: null },
      now,
    )
    expect(started.kind).toBe('changed')
  })

  it('reports an identical observation as unchanged', () => {
    const consent = aConsent({
      status: 'ACTIVE',
      providerStatus: 'active',
      validUntil: '2026-09-01T00:00:00.000Z',
      authorizationUrl: null,
    })
    expect(
      applyObservation(
        consent,
        { providerStatus: 'active', status: 'ACTIVE', reason: null, validUntil: consent.validUntil },
        now,
      ),
    ).toEqual({
      kind: 'unchanged',
    })
  })

  it('records a provider status change within the same unified status', () => {
    const outcome = applyObservation(
      aConsent({ status: 'AWAITING_AUTHORIZATION', providerStatus: 'started' }),
      { providerStatus: 'sca_url_retrieved', status: 'AWAITING_AUTHORIZATION', reason: null },
      now,
    )
    expect(outcome.kind).toBe('changed')
  })

  it('starts the UK 90-day reconfirmation clock when the user authorises', () => {
    const outcome = applyObservation(
      aConsent({ status: 'AWAITING_AUTHORIZATION', region: 'UK' }),
      { providerStatus: 'AUTHORIZED', status: 'ACTIVE', reason: null },
      now,
    )
    expect(outcome.kind === 'changed' && outcome.consent).toMatchObject({
      lastConfirmedAt: '2026-06-02T10:00:00.000Z',
      reconfirmBy: '2026-08-31T10:00:00.000Z',
    })
  })

  it("keeps the provider's own reconfirmation clock when it reports one", () => {
    const outcome = applyObservation(
      aConsent({ status: 'AWAITING_AUTHORIZATION', region: 'UK' }),
      {
        providerStatus: 'AUTHORIZED',
        status: 'ACTIVE',
        reason: null,
        lastConfirmedAt: '2026-06-01T00:00:00.000Z',
        reconfirmBy: '2026-08-30T00:00:00.000Z',
      },
      now,
    )
    expect(outcome.kind === 'changed' && outcome.consent.reconfirmBy).toBe('2026-08-30T00:00:00.000Z')
  })

  it('does not restart the clock when a suspended UK consent comes back', () => {
    const outcome = applyObservation(
      aConsent({
        status: 'SUSPENDED',
        region: 'UK',
        lastConfirmedAt: '2026-05-01T00:00:00.000Z',
        reconfirmBy: '2026-07-30T00:00:00.000Z',
      }),
      { providerStatus: 'active', status: 'ACTIVE', reason: null },
      now,
    )
    expect(outcome.kind === 'changed' && outcome.consent.reconfirmBy).toBe('2026-07-30T00:00:00.000Z')
  })

  it('drops the reason of the old status on a status change', () => {
    const outcome = applyObservation(
      aConsent({ status: 'ACTIVE', statusReason: null }),
      { providerStatus: 'revoked', status: 'REVOKED', reason: 'REVOKED_BY_TPP' },
      now,
    )
    expect(outcome.kind === 'changed' && outcome.consent.statusReason).toBe('REVOKED_BY_TPP')
  })
})
