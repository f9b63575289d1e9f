// The graphql-ws poller's test world (test/integration/ws-poller*.test.ts): a fresh table per test with a tenant and its
// API client, consents seeded and advanced through the store, connections and subscriptions stored as the WebSocket
// API's handlers store them, and a recording stand-in for API Gateway's management API (the one part of AWS that
// cannot run here).
import { ulid } from 'ulid'
import { expect } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { encodePublicId } from '../../domain/ids.ts'
import { notificationFor } from '../../domain/notification.ts'
import { graphQLServicesOf } from '../../schema/server.ts'
import { storedOperations } from '../../schema/stored-operations.ts'
import type { ConnectionSender } from '../../service/connection-sender.ts'
import { createGateway, type Gateway } from '../../composition/gateway.ts'
import { silentLogger } from '../../runtime/logging.ts'
import type { PrincipalStorage } from '../../service/principal.ts'
import { createTenantAdmin } from '../../composition/tenant-admin.ts'
import { createWsPoller } from '../../composition/ws-poller.ts'
import { WsPoller, type WsPollerSettings } from '../../service/ws-poller.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { EventRepository } from '../../store/event-repository.ts'
import { changeShardOf } from '../../store/keys.ts'
import type { StoredPrincipal } from '../../store/stored-principal.ts'
import { WebSocketRepository } from '../../store/ws-repository.ts'
import type { WsSubscription } from '../../store/ws-subscription-item.ts'
import { countingClient, createTestTable, type TestTable } from './dynamo.ts'
import { aConsent, aGatewayConfig } from './fixtures.ts'

export const WAIT = { timeout: 20_000, interval: 100 }

export const CONSENT_UPDATED = 'subscription Watch($id: ID!) { consentUpdated(id: $id) { id status version } }'
export const CONSENT_EVENTS =
  'subscription Feed($after: String) { consentEvents(after: $after) { cursor event { id sequence to } } }'

/** Runs quickly: one tick per run unless a test asks for a longer window. */
export const ONE_TICK: Partial<WsPollerSettings> = {
  pollIntervalMs: 50,
  periodMs: 1_000,
  stopBeforeNextMs: 1_000,
  leaseGraceMs: 2_000,
  leaseRetryMs: 50,
}

export type Message = Record<string, any>

/** API Gateway's management API as the poller sees it: posts recorded, gone connections answered 'gone'. */
export class RecordingSender implements ConnectionSender {
  readonly posts: { connectionId: string; message: Message }[] = []
  readonly closed: string[] = []
  readonly gone = new Set<string>()
  /** Connection id -> how many more posts to it fail (a throttled or failing management API). */
  readonly failing = new Map<string, number>()
  /** Runs before a post is recorded: what happens elsewhere while it is on its way. */
  meanwhile: ((connectionId: string, message: Message) => Promise<void>) | null = null

  async post(connectionId: string, message: object): Promise<'sent' | 'gone'> {
    await this.meanwhile?.(connectionId, message)
    const failures = this.failing.get(connectionId) ?? 0
    if (failures > 0) {
      this.failing.set(connectionId, failures - 1)
      throw new Error('LimitExceededException')
    }
    if (this.gone.has(connectionId)) return 'gone'
    this.posts.push({ connectionId, message })
    return 'sent'
  }

  async close(connectionId: string): Promise<void> {
    this.closed.push(connectionId)
    this.gone.add(connectionId)
  }

  to(connectionId: string): Message[] {
    return this.posts.filter((post) => post.connectionId === connectionId).map((post) => post.message)
  }
}

/** A sender whose posts after the first `hangAfter` never answer: a run stuck there is as good as dead. */
export class HangingSender extends RecordingSender {
  hung = false
  constructor(
    private readonly inner: RecordingSender,
    private hangAfter: number,
  ) {
    super()
  }
  override async post(connectionId: string, message: object): Promise<'sent' | 'gone'> {
    if (this.hangAfter-- <= 0) {
      this.hung = true
      return new Promise(() => undefined)
    }
    return this.inner.post(connectionId, message)
  }
}

