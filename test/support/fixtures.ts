// Test data builders: a valid consent by default, overridden field by field.
import { newConsent, newConsentEvent, type Consent } from '../../domain/consent.ts'
import { notificationFor } from '../../domain/notification.ts'
import type { GatewayConfig } from '../../service/config.ts'
import type { ConsentRepository } from '../../store/consent-repository.ts'

export const T0 = new Date('2026-06-01T12:00:00.000Z')

export function aConsent(overrides: Partial<Consent> = {}): Consent {
  return {
    ...newConsent({
      id: '01JD0000000000000000000001',
      tenantId: '01JD00000000000000000TENAN',
      provider: 'FINQWARE',
      providerConsentId: 'fq-1',
      userId: 'user-1',
      providerUserRef: null,
      institution: { id: 'bt_ro', name: 'Banca Transilvania', country: 'RO' },
      region: 'EEA',
      scope: ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'],
      validityDays: 90,
      observed: {
        providerStatus: 'created',
        status: 'CREATED',
        reason: null,
        authorizationUrl: 'https://bank.example/link/1',
        linkExpiresAt: '2026-06-08T12:00:00.000Z',
      },
      at: T0.toISOString(),
    }),
    ...overrides,
  }
}

export const at = (iso: string) => new Date(iso)

/** A gateway configuration over a test table, with no providers unless given: for tests of the jobs. */
export function aGatewayConfig(
  table: { readonly tableName: string; readonly endpoint?: string | undefined },
  overrides: Partial<GatewayConfig> = {},
): GatewayConfig {
  return {
    tableName: table.tableName,
    dynamoEndpoint: table.endpoint,
    publicBaseUrl: 'http://127.0.0.1:1',
    cursorSecret: 'test-cursor-secret-0123456789abcdef',
    userReferenceKey: 'test-user-reference-key-0123456789abcdef',
    localMode: true,
    subscriptionPollIntervalMs: 100,
    subscriptionMaxSeconds: 30,
    authCacheTtlMs: 60_000,
    providers: {},
    ...overrides,
  }
}

/**
 * Writes `consent` (version 1) and then one version per status in `transitions`, each with its event and outbox
 * message, as the gateway writes them; returns the last version.
 */
export async function writeConsentWithTransitions(
  repo: ConsentRepository,
  consent: Consent,
  transitions: readonly Consent['status'][],
  newId: () => string,
  /** When each transition happens (the events' `at`, so when their messages fall due). */
  at: () => string = () => new Date().toISOString(),
): Promise<Consent> {
  const created = newConsentEvent(consent, null, { id: newId(), source: 'API', initiator: 'api-client:test' })
  await repo.create(consent, created, notificationFor(created, consent))
  let current = consent
  for (const status of transitions) {
    const next = { ...current, status, version: current.version + 1, updatedAt: at() }
    const event = newConsentEvent(next, current.status, {
      id: newId(),
      source: 'PROVIDER_WEBHOOK',
      initiator: 'provider:finqware',
    })
    await repo.update(next, current.version, event, notificationFor(event, next))
    current = next
  }
  return current
}
