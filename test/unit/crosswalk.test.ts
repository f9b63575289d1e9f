import { describe, expect, it } from 'vitest'
import { mapProviderStatus, STATUS_CROSSWALK } from '../../domain/crosswalk.ts'
import { PROVIDERS, type Provider } from '../../domain/provider.ts'
import type { ConsentStatus } from '../../domain/status.ts'

// docs/providers.md's crosswalk, row by row: every raw status each provider documents.
const EXPECTED: Record<Provider, Record<string, ConsentStatus>> = {
  FINQWARE: {
    created: 'CREATED',
    started: 'AWAITING_AUTHORIZATION',
    requested: 'AWAITING_AUTHORIZATION',
    sca_url_retrieved: 'AWAITING_AUTHORIZATION',
    awaiting_authz: 'AWAITING_AUTHORIZATION',
    authorized: 'AUTHORIZED',
    active: 'ACTIVE',
    completed: 'ACTIVE',
    suspended: 'SUSPENDED',
    failed: 'FAILED',
    expired: 'LINK_EXPIRED',
    deactivated: 'EXPIRED',
    revoked: 'REVOKED',
  },
  WORLDLINE: {
    Open: 'CREATED',
    Pending: 'AWAITING_AUTHORIZATION',
    PartiallyAuthorised: 'PARTIALLY_AUTHORIZED',
    Authorised: 'ACTIVE',
    Rejected: 'REJECTED',
    Error: 'FAILED',
    Expired: 'EXPIRED',
    Revoked: 'REVOKED',
    RevokedAtTpp: 'REVOKED',
    Inactive: 'SUPERSEDED',
    TimeoutAtTpp: 'LINK_EXPIRED',
  },
  YAPILY: {
    AWAITING_AUTHORIZATION: 'AWAITING_AUTHORIZATION',
    AWAITING_SCA_METHOD: 'AWAITING_AUTHORIZATION',
    AWAITING_SCA_CODE: 'AWAITING_AUTHORIZATION',
    AWAITING_DECOUPLED_AUTHORIZATION: 'AWAITING_AUTHORIZATION',
    AWAITING_PRE_AUTHORIZATION: 'AWAITING_AUTHORIZATION',
    AWAITING_DECOUPLED_PRE_AUTHORIZATION: 'AWAITING_AUTHORIZATION',
    PRE_AUTHORIZED: 'AWAITING_AUTHORIZATION',
    AWAITING_FURTHER_AUTHORIZATION: 'PARTIALLY_AUTHORIZED',
    AUTHORIZED: 'ACTIVE',
    AWAITING_RE_AUTHORIZATION: 'AWAITING_REAUTHORIZATION',
    REJECTED: 'REJECTED',
    FAILED: 'FAILED',
    INVALID: 'FAILED',
    EXPIRED: 'EXPIRED',
    REVOKED: 'REVOKED',
    UNKNOWN: 'UNKNOWN',
    CONSUMED: 'UNKNOWN',
  },
}

describe.each(PROVIDERS)('%s status crosswalk', (provider) => {
  const cases = Object.entries(EXPECTED[provider])

  it.each(cases)('maps %s to %s', (raw, status) => {
    expect(mapProviderStatus(provider, raw).status).toBe(status)
  })

  it('lists no raw status this test does not cover', () => {
    expect(Object.keys(STATUS_CROSSWALK[provider]).sort()).toEqual(Object.keys(EXPECTED[provider]).sort())
  })

  it.each(['', 'definitely_not_a_status', 'AWAITING_DECOUPLING', 'ACTIVE!'])('maps unknown %j to UNKNOWN', (raw) => {
    expect(mapProviderStatus(provider, raw)).toEqual({ status: 'UNKNOWN', reason: null })
  })

  it('maps a missing status to UNKNOWN', () => {
    expect(mapProviderStatus(provider, null).status).toBe('UNKNOWN')
    expect(mapProviderStatus(provider, undefined).status).toBe('UNKNOWN')
  })

  it('tolerates case and surrounding space', () => {
    for (const [raw, status] of cases) {
      expect(mapProviderStatus(provider, ` ${raw.toUpperCase()} `).status).toBe(status)
      expect(mapProviderStatus(provider, raw.toLowerCase()).status).toBe(status)
    }
  })
})

describe('status reasons', () => {
  it('tells link expiry from access expiry at Finqware', () => {
    expect(mapProviderStatus('FINQWARE', 'expired')).toEqual({ status: 'LINK_EXPIRED', reason: 'LINK_TIMEOUT' })
    expect(mapProviderStatus('FINQWARE', 'deactivated')).toEqual({ status: 'EXPIRED', reason: 'VALIDITY_ENDED' })
  })

  it('keeps which kind of revocation Worldline reported', () => {
    expect(mapProviderStatus('WORLDLINE', 'Revoked').reason).toBe('REVOKED_AT_BANK')
    expect(mapProviderStatus('WORLDLINE', 'RevokedAtTpp').reason).toBe('REVOKED_AT_TPP')
    expect(mapProviderStatus('WORLDLINE', 'Inactive')).toEqual({ status: 'SUPERSEDED', reason: 'SUPERSEDED' })
    expect(mapProviderStatus('WORLDLINE', 'TimeoutAtTpp')).toEqual({ status: 'LINK_EXPIRED', reason: 'LINK_TIMEOUT' })
  })

  it('reads Finqware revoked past authorized_until (at the provider clock) as the end of validity, before it as revoked', () => {
    const validUntil = '2026-06-01T00:00:00.000Z'
    expect(
      mapProviderStatus('FINQWARE', 'revoked', { validUntil, providerNow: new Date('2026-06-01T00:00:00.000Z') }),
    ).toEqual({ status: 'EXPIRED', reason: 'VALIDITY_ENDED' })
    expect(
      mapProviderStatus('FINQWARE', 'revoked', { validUntil, providerNow: new Date('2026-05-31T23:59:59.999Z') }),
    ).toEqual({ status: 'REVOKED', reason: 'REVOKED_BY_TPP' })
    expect(
      mapProviderStatus('FINQWARE', 'revoked', { validUntil: null, providerNow: new Date('2030-01-01') }).status,
    ).toBe('REVOKED')
    // The same dates change nothing where the label decides alone.
    expect(mapProviderStatus('YAPILY', 'REVOKED', { validUntil, providerNow: new Date('2030-01-01') }).status).toBe(
      'REVOKED',
    )
  })
})