export interface World {
  readonly table: TestTable
  readonly gateway: Gateway
  readonly consents: ConsentRepository
  readonly ws: WebSocketRepository
  readonly tenantId: string
  readonly principal: StoredPrincipal
  /** DynamoDB commands the gateway (and so the poller) sent, by name, since the last `resetCommands`. */
  commands: string[]
  poller(sender: ConnectionSender, settings?: Partial<WsPollerSettings>): WsPoller
}

/** A fresh table (leases and cursors of their own), a gateway over a client that counts its commands, a tenant. */
export async function world(overrides: Parameters<typeof aGatewayConfig>[1] = {}): Promise<World> {
  const table = await createTestTable()
  const { db, commands } = countingClient(table.endpoint)
  const gateway = createGateway(aGatewayConfig(table, overrides), { db })
  // A generated secret (a keyed hash), as administration issues it: an operator-chosen one would cost a scrypt hash
  // and a scrypt check in every test's setup.
  const admin = createTenantAdmin(table.db, table.tableName)
  const { tenantId } = await admin.createTenant({ name: 'Poller' }, 'test-suite')
  const { client, clientSecret } = await admin.createClient({ tenantId, name: 'poller' }, 'test-suite')
  const live = await gateway.authenticator.authenticate(
    `Basic ${Buffer.from(`${client.clientId}:${clientSecret}`).toString('base64')}`,
  )
  const operations = storedOperations(graphQLServicesOf(gateway), silentLogger)
  const w: World = {
    table,
    gateway,
    consents: new ConsentRepository(table.db, table.tableName),
    ws: new WebSocketRepository(table.db, table.tableName),
    tenantId,
    principal: gateway.authenticator.describe(live),
    commands,
    poller: (sender, settings = {}) =>
      createWsPoller(gateway, { sender, operations, newRunId: () => ulid() }, { ...ONE_TICK, ...settings }),
  }
  return w
}

export const newId = (() => {
  let last = 0
  return () => {
    // Strictly increasing ids, as the gateway's monotonic factory gives.
    const now = Math.max(Date.now(), last + 1)
    last = now
    return ulid(now)
  }
})()

export async function seedConsent(w: World, overrides: Partial<Consent> = {}): Promise<Consent> {
  const consent = aConsent({
    id: newId(),
    tenantId: w.tenantId,
    providerConsentId: `fq-${ulid()}`,
    status: 'AWAITING_AUTHORIZATION',
    linkExpiresAt: null,
    ...overrides,
  })
  const event = newConsentEvent(consent, null, { id: newId(), source: 'API', initiator: 'api-client:test' })
  await w.consents.create(consent, event, notificationFor(event, consent))
  return consent
}

export async function advance(w: World, consent: Consent, changes: Partial<Consent>): Promise<Consent> {
  const next = { ...consent, ...changes, version: consent.version + 1, updatedAt: new Date().toISOString() }
  const event = newConsentEvent(next, consent.status, {
    id: newId(),
    source: 'PROVIDER_WEBHOOK',
    initiator: 'provider:finqware',
  })
  await w.consents.update(next, consent.version, event, notificationFor(event, next))
  return next
}

/** A connection acknowledged with the tenant's principal, trusted for a minute unless told otherwise. */
export async function connection(
  w: World,
  options: { trustedUntil?: number; principal?: StoredPrincipal | null; firstPingAt?: Date } = {},
): Promise<string> {
  const connectionId = `conn-${ulid()}=`
  const principal = options.principal === undefined ? w.principal : options.principal
  await w.ws.putConnection(
    {
      connectionId,
      connectedAt: new Date().toISOString(),
      clientAddress: '203.0.113.7',
      origin: null,
      principal,
      trustedUntil: principal ? (options.trustedUntil ?? Date.now() + 60_000) : null,
    },
    new Date(),
    options.firstPingAt,
  )
  return connectionId
}

