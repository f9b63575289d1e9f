// Test data builders: a valid consent by default, overridden field by field.
import type { Consent } from '../../domain/consent.ts'

export const T0 = new Date('2026-06-01T12:00:00.000Z')

export function aConsent(overrides: Partial<Consent> = {}): Consent {
  return {
    id: '01JD0000000000000000000001',
    tenantId: '01JD00000000000000000TENAN',
    provider: 'FINQWARE',
    providerConsentId: 'fq-1',
    providerStatus: 'created',
    userId: 'user-1',
    institution: { id: 'bt_ro', name: 'Banca Transilvania', country: 'RO' },
    region: 'EEA',
    scope: ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'],
    validityDays: 90,
    status: 'CREATED',
    statusReason: null,
    authorizationUrl: 'https://bank.example/link/1',
    linkExpiresAt: '2026-06-08T12:00:00.000Z',
    validUntil: null,
    lastConfirmedAt: null,
    reconfirmBy: null,
    redirectUrl: null,
    webhookUrl: null,
    supersededBy: null,
    supersedes: null,
    deletion: null,
    nextDeadline: null,
    sweptUntil: null,
    nextCheckAt: null,
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    version: 1,
    ...overrides,
  }
}

export const at = (iso: string) => new Date(iso)
