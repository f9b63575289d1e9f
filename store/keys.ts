// Every key format of the single table, in one place. Tenant ids are ULIDs (no '#'); partner-supplied parts such as
// userId only ever come last in a key, so they cannot collide with another entity's key.
import type { Provider } from '../domain/provider.ts'

export type EntityType =
  'CONSENT' | 'CONSENT_SECRET' | 'EVENT' | 'OUTBOX' | 'PROVIDER_REF' | 'IDEMPOTENCY' | 'API_CLIENT' | 'TENANT'

export type ItemKey = {
  readonly pk: string
  readonly sk: string
}

const pad = (n: number): string => n.toString().padStart(10, '0')
const consentPartition = (tenantId: string, consentId: string): string => `T#${tenantId}#C#${consentId}`

export const keys = {
  /** The consent itself; its events and outbox items share the partition (one Query reads its history). */
  consent: (tenantId: string, consentId: string): ItemKey => ({
    pk: consentPartition(tenantId, consentId),
    sk: 'CONSENT',
  }),
  /** gsi1: all of a tenant's consents, newest first. */
  consentByTenant: (tenantId: string, consentId: string) => ({ gsi1pk: `T#${tenantId}#CONSENTS`, gsi1sk: consentId }),
  tenantConsentsPartition: (tenantId: string): string => `T#${tenantId}#CONSENTS`,
  /** gsi2: one user's consents within a tenant, newest first. */
  consentByUser: (tenantId: string, userId: string, consentId: string) => ({
    gsi2pk: `T#${tenantId}#U#${userId}`,
    gsi2sk: consentId,
  }),
  userConsentsPartition: (tenantId: string, userId: string): string => `T#${tenantId}#U#${userId}`,
  /** History: sort key = consent version, so events read back in order. */
  event: (tenantId: string, consentId: string, version: number): ItemKey => ({
    pk: consentPartition(tenantId, consentId),
    sk: `EVENT#${pad(version)}`,
  }),
  eventPrefix: 'EVENT#',
  /** The change waiting to be told to the partner (delivered by the webhook relay). */
  outbox: (tenantId: string, consentId: string, version: number): ItemKey => ({
    pk: consentPartition(tenantId, consentId),
    sk: `OUTBOX#${pad(version)}`,
  }),
  /** The consent's provider-issued secret (sealed), beside the consent, never inside it. */
  consentSecret: (tenantId: string, consentId: string): ItemKey => ({
    pk: consentPartition(tenantId, consentId),
    sk: 'SECRET#PROVIDER_TOKEN',
  }),
  /** Provider reference -> consent, written in the consent's creating transaction: strongly consistent lookups. */
  providerRef: (provider: Provider, providerConsentId: string): ItemKey => ({
    pk: `PROVIDER#${provider}#REF#${providerConsentId}`,
    sk: 'REF',
  }),
  idempotency: (tenantId: string, idempotencyKey: string): ItemKey => ({
    pk: `T#${tenantId}#IDEMPOTENCY#${idempotencyKey}`,
    sk: 'IDEMPOTENCY',
  }),
  apiClient: (clientId: string): ItemKey => ({ pk: `APICLIENT#${clientId}`, sk: 'APICLIENT' }),
  tenant: (tenantId: string): ItemKey => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' }),
} as const
