// Every key format of the single table, in one place. Tenant ids are prefixed ULIDs (`tenant_01J...`; never a '#');
// partner-supplied parts such as userId or a trusted document's id only ever come last in a key, so they cannot
// collide with another entity's key.
import type { Provider } from '../domain/provider.ts'

export type EntityType =
  | 'CONSENT'
  | 'CONSENT_SECRET'
  | 'EVENT'
  | 'OUTBOX'
  | 'PROVIDER_REF'
  | 'IDEMPOTENCY'
  | 'API_CLIENT'
  | 'TENANT'
  | 'WEBHOOK_SETTINGS'
  | 'LEASE'
  | 'NOTIFICATION_RECEIPT'
  | 'ADMIN_LOG'
  | 'TRUSTED_DOCUMENT'
  | 'USER_TOKEN_REVOCATION'
  | 'WS_CONNECTION'
  | 'WS_SUBSCRIPTION'
  | 'WS_POLLER_CURSOR'

export type ItemKey = {
  readonly pk: string
  readonly sk: string
}

const pad = (n: number): string => n.toString().padStart(10, '0')

/**
 * Due-work partitions are sharded so no single index partition takes every write: a consent always lands in the same
 * shard (its id's hash), and the jobs read every shard.
 */
export const DUE_SHARDS = 8
export const shardOf = (consentId: string): number => {
  let hash = 0
  for (let i = 0; i < consentId.length; i++) hash = (hash * 31 + consentId.charCodeAt(i)) >>> 0
  return hash % DUE_SHARDS
}

/**
 * The change feed (gsi5) is sharded too, so no index partition takes every event: a consent's events always land in
 * the same shard, and a poller reads every shard (on AWS, one poller per shard).
 */
export const CHANGE_SHARDS = 4
export const changeShardOf = (consentId: string): number => shardOf(consentId) % CHANGE_SHARDS

/**
 * A WebSocket connection's shard (on AWS, the poller of a change-feed shard also pings that shard's connections), by
 * its connection id's hash.
 */
export const wsShardOf = (connectionId: string): number => shardOf(connectionId) % CHANGE_SHARDS