export async function subscribe(
  w: World,
  connectionId: string,
  subscription: Partial<WsSubscription>,
): Promise<string> {
  const operationId = subscription.operationId ?? ulid()
  const written = await w.ws.putSubscription({
    connectionId,
    operationId,
    tenantId: w.tenantId,
    principal: w.principal,
    query: CONSENT_UPDATED,
    variables: null,
    operationName: null,
    field: 'consentUpdated',
    consentId: null,
    cursor: null,
    lastVersion: null,
    deadline: Date.now() + 3_600_000,
    ...subscription,
  })
  expect(written).toBe('stored')
  return operationId
}

/** A connection watching `consent` (its current version already sent, as the subscribe handler does). */
export async function watcher(w: World, consent: Consent, options: { deadline?: number } = {}) {
  const connectionId = await connection(w)
  const operationId = await subscribe(w, connectionId, {
    consentId: consent.id,
    variables: { id: encodePublicId('Consent', consent.id) },
    operationName: 'Watch',
    lastVersion: consent.version,
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
  })
  return { connectionId, operationId }
}

/** A connection following the tenant's feed from `cursor` (null: from its start). */
export async function follower(w: World, cursor: string | null = null) {
  const connectionId = await connection(w)
  const operationId = await subscribe(w, connectionId, {
    query: CONSENT_EVENTS,
    field: 'consentEvents',
    operationName: 'Feed',
    variables: cursor === null ? null : { after: cursor },
    cursor,
  })
  return { connectionId, operationId }
}

/** A new consent id in `shard`. */
export function idInShard(shard: number): string {
  for (;;) {
    const id = newId()
    if (changeShardOf(id) === shard) return id
  }
}

export const nexts = (sender: RecordingSender, connectionId: string) =>
  sender.to(connectionId).filter((message) => message.type === 'next')

/** Every event of the tenant's feed, in order (the feed's own query, settled events only). */
export async function feedIds(w: World): Promise<string[]> {
  const ids: string[] = []
  let after: string | null = null
  for (;;) {
    const page = await w.gateway.events.page({ tenantId: w.tenantId }, 100, after)
    ids.push(...page.edges.map((edge) => edge.node.id))
    after = page.pageInfo.endCursor
    if (!page.pageInfo.hasNextPage) return ids
  }
}

/** Waits until the tenant's feed shows `count` events: the last of them has settled, so a poller sends it. */
export async function settledFeed(w: World, count: number): Promise<string[]> {
  await expect.poll(async () => (await feedIds(w)).length, WAIT).toBe(count)
  return feedIds(w)
}

export const feedEventIds = (sender: RecordingSender, connectionId: string) =>
  nexts(sender, connectionId).map((message) =>
    String(message.payload.data.consentEvents.event.id).replace(/^cevt_/, ''),
  )

/** A poller over the world's table whose store answers some calls its own way (an index lagging, a failing write). */
export function pollerOver(
  w: World,
  sender: ConnectionSender,
  overrides: {
    store?: Partial<WebSocketRepository>
    principals?: Pick<PrincipalStorage, 'restore'>
    wallClock?: () => number
  },
  settings: Partial<WsPollerSettings> = {},
): WsPoller {
  const store = new Proxy(w.ws, {
    get: (target, name) =>
      (overrides.store as Record<string | symbol, unknown> | undefined)?.[name] ??
      (Reflect.get(target, name, target) as (...args: unknown[]) => unknown).bind(target),
  })
  return new WsPoller(
    {
      store,
      changes: new EventRepository(w.gateway.db, w.gateway.config.tableName),
      consents: new ConsentRepository(w.gateway.db, w.gateway.config.tableName),
      events: w.gateway.events,
      sender,
      principals: overrides.principals ?? w.gateway.authenticator,
      operations: storedOperations(graphQLServicesOf(w.gateway), silentLogger),
      clock: w.gateway.clock,
      ...(overrides.wallClock && { wallClock: overrides.wallClock }),
      newRunId: () => ulid(),
      logger: silentLogger,
    },
    { ...ONE_TICK, ...settings },
  )
}

/** Runs the poller run after run (a schedule) until `done` holds. */
export async function runUntil(poller: WsPoller, done: () => boolean | Promise<boolean>, timeoutMs = WAIT.timeout) {
  const until = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`not done within ${timeoutMs} ms`)
    await poller.run()
  }
}
