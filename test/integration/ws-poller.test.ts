// connected: the graphql-ws poller of the AWS deployment (service/ws-poller.ts) over DynamoDB Local, with the
// subscriptions stored as the WebSocket API's handlers store them and a recording stand-in for API Gateway's management
// API (the one part of AWS that cannot run here): each watcher gets each new version through its own document, the
// feed's followers each event once across pollers; what one tick reads follows the changes, not the watchers; one run
// per shard; a run that dies loses nothing; gone connections, lapsed credentials and due pings; the deadline sweep's
// events reaching watchers.
import { ulid } from 'ulid'
import { describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { encodePublicId } from '../../domain/ids.ts'
import { notificationFor } from '../../domain/notification.ts'
import { graphQLServicesOf } from '../../schema/server.ts'
import { storedOperations } from '../../schema/stored-operations.ts'
import type { ConnectionSender } from '../../service/connection-sender.ts'
import { createGateway, type Gateway } from '../../composition/gateway.ts'
import { silentLogger } from '../../runtime/logging.ts'
import type { PrincipalStorage } from '../../service/principal.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { createWsPoller } from '../../composition/ws-poller.ts'
import { WsPoller, type WsPollerSettings } from '../../service/ws-poller.ts'
import { AccessRepository } from '../../store/access-repository.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { EventRepository } from '../../store/event-repository.ts'
import { CHANGE_SHARDS, changeShardOf, wsShardOf } from '../../store/keys.ts'
import type { StoredPrincipal } from '../../store/stored-principal.ts'
import { WebSocketRepository } from '../../store/ws-repository.ts'
import type { WsSubscription } from '../../store/ws-subscription-item.ts'
import { countingClient, createTestTable, type TestTable } from '../support/dynamo.ts'
import { aConsent, aGatewayConfig } from '../support/fixtures.ts'

const WAIT = { timeout: 20_000, interval: 100 }

const CONSENT_UPDATED = 'subscription Watch($id: ID!) { consentUpdated(id: $id) { id status version } }'
const CONSENT_EVENTS =
  'subscription Feed($after: String) { consentEvents(after: $after) { cursor event { id sequence to } } }'

/** Runs quickly: one tick per run unless a test asks for a longer window. */
const ONE_TICK: Partial<WsPollerSettings> = {
  pollIntervalMs: 50,
  periodMs: 1_000,
  stopBeforeNextMs: 1_000,
  leaseGraceMs: 2_000,
  leaseRetryMs: 50,
}

type Message = Record<string, any>

/** API Gateway's management API as the poller sees it: posts recorded, gone connections answered 'gone'. */
class RecordingSender implements ConnectionSender {
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
class HangingSender extends RecordingSender {
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

interface World {
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
async function world(overrides: Parameters<typeof aGatewayConfig>[1] = {}): Promise<World> {
  const table = await createTestTable()
  const { db, commands } = countingClient(table.endpoint)
  const gateway = createGateway(aGatewayConfig(table, overrides), { db })
  const tenantId = `01JD0TENANT${ulid().slice(11)}`
  const credentials = { clientId: `poller-${ulid().toLowerCase()}`, clientSecret: 'poller-secret-0123456789abcdef' }
  await provisionApiClient(
    new AccessRepository(table.db, table.tableName),
    { tenantId, tenantName: 'Poller', ...credentials },
    new Date(),
  )
  const live = await gateway.authenticator.authenticate(
    `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`,
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

const newId = (() => {
  let last = 0
  return () => {
    // Strictly increasing ids, as the gateway's monotonic factory gives.
    const now = Math.max(Date.now(), last + 1)
    last = now
    return ulid(now)
  }
})()

async function seedConsent(w: World, overrides: Partial<Consent> = {}): Promise<Consent> {
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

async function advance(w: World, consent: Consent, changes: Partial<Consent>): Promise<Consent> {
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
async function connection(
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

async function subscribe(w: World, connectionId: string, subscription: Partial<WsSubscription>): Promise<string> {
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
async function watcher(w: World, consent: Consent, options: { deadline?: number } = {}) {
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
async function follower(w: World, cursor: string | null = null) {
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
function idInShard(shard: number): string {
  for (;;) {
    const id = newId()
    if (changeShardOf(id) === shard) return id
  }
}

const nexts = (sender: RecordingSender, connectionId: string) =>
  sender.to(connectionId).filter((message) => message.type === 'next')

/** Every event of the tenant's feed, in order (the feed's own query, settled events only). */
async function feedIds(w: World): Promise<string[]> {
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
async function settledFeed(w: World, count: number): Promise<string[]> {
  await expect.poll(async () => (await feedIds(w)).length, WAIT).toBe(count)
  return feedIds(w)
}

const feedEventIds = (sender: RecordingSender, connectionId: string) =>
  nexts(sender, connectionId).map((message) =>
    String(message.payload.data.consentEvents.event.id).replace(/^cevt_/, ''),
  )

/** A poller over the world's table whose store answers some calls its own way (an index lagging, a failing write). */
function pollerOver(
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
async function runUntil(poller: WsPoller, done: () => boolean | Promise<boolean>, timeoutMs = WAIT.timeout) {
  const until = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`not done within ${timeoutMs} ms`)
    await poller.run()
  }
}

describe('the graphql-ws poller', () => {
  it("sends each watcher each new version through its own document, with the answer's cost, and completes it on a terminal status", async () => {
    // Prepare: a consent watched twice (two connections), and a run that has read the feed up to now
    const w = await world()
    const sender = new RecordingSender()
    const poller = w.poller(sender)
    let consent = await seedConsent(w)
    const first = await watcher(w, consent)
    const second = await watcher(w, consent)
    await poller.run()
    // Act: the consent goes ACTIVE, then is revoked
    consent = await advance(w, consent, { status: 'ACTIVE', validUntil: '2099-01-01T00:00:00.000Z' })
    await poller.run()
    consent = await advance(w, consent, { status: 'REVOKED', statusReason: 'REVOKED_BY_TPP' })
    await poller.run()
    // Assert: each connection got both versions as its document asked for them, then `complete`; the items are gone
    const id = encodePublicId('Consent', consent.id)
    for (const watch of [first, second]) {
      expect(sender.to(watch.connectionId)).toEqual([
        {
          id: watch.operationId,
          type: 'next',
          payload: {
            data: { consentUpdated: { id, status: 'ACTIVE', version: 2 } },
            extensions: { cost: { requested: expect.any(Number), limit: 5000 } },
          },
        },
        {
          id: watch.operationId,
          type: 'next',
          payload: {
            data: { consentUpdated: { id, status: 'REVOKED', version: 3 } },
            extensions: { cost: { requested: expect.any(Number), limit: 5000 } },
          },
        },
        { id: watch.operationId, type: 'complete' },
      ])
      expect(await w.ws.getSubscription(watch.connectionId, watch.operationId)).toBeNull()
    }
  })

  it('reads per tick what changed, not who watches: the same commands at 10 and at 1,000 subscriptions', async () => {
    const measure = async (subscriptions: number) => {
      // Prepare: `subscriptions` watchers, three of them on the consents that change; a first run reads up to now
      const w = await world()
      const sender = new RecordingSender()
      const poller = w.poller(sender)
      // In shards 0, 1 and 2 both times: one batch read per shard with changes.
      const changing = await Promise.all([0, 1, 2].map((shard) => seedConsent(w, { id: idInShard(shard) })))
      for (const consent of changing) await watcher(w, consent)
      const quiet = await Promise.all(Array.from({ length: 20 }, () => seedConsent(w)))
      const others = Array.from({ length: subscriptions - changing.length }, (_, i) => quiet[i % quiet.length])
      for (let i = 0; i < others.length; i += 50)
        await Promise.all(others.slice(i, i + 50).map((consent) => watcher(w, consent as Consent)))
      // Past the settling window, so no tenant feed is left to page: the runs start alike.
      await settledFeed(w, changing.length + quiet.length)
      await poller.run()
      // Act: the same three changes; one run of one tick
      await Promise.all(changing.map((consent) => advance(w, consent, { status: 'ACTIVE' })))
      w.commands.length = 0
      const report = await poller.run()
      const counts: Record<string, number> = {}
      for (const command of w.commands) counts[command] = (counts[command] ?? 0) + 1
      return { counts, report, sent: sender.posts.length }
    }
    const ten = await measure(10)
    const thousand = await measure(1_000)
    console.log(`one tick, 3 changes: ${JSON.stringify(ten.counts)} at 10 subscriptions`)
    console.log(`one tick, 3 changes: ${JSON.stringify(thousand.counts)} at 1,000 subscriptions`)
    // Assert: three posts either way, and command for command the same reads and writes
    expect([ten.sent, thousand.sent]).toEqual([3, 3])
    expect(thousand.counts).toEqual(ten.counts)
    // The tick's reads: each shard's changes and due pings, one watcher Query per changed consent, one batch of the
    // changed consents per shard that has any; and the three connections (their credential check is not due) beside
    // the run's own four cursors
    expect(thousand.counts.QueryCommand).toBe(CHANGE_SHARDS + 3 + CHANGE_SHARDS)
    expect(thousand.counts.BatchGetItemCommand).toBe(3)
    expect(thousand.counts.GetItemCommand).toBe(CHANGE_SHARDS + 3)
    expect(thousand.report.ticks).toBe(1)
  }, 120_000)

  it('polls each shard from one run at a time: two runs at once share the shards, and each change is sent once', async () => {
    // Prepare: watchers of a consent in each shard
    const w = await world()
    const sender = new RecordingSender()
    // Each run asks for the shards once, as it starts: what it got is all it polls.
    const window = { periodMs: 2_500, stopBeforeNextMs: 500, leaseGraceMs: 500, leaseRetryMs: 60_000 }
    const consents: Consent[] = []
    for (let shard = 0; shard < CHANGE_SHARDS; shard++) consents.push(await seedConsent(w, { id: idInShard(shard) }))
    const watches = await Promise.all(consents.map((consent) => watcher(w, consent)))
    // Act: two runs start together; the consents change while they poll
    const runs = Promise.all([w.poller(sender, window).run(), w.poller(sender, window).run()])
    // A shard's first run stores its cursor once it holds the lease: from then on its changes are that run's.
    await expect
      .poll(
        async () => (await Promise.all(consents.map((_, shard) => w.ws.getPollerCursor(shard)))).every(Boolean),
        WAIT,
      )
      .toBe(true)
    await Promise.all(consents.map((consent) => advance(w, consent, { status: 'ACTIVE' })))
    const [a, b] = await runs
    // Assert: the runs' shards do not overlap and cover every shard; each watcher got its change once
    expect([...(a?.shards ?? []), ...(b?.shards ?? [])].sort()).toEqual([0, 1, 2, 3])
    for (const watch of watches) {
      expect(nexts(sender, watch.connectionId).map((message) => message.payload.data.consentUpdated.status)).toEqual([
        'ACTIVE',
      ])
    }
  })

  it('loses nothing when a run dies mid-way: the next takes its shards over and catches up from the stored cursor', async () => {
    // Prepare: a watcher and a feed follower; a run that stops answering at its first post, holding its leases
    const w = await world()
    const sender = new RecordingSender()
    let consent = await seedConsent(w)
    const watch = await watcher(w, consent)
    const feed = await follower(w)
    const dying = new HangingSender(sender, 0)
    void w.poller(dying, { periodMs: 3_000, stopBeforeNextMs: 500, leaseGraceMs: 500 }).run()
    // Act: changes come while it dies; the next runs (a new invocation each) take over
    consent = await advance(w, consent, { status: 'AUTHORIZED' })
    consent = await advance(w, consent, { status: 'ACTIVE' })
    const other = await seedConsent(w)
    await advance(w, other, { status: 'REJECTED' })
    await expect.poll(() => dying.hung, WAIT).toBe(true)
    const next = w.poller(sender, { periodMs: 1_500, stopBeforeNextMs: 500 })
    const expected = await settledFeed(w, 5)
    await runUntil(next, () => feedEventIds(sender, feed.connectionId).length >= expected.length)
    // Assert: the watcher ends on the last version; the follower got every event of the feed once, in order
    const versions = nexts(sender, watch.connectionId).map((message) => message.payload.data.consentUpdated.version)
    expect(versions.at(-1)).toBe(3)
    expect(feedEventIds(sender, feed.connectionId)).toEqual(expected)
    expect(expected).toHaveLength(5)
  }, 40_000)

  it('ends a watcher on the newest state when a newer version went out while it sent an older one', async () => {
    // Prepare: a watcher at version 1; the consent moves to 2, which the poller is about to send
    const w = await world()
    const sender = new RecordingSender()
    const poller = w.poller(sender)
    let consent = await seedConsent(w)
    const watch = await watcher(w, consent)
    await poller.run()
    consent = await advance(w, consent, { status: 'AUTHORIZED' })
    // Meanwhile version 3 is written and sent first, claimed as the subscribe handler's catch-up claims it
    sender.meanwhile = async (connectionId, message) => {
      if (connectionId !== watch.connectionId || message.type !== 'next' || sender.meanwhile === null) return
      sender.meanwhile = null
      consent = await advance(w, consent, { status: 'ACTIVE' })
      expect(await w.ws.setLastVersion(watch.connectionId, watch.operationId, 3)).toBe(true)
      sender.posts.push({
        connectionId,
        message: { id: watch.operationId, type: 'next', payload: { data: { consentUpdated: { version: 3 } } } },
      })
    }
    // Act
    await poller.run()
    await poller.run()
    // Assert: the client got 3, then the poller's 2, then 3 again: it ends on the newest
    const versions = nexts(sender, watch.connectionId).map((message) => message.payload.data.consentUpdated.version)
    expect(versions).toEqual([3, 2, 3])
  })

  it('deletes a connection that is gone (410) with every subscription of it', async () => {
    // Prepare: one connection with two subscriptions, gone at API Gateway
    const w = await world()
    const sender = new RecordingSender()
    const poller = w.poller(sender)
    let consent = await seedConsent(w)
    const watch = await watcher(w, consent)
    await subscribe(w, watch.connectionId, { consentId: (await seedConsent(w)).id })
    sender.gone.add(watch.connectionId)
    await poller.run()
    // Act
    consent = await advance(w, consent, { status: 'ACTIVE' })
    await poller.run()
    // Assert
    expect(await w.ws.getConnection(watch.connectionId)).toBeNull()
    expect(await w.ws.countSubscriptions(watch.connectionId)).toBe(0)
    expect(sender.to(watch.connectionId)).toEqual([])
  })

  it('closes a connection whose credential lapsed (client disabled) instead of sending to it, and deletes it', async () => {
    // Prepare: a connection whose trust ran out, of a client disabled since it authenticated
    const w = await world({ authCacheTtlMs: 0 })
    const sender = new RecordingSender()
    const poller = w.poller(sender)
    let consent = await seedConsent(w)
    const lapsed = await connection(w, { trustedUntil: Date.now() - 1 })
    await subscribe(w, lapsed, {
      consentId: consent.id,
      variables: { id: encodePublicId('Consent', consent.id) },
      lastVersion: 1,
    })
    await poller.run()
    const client = await w.gateway.access.getApiClient(w.principal.clientId)
    await w.gateway.access.putApiClient({ ...(client as NonNullable<typeof client>), disabled: true })
    // Act
    consent = await advance(w, consent, { status: 'ACTIVE' })
    const report = await poller.run()
    // Assert
    expect(sender.to(lapsed)).toEqual([])
    expect(sender.closed).toEqual([lapsed])
    expect(await w.ws.getConnection(lapsed)).toBeNull()
    expect(report.lapsed).toBe(1)
  })

  it('checks a credential again once its trust ran out, and goes on sending while it holds', async () => {
    const w = await world({ authCacheTtlMs: 0 })
    const sender = new RecordingSender()
    const poller = w.poller(sender)
    let consent = await seedConsent(w)
    const connectionId = await connection(w, { trustedUntil: Date.now() - 1 })
    await subscribe(w, connectionId, {
      consentId: consent.id,
      variables: { id: encodePublicId('Consent', consent.id) },
      lastVersion: 1,
    })
    await poller.run()
    consent = await advance(w, consent, { status: 'ACTIVE' })
    await poller.run()
    expect(nexts(sender, connectionId)).toHaveLength(1)
    expect((await w.ws.getConnection(connectionId))?.trustedUntil).toBeGreaterThan(Date.now() - 1_000)
  })

  it('pings the connections that are due and moves their next ping 5 minutes on; a gone one is deleted', async () => {
    // Prepare: two connections due for a ping, one gone; one not due
    const w = await world()
    const sender = new RecordingSender()
    const due = new Date(Date.now() - 1_000)
    const alive = await connection(w, { firstPingAt: due })
    const gone = await connection(w, { firstPingAt: due })
    const notDue = await connection(w)
    const neverAcknowledged = await connection(w, { principal: null, firstPingAt: due })
    sender.gone.add(gone)
    // Act
    const before = Date.now()
    await w.poller(sender).run()
    // Assert
    expect(sender.to(alive)).toEqual([{ type: 'ping' }])
    expect(sender.to(notDue)).toEqual([])
    expect(await w.ws.getConnection(gone)).toBeNull()
    expect(sender.closed).toEqual([neverAcknowledged])
    expect(await w.ws.getConnection(neverAcknowledged)).toBeNull()
    const shard = wsShardOf(alive)
    expect(await w.ws.duePings(shard, new Date(before + 299_000), 10)).not.toContain(alive)
    expect(await w.ws.duePings(shard, new Date(before + 301_000 + 5_000), 10)).toContain(alive)
    // A second run finds nothing due
    await w.poller(sender).run()
    expect(sender.to(alive)).toEqual([{ type: 'ping' }])
  })

  it("does not fail a shard's tick when moving one connection's next ping fails: it is pinged again next tick", async () => {
    // Prepare: a connection due for a ping whose next ping cannot be written, and a watcher in the same shard
    const w = await world()
    const sender = new RecordingSender()
    const stuck = await connection(w, { firstPingAt: new Date(Date.now() - 1_000) })
    const shard = wsShardOf(stuck)
    let consent = await seedConsent(w, { id: idInShard(shard) })
    const watch = await watcher(w, consent)
    const poller = pollerOver(w, sender, {
      store: {
        schedulePing: async (connectionId: string, at: Date) => {
          if (connectionId === stuck) throw new Error('ProvisionedThroughputExceededException')
          return w.ws.schedulePing(connectionId, at)
        },
      },
    })
    await poller.run()
    // Act
    consent = await advance(w, consent, { status: 'ACTIVE' })
    const report = await poller.run()
    // Assert: the watcher got its change; the ping was sent each run, its connection still due
    expect(nexts(sender, watch.connectionId)).toHaveLength(1)
    expect(sender.to(stuck)).toEqual([{ type: 'ping' }, { type: 'ping' }])
    expect(report.failedTicks).toBe(0)
    expect(await w.ws.duePings(shard, new Date(), 10)).toContain(stuck)
  })

  it('sends every event of the feed to its follower once, in order, with two pollers running side by side', async () => {
    // Prepare: a follower from the start of the tenant's feed; consents in every shard
    const w = await world()
    const sender = new RecordingSender()
    const feed = await follower(w)
    // Act: changes come over two seconds while two schedules' runs overlap
    let polling = true
    const schedule = async (after: Promise<unknown>) => {
      await after
      const poller = w.poller(sender, { periodMs: 1_200, stopBeforeNextMs: 200, leaseGraceMs: 300 })
      while (polling) await poller.run()
    }
    /** Resolves once the pollers have sent `more` DynamoDB commands beyond those sent so far: they have moved on. */
    const pollersMoved = (more: number) => {
      const sent = w.commands.length
      return expect.poll(() => w.commands.length, WAIT).toBeGreaterThanOrEqual(sent + more)
    }
    // The second schedule starts while the first holds every shard, so its runs take them over as the first's end.
    const schedules = Promise.all([schedule(Promise.resolve()), schedule(pollersMoved(4 * CHANGE_SHARDS))])
    for (let i = 0; i < 8; i++) {
      const consent = await seedConsent(w)
      await advance(w, consent, { status: 'ACTIVE' })
      // Changes spread over the pollers' ticks (each reads every shard it holds), not all in one.
      await pollersMoved(8 * CHANGE_SHARDS)
    }
    const expected = await settledFeed(w, 16)
    await expect.poll(() => feedEventIds(sender, feed.connectionId).length, WAIT).toBeGreaterThanOrEqual(16)
    polling = false
    await schedules
    // Assert: exactly the feed, each event once, in order; the stored cursor is the last one sent
    expect(expected).toHaveLength(16)
    expect(feedEventIds(sender, feed.connectionId)).toEqual(expected)
    const stored = await w.ws.getSubscription(feed.connectionId, feed.operationId)
    expect(stored?.cursor).toBe(nexts(sender, feed.connectionId).at(-1)?.payload.data.consentEvents.cursor)
  }, 40_000)

  it("sends a feed event once even when the index shows a follower's cursor from before it moved", async () => {
    // Prepare: a follower already sent the tenant's first events
    const w = await world()
    const sender = new RecordingSender()
    const feed = await follower(w)
    await w.poller(sender).run()
    const consent = await seedConsent(w)
    await runUntil(w.poller(sender), () => feedEventIds(sender, feed.connectionId).length === 1)
    // A poller that reads the follower as it was before (another poller moved it; the index lags behind)
    const stale = pollerOver(w, sender, {
      store: {
        watchersOfTenantFeed: async (tenantId: string) =>
          (await w.ws.watchersOfTenantFeed(tenantId)).map((subscription) => ({ ...subscription, cursor: null })),
      },
    })
    // Act: one more event, sent by that poller
    await advance(w, consent, { status: 'ACTIVE' })
    await runUntil(stale, () => feedEventIds(sender, feed.connectionId).length >= 2)
    // Assert: the second event follows the first, and neither is sent twice
    expect(feedEventIds(sender, feed.connectionId)).toEqual(await feedIds(w))
    expect(feedEventIds(sender, feed.connectionId)).toHaveLength(2)
  }, 30_000)

  it('sends again what a failed post did not deliver, and gives up on a connection that keeps failing', async () => {
    // Prepare: a watcher and a follower whose first posts fail; another connection that never takes a post
    const w = await world()
    const sender = new RecordingSender()
    // Runs of many ticks: a run gives up on a connection after its third failed post.
    const poller = w.poller(sender, { periodMs: 1_500, stopBeforeNextMs: 500 })
    let consent = await seedConsent(w)
    const watch = await watcher(w, consent)
    const feed = await follower(w)
    const broken = await watcher(w, consent)
    await poller.run()
    sender.failing.set(watch.connectionId, 1)
    sender.failing.set(feed.connectionId, 1)
    sender.failing.set(broken.connectionId, 100)
    // Act
    consent = await advance(w, consent, { status: 'ACTIVE' })
    const expected = await settledFeed(w, 2)
    await runUntil(poller, () => feedEventIds(sender, feed.connectionId).length >= expected.length)
    await runUntil(poller, () => sender.closed.includes(broken.connectionId))
    // Assert: delivered on the next tick; the follower's cursor was put back, so nothing is missing or repeated
    expect(nexts(sender, watch.connectionId).map((message) => message.payload.data.consentUpdated.status)).toEqual([
      'ACTIVE',
    ])
    expect(feedEventIds(sender, feed.connectionId)).toEqual(expected)
    expect(await w.ws.getConnection(broken.connectionId)).toBeNull()
  }, 40_000)

  it('does not let one subscription that cannot be sent hold its shard back: the others are served, it is closed', async () => {
    // Prepare: two watchers of consents in the same shard; one's stored principal cannot be restored (an item written
    // by another version of the code, say)
    const w = await world()
    const sender = new RecordingSender()
    const healthy = await seedConsent(w, { id: idInShard(2) })
    const poisoned = await seedConsent(w, { id: idInShard(2) })
    const served = await watcher(w, healthy)
    const failing = await connection(w)
    await subscribe(w, failing, {
      consentId: poisoned.id,
      variables: { id: encodePublicId('Consent', poisoned.id) },
      lastVersion: 1,
      principal: { ...w.principal, clientId: 'unrestorable' },
    })
    const poller = pollerOver(
      w,
      sender,
      {
        principals: {
          restore: (stored: StoredPrincipal) => {
            if (stored.clientId === 'unrestorable') throw new Error('unknown principal kind')
            return w.gateway.authenticator.restore(stored)
          },
        },
      },
      { periodMs: 1_500, stopBeforeNextMs: 500 },
    )
    await poller.run()
    // Act
    await advance(w, healthy, { status: 'ACTIVE' })
    await advance(w, poisoned, { status: 'ACTIVE' })
    const report = await poller.run()
    // Assert: the healthy watcher got its change once; the other connection was given up on after three failures;
    // no tick failed as a whole
    expect(nexts(sender, served.connectionId)).toHaveLength(1)
    expect(sender.to(failing)).toEqual([])
    expect(sender.closed).toEqual([failing])
    expect(await w.ws.getConnection(failing)).toBeNull()
    expect(report.failedTicks).toBe(0)
  })

  it('completes a subscription past its deadline at its next change, without sending the change', async () => {
    const w = await world()
    const sender = new RecordingSender()
    // The poller's wall clock, moved past the deadline once the first run has seen the subscription live.
    let aheadMs = 0
    const poller = pollerOver(w, sender, { wallClock: () => Date.now() + aheadMs })
    const consent = await seedConsent(w)
    const watch = await watcher(w, consent, { deadline: Date.now() + 200 })
    await poller.run()
    aheadMs = 250
    await advance(w, consent, { status: 'ACTIVE' })
    await poller.run()
    expect(sender.to(watch.connectionId)).toEqual([{ id: watch.operationId, type: 'complete' }])
    expect(await w.ws.getSubscription(watch.connectionId, watch.operationId)).toBeNull()
  })

  it("tells a watcher a link that expired with the deadline sweep's event: LINK_EXPIRED, then complete", async () => {
    // Prepare: a consent waiting for its user, its link deadline passed, no job run yet
    const w = await world()
    const sender = new RecordingSender()
    const poller = w.poller(sender)
    const passed = new Date(Date.now() - 60_000).toISOString()
    const consent = await seedConsent(w, {
      linkExpiresAt: passed,
      nextDeadline: { kind: 'LINK_EXPIRY', at: passed, target: passed },
    })
    const watch = await watcher(w, consent)
    await poller.run()
    expect(sender.to(watch.connectionId)).toEqual([])
    // Act: the sweep writes the expiry as a change, like any other
    const swept = await w.gateway.jobs.sweepDeadlines()
    await poller.run()
    // Assert
    expect(swept.changed).toBe(1)
    expect(sender.to(watch.connectionId)).toEqual([
      {
        id: watch.operationId,
        type: 'next',
        payload: expect.objectContaining({
          data: { consentUpdated: expect.objectContaining({ status: 'LINK_EXPIRED', version: 2 }) },
        }),
      },
      { id: watch.operationId, type: 'complete' },
    ])
  })
})

describe('a stored document run against a change', () => {
  it('answers as every other answer does: data, the cost, and an unexpected failure masked with its ids', async () => {
    // Prepare: services whose history read fails as the store would, with internals in its message
    const w = await world()
    const services = graphQLServicesOf(w.gateway)
    const consents = Object.create(services.consents) as typeof services.consents
    consents.history = () => Promise.reject(new Error('ResourceNotFoundException: table consent-gateway-prod'))
    const failing = { ...services, consents }
    const run = storedOperations(failing, silentLogger).forTick()
    const consent = await seedConsent(w)
    const principal = w.gateway.authenticator.restore(w.principal)
    // Act
    const plain = await run(
      { query: CONSENT_UPDATED, variables: { id: encodePublicId('Consent', consent.id) }, operationName: 'Watch' },
      principal,
      consent,
    )
    const broken = await run(
      {
        query: 'subscription { consentUpdated(id: "x") { version events { edges { cursor } } } }',
        variables: null,
        operationName: null,
      },
      principal,
      consent,
    )
    // Assert
    expect(plain).toEqual({
      data: {
        consentUpdated: { id: encodePublicId('Consent', consent.id), status: 'AWAITING_AUTHORIZATION', version: 1 },
      },
      extensions: { cost: { requested: expect.any(Number), limit: 5000 } },
    })
    expect(broken.data).toBeNull()
    expect(broken.errors).toEqual([
      {
        message: 'Unexpected error.',
        locations: expect.any(Array),
        path: ['consentUpdated', 'events'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String), errorId: expect.any(String) },
      },
    ])
    expect(JSON.stringify(broken)).not.toContain('consent-gateway-prod')
  })
})