/** What due work a gsi3 partition holds. */
export type DueWork = 'DEADLINE' | 'DELIVERY'
export type LeasePurpose = 'RECONCILE' | 'DELIVERY'
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
  /**
   * A provider notification already taken in, by the provider's own delivery id (Worldline's `X-Request-ID`): a
   * verbatim replay finds it and is not processed again. Expires through TTL after the replay window.
   */
  notificationReceipt: (provider: Provider, deliveryId: string): ItemKey => ({
    pk: `PROVIDER#${provider}#RECEIPT#${deliveryId}`,
    sk: 'RECEIPT',
  }),
  idempotency: (tenantId: string, idempotencyKey: string): ItemKey => ({
    pk: `T#${tenantId}#IDEMPOTENCY#${idempotencyKey}`,
    sk: 'IDEMPOTENCY',
  }),
  /** gsi1 on event items: a tenant's history feed, in event-id (ULID, time) order. */
  eventByTenant: (tenantId: string, eventId: string) => ({ gsi1pk: `T#${tenantId}#EVENTS`, gsi1sk: eventId }),
  tenantEventsPartition: (tenantId: string): string => `T#${tenantId}#EVENTS`,
  /** gsi5 on event items: every tenant's changes, sharded by consent, in event-id (ULID, time) order. */
  change: (consentId: string, eventId: string) => ({ gsi5pk: `CHANGES#${changeShardOf(consentId)}`, gsi5sk: eventId }),
  changePartition: (shard: number): string => `CHANGES#${shard}`,
  /** gsi3 (sparse): when something falls due for this item; `at` is an ISO timestamp, so the sort key sorts by time. */
  due: (work: DueWork, consentId: string, at: string, suffix: string) => ({
    gsi3pk: `DUE#${work}#${shardOf(consentId)}`,
    gsi3sk: `${at}#${suffix}`,
  }),
  duePartition: (work: DueWork, shard: number): string => `DUE#${work}#${shard}`,
  /** gsi4 (sparse): when the reconciler should next re-check the consent at its provider. */
  recheck: (provider: Provider, consentId: string, at: string, tenantId: string) => ({
    gsi4pk: `RECHECK#${provider}#${shardOf(consentId)}`,
    gsi4sk: `${at}#${tenantId}#${consentId}`,
  }),
  recheckPartition: (provider: Provider, shard: number): string => `RECHECK#${provider}#${shard}`,
  /** A short-lived claim on one consent's job (re-check, webhook delivery), expiring by itself. */
  lease: (tenantId: string, consentId: string, purpose: LeasePurpose): ItemKey => ({
    pk: consentPartition(tenantId, consentId),
    sk: `LEASE#${purpose}`,
  }),
  outboxPrefix: 'OUTBOX#',
  /** A tenant's webhook settings: default endpoint and signing secrets (sealed). */
  webhookSettings: (tenantId: string): ItemKey => ({ pk: `TENANT#${tenantId}`, sk: 'WEBHOOKS' }),
  /**
   * A partner's revocation of every token it minted for one of its end users so far. The user id is the partner's own
   * value: it comes last, like in every key.
   */
  userTokenRevocation: (tenantId: string, userId: string): ItemKey => ({
    pk: `T#${tenantId}#USERTOKENS#${userId}`,
    sk: 'REVOKED',
  }),
  apiClient: (clientId: string): ItemKey => ({ pk: `APICLIENT#${clientId}`, sk: 'APICLIENT' }),
  /** gsi1 on API client items: a tenant's clients, by client id. */
  apiClientByTenant: (tenantId: string, clientId: string) => ({
    gsi1pk: `T#${tenantId}#APICLIENTS`,
    gsi1sk: clientId,
  }),
  tenantApiClientsPartition: (tenantId: string): string => `T#${tenantId}#APICLIENTS`,
  tenant: (tenantId: string): ItemKey => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' }),
  /** gsi1 on tenant items: every tenant, by id (ULIDs: in creation order). */
  tenantInList: (tenantId: string) => ({ gsi1pk: 'TENANTS', gsi1sk: tenantId }),
  tenantsPartition: 'TENANTS',
  /** An administrative change, in its tenant's partition beside the tenant item; the id is a ULID (time order). */
  adminLogEntry: (tenantId: string, entryId: string): ItemKey => ({
    pk: `TENANT#${tenantId}`,
    sk: `ADMINLOG#${entryId}`,
  }),
  adminLogPrefix: 'ADMINLOG#',
  /** gsi1 on admin log entries: every tenant's changes in one time-ordered list (a few a day: one partition). */
  adminLogInList: (entryId: string) => ({ gsi1pk: 'ADMINLOG', gsi1sk: entryId }),
  adminLogPartition: 'ADMINLOG',
  /**
   * A tenant's trusted (persisted) GraphQL document, by the id its apps send (`documentId`, or the APQ SHA-256):
   * one GetItem per lookup, each document its own partition so lookups spread.
   */
  trustedDocument: (tenantId: string, documentId: string): ItemKey => ({
    pk: `T#${tenantId}#DOC#${documentId}`,
    sk: 'DOCUMENT',
  }),
  /** gsi1 on a document's item under its manifest id (not on its hash alias): a tenant's documents, by id. */
  trustedDocumentByTenant: (tenantId: string, documentId: string) => ({
    gsi1pk: `T#${tenantId}#DOCUMENTS`,
    gsi1sk: documentId,
  }),
  tenantDocumentsPartition: (tenantId: string): string => `T#${tenantId}#DOCUMENTS`,
  /** A graphql-ws connection through API Gateway's WebSocket API; its subscriptions share the partition. */
  wsConnection: (connectionId: string): ItemKey => ({ pk: `WSCONN#${connectionId}`, sk: 'CONNECTION' }),
  wsConnectionPartition: (connectionId: string): string => `WSCONN#${connectionId}`,
  /** One subscription of a connection, by the operation id its client chose (the client's value: last). */
  wsSubscription: (connectionId: string, operationId: string): ItemKey => ({
    pk: `WSCONN#${connectionId}`,
    sk: `SUB#${operationId}`,
  }),
  wsSubscriptionPrefix: 'SUB#',
  /** gsi1 on a `consentUpdated` subscription: who watches a consent (the poller's one Query per changed consent). */
  wsWatchOfConsent: (consentId: string, connectionId: string, operationId: string) => ({
    gsi1pk: `WATCH#C#${consentId}`,
    gsi1sk: `${connectionId}#${operationId}`,
  }),
  wsConsentWatchersPartition: (consentId: string): string => `WATCH#C#${consentId}`,
  /** gsi1 on a `consentEvents` subscription: who follows a tenant's feed. */
  wsWatchOfTenantFeed: (tenantId: string, connectionId: string, operationId: string) => ({
    gsi1pk: `WATCH#T#${tenantId}`,
    gsi1sk: `${connectionId}#${operationId}`,
  }),
  wsFeedWatchersPartition: (tenantId: string): string => `WATCH#T#${tenantId}`,
  /**
   * gsi3 (sparse) on a connection: when the poller next pings it (`at` an ISO timestamp), sharded like the change
   * feed by connection id, so each shard's poller pings its own connections.
   */
  wsPingDue: (connectionId: string, at: string) => ({
    gsi3pk: `DUE#WSPING#${wsShardOf(connectionId)}`,
    gsi3sk: `${at}#${connectionId}`,
  }),
  wsPingPartition: (shard: number): string => `DUE#WSPING#${shard}`,
  /** Where the poller of one change-feed shard is (its `ShardCursor`), stored between runs. */
  wsPollerCursor: (shard: number): ItemKey => ({ pk: `WSPOLL#${shard}`, sk: 'CURSOR' }),
  /** One poller run's claim on a change-feed shard, so one runs per shard. */
  wsPollerLease: (shard: number): ItemKey => ({ pk: `WSPOLL#${shard}`, sk: 'LEASE' }),
  /** Never written: the health probe reads it to see that the table answers. */
  healthProbe: { pk: 'HEALTH#PROBE', sk: 'HEALTH#PROBE' } as ItemKey,
} as const
