// connected: the WebSocket API's state over DynamoDB Local: connections and their acknowledgement (deleted with every
// subscription, even one stored while the delete runs), subscriptions with their slots (atomic under racing
// subscribes), the watcher indexes the poller reads, the feed cursor's conditional moves, due pings, the poller's
// cursor and lease.
import { ulid } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { keys, wsShardOf } from '../../store/keys.ts'
import type { StoredPrincipal } from '../../store/stored-principal.ts'
import type { WsConnection } from '../../store/ws-connection-item.ts'
import { WebSocketRepository } from '../../store/ws-repository.ts'
import type { WsSubscription } from '../../store/ws-subscription-item.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'

let table: TestTable
let repo: WebSocketRepository

beforeAll(async () => {
  table = await createTestTable()
  repo = new WebSocketRepository(table.db, table.tableName)
})

const PRINCIPAL: StoredPrincipal = {
  kind: 'END_USER',
  tenantId: 'tenant_A',
  clientId: 'client-a',
  userId: 'user-1',
  scopes: ['consents:read'],
  consentIds: null,
  tokenId: ulid(),
  issuedAt: Date.now(),
  expiresAt: Date.now() + 900_000,
}

const aConnection = (overrides: Partial<WsConnection> = {}): WsConnection => ({
  connectionId: `conn-${ulid()}=`,
  connectedAt: new Date().toISOString(),
  clientAddress: '203.0.113.9',
  origin: null,
  principal: null,
  trustedUntil: null,
  ...overrides,
})

const aSubscription = (connectionId: string, overrides: Partial<WsSubscription> = {}): WsSubscription => ({
  connectionId,
  operationId: ulid(),
  tenantId: 'tenant_A',
  principal: PRINCIPAL,
  query: 'subscription ($id: ID!) { consentUpdated(id: $id) { id status } }',
  variables: { id: 'consent_x' },
  operationName: null,
  field: 'consentUpdated',
  consentId: ulid(),
  cursor: null,
  lastVersion: null,
  deadline: Date.now() + 3_600_000,
  ...overrides,
})

/** Reserves a slot and stores the subscription in it, as the protocol does. */
async function subscribed(subscription: WsSubscription, max = 20): Promise<string> {
  const slot = await repo.reserveOperation(subscription.connectionId, max)
  if (slot !== 'reserved') return slot
  const stored = await repo.putSubscription(subscription)
  if (stored !== 'stored') await repo.releaseOperation(subscription.connectionId)
  return stored
}

async function acknowledged(): Promise<string> {
  const connection = aConnection()
  await repo.putConnection(connection, new Date())
  expect(await repo.acknowledge(connection.connectionId, PRINCIPAL, Date.now() + 60_000)).toBe(true)
  return connection.connectionId
}

describe('WebSocket connections', () => {
  it('stores a connection, acknowledges it once, and reads it back strongly consistent', async () => {
    // Prepare
    const connection = aConnection({ origin: 'https://app.example' })
    const now = new Date()
    // Act
    await repo.putConnection(connection, now)
    const before = await repo.getConnection(connection.connectionId)
    const first = await repo.acknowledge(connection.connectionId, PRINCIPAL, 1_000)
    const second = await repo.acknowledge(connection.connectionId, { ...PRINCIPAL, userId: 'other' }, 2_000)
    await repo.setTrustedUntil(connection.connectionId, 5_000)
    // Assert
    expect(before).toEqual({ ...connection, operations: 0 })
    expect([first, second]).toEqual([true, false])
    expect(await repo.getConnection(connection.connectionId)).toEqual({
      ...connection,
      principal: PRINCIPAL,
      trustedUntil: 5_000,
      operations: 0,
    })
    const [item] = (await table.scanAll()).filter((i) => i.pk === `WSCONN#${connection.connectionId}`)
    expect(item).toMatchObject({
      entityType: 'WS_CONNECTION',
      expiresAt: Math.ceil(now.getTime() / 1000) + 3 * 3600,
      gsi3pk: `DUE#WSPING#${wsShardOf(connection.connectionId)}`,
    })
  })

  it('acknowledges no connection that is not there, and sets nothing on one', async () => {
    // Act
    const acknowledged = await repo.acknowledge('never-connected', PRINCIPAL, 1_000)
    await repo.setTrustedUntil('never-connected', 1_000)
    await repo.schedulePing('never-connected', new Date())
    // Assert
    expect(acknowledged).toBe(false)
    expect(await repo.getConnection('never-connected')).toBeNull()
  })

  it('deletes a connection with every subscription of it, however many pages', async () => {
    // Prepare
    const connectionId = await acknowledged()
    for (let i = 0; i < 30; i++) expect(await subscribed(aSubscription(connectionId), 100)).toBe('stored')
    const other = await acknowledged()
    await subscribed(aSubscription(other))
    // Act
    await repo.deleteConnection(connectionId)
    // Assert
    expect(await repo.getConnection(connectionId)).toBeNull()
    expect(await repo.countSubscriptions(connectionId)).toBe(0)
    expect(await repo.countSubscriptions(other)).toBe(1)
  })

  it('leaves no subscription behind that is stored while its connection is being deleted', async () => {
    // Prepare: a subscribe (its slot reserved) whose store lands just after the delete's first step, whichever it is
    const connectionId = await acknowledged()
    const subscription = aSubscription(connectionId)
    expect(await repo.reserveOperation(connectionId, 20)).toBe('reserved')
    let racing = null as Promise<string> | null
    const interleaved = Object.assign(Object.create(table.db) as typeof table.db, {
      send: async (command: Parameters<typeof table.db.send>[0]) => {
        const output = await table.db.send(command)
        racing ??= repo.putSubscription(subscription)
        await racing
        return output
      },
    })
    // Act
    await new WebSocketRepository(interleaved, table.tableName).deleteConnection(connectionId)
    // Assert: neither the connection nor the subscription is left, not even where the poller looks
    expect(await racing).toBe('gone')
    expect(await repo.getConnection(connectionId)).toBeNull()
    expect(await repo.getSubscription(connectionId, subscription.operationId)).toBeNull()
    expect(await repo.watchersOfConsent(String(subscription.consentId))).toEqual([])
  })
})

describe('WebSocket subscriptions', () => {
  it('reserves slots only on an acknowledged connection, and stores no duplicate id (its slot given back)', async () => {
    // Prepare
    const unacknowledged = aConnection()
    await repo.putConnection(unacknowledged, new Date())
    const connectionId = await acknowledged()
    const subscription = aSubscription(connectionId, { variables: null, operationName: 'Watch', lastVersion: 3 })
    // Act
    const onUnacknowledged = await repo.reserveOperation(unacknowledged.connectionId, 20)
    const onMissing = await repo.reserveOperation('never-connected', 20)
    const stored = await subscribed(subscription)
    const duplicate = await subscribed({ ...subscription, consentId: ulid() })
    // Assert
    expect([onUnacknowledged, onMissing, stored, duplicate]).toEqual(['gone', 'gone', 'stored', 'duplicate'])
    expect(await repo.getSubscription(connectionId, subscription.operationId)).toEqual(subscription)
    expect(await repo.countSubscriptions(connectionId)).toBe(1)
    // The duplicate gave its slot back: 19 more fit.
    for (let i = 0; i < 19; i++) expect(await subscribed(aSubscription(connectionId))).toBe('stored')
    expect(await subscribed(aSubscription(connectionId))).toBe('full')
  })

  it('lets exactly the limit of operations through when they race in separate invocations', async () => {
    // Prepare
    const connectionId = await acknowledged()
    // Act: 25 subscribes at once against a limit of 20
    const outcomes = await Promise.all(Array.from({ length: 25 }, () => subscribed(aSubscription(connectionId))))
    // Assert
    expect(outcomes.filter((outcome) => outcome === 'stored')).toHaveLength(20)
    expect(outcomes.filter((outcome) => outcome === 'full')).toHaveLength(5)
    expect(await repo.countSubscriptions(connectionId)).toBe(20)
  })

  it('gives a slot back once per subscription deleted, however often it is deleted', async () => {
    // Prepare
    const connectionId = await acknowledged()
    const subscriptions = Array.from({ length: 2 }, () => aSubscription(connectionId))
    for (const subscription of subscriptions) await subscribed(subscription, 2)
    // Act
    const first = await repo.deleteSubscription(connectionId, subscriptions[0]!.operationId)
    const again = await repo.deleteSubscription(connectionId, subscriptions[0]!.operationId)
    // Assert: one slot free, not two
    expect([first, again]).toEqual([true, false])
    expect(await subscribed(aSubscription(connectionId), 2)).toBe('stored')
    expect(await subscribed(aSubscription(connectionId), 2)).toBe('full')
  })

  it("finds a consent's watchers and a tenant feed's followers through gsi1, and nobody else's", async () => {
    // Prepare
    const consentId = ulid()
    const tenantId = `tenant_${ulid()}`
    const a = await acknowledged()
    const b = await acknowledged()
    const watchA = aSubscription(a, { consentId })
    const watchB = aSubscription(b, { consentId })
    const feed = aSubscription(a, {
      tenantId,
      field: 'consentEvents',
      consentId: null,
      cursor: 'cursor-1',
      query: 'subscription { consentEvents { cursor } }',
    })
    for (const subscription of [watchA, watchB, feed, aSubscription(b)]) await subscribed(subscription)
    // Act
    const watchers = await repo.watchersOfConsent(consentId)
    const followers = await repo.watchersOfTenantFeed(tenantId)
    // Assert
    expect(watchers.sort((x, y) => x.connectionId.localeCompare(y.connectionId))).toEqual(
      [watchA, watchB].sort((x, y) => x.connectionId.localeCompare(y.connectionId)),
    )
    expect(followers).toEqual([feed])
    expect(await repo.watchersOfConsent(ulid())).toEqual([])
  })

  it('moves a feed cursor only from where it is, so of two pollers one sends', async () => {
    // Prepare
    const connectionId = await acknowledged()
    const feed = aSubscription(connectionId, { field: 'consentEvents', consentId: null, tenantId: 'tenant_C' })
    await subscribed(feed)
    const { operationId } = feed
    // Act
    const fromNothing = await repo.advanceCursor(connectionId, operationId, null, 'c1')
    const lost = await repo.advanceCursor(connectionId, operationId, null, 'c1-other')
    const next = await repo.advanceCursor(connectionId, operationId, 'c1', 'c2')
    const putBack = await repo.advanceCursor(connectionId, operationId, 'c2', 'c1')
    const cleared = await repo.advanceCursor(connectionId, operationId, 'c1', null)
    const onGone = await repo.advanceCursor(connectionId, 'no-such-operation', null, 'c1')
    // Assert
    expect([fromNothing, lost, next, putBack, cleared, onGone]).toEqual([true, false, true, true, true, false])
    expect((await repo.getSubscription(connectionId, operationId))?.cursor).toBeNull()
  })

  it("moves a consent stream's last version only forward", async () => {
    // Prepare
    const connectionId = await acknowledged()
    const watch = aSubscription(connectionId)
    await subscribed(watch)
    // Act
    const moves = [
      await repo.setLastVersion(connectionId, watch.operationId, 2),
      await repo.setLastVersion(connectionId, watch.operationId, 2),
      await repo.setLastVersion(connectionId, watch.operationId, 1),
      await repo.setLastVersion(connectionId, watch.operationId, 4),
      await repo.setLastVersion(connectionId, 'no-such-operation', 4),
    ]
    // Assert
    expect(moves).toEqual([true, false, false, true, false])
    expect((await repo.getSubscription(connectionId, watch.operationId))?.lastVersion).toBe(4)
  })
})

describe('the poller', () => {
  it('finds the connections whose ping is due in their shard, and moves their next ping on', async () => {
    // Prepare
    const now = new Date()
    const due = aConnection()
    const later = aConnection({ connectionId: due.connectionId.replace('conn', 'late') })
    await repo.putConnection(due, now, new Date(now.getTime() - 1_000))
    await repo.putConnection(later, now, new Date(now.getTime() + 60_000))
    const shard = wsShardOf(due.connectionId)
    // Act
    const first = await repo.duePings(shard, now, 100)
    await repo.schedulePing(due.connectionId, new Date(now.getTime() + 300_000))
    const second = await repo.duePings(shard, now, 100)
    // Assert
    expect(first).toContain(due.connectionId)
    expect(first).not.toContain(later.connectionId)
    expect(second).not.toContain(due.connectionId)
    for (let other = 0; other < 4; other++) {
      if (other !== shard) expect(await repo.duePings(other, now, 100)).not.toContain(due.connectionId)
    }
  })

  it("stores each shard's cursor between runs", async () => {
    // Act
    const before = await repo.getPollerCursor(3)
    await repo.putPollerCursor(3, { after: '01J0000000ZZZZZZZZZZZZZZZZ', seen: ['01J1'] }, new Date())
    await repo.putPollerCursor(2, { after: '01J0000000AAAAAAAAAAAAAAAA', seen: [] }, new Date())
    // Assert
    expect(before).toBeNull()
    expect(await repo.getPollerCursor(3)).toEqual({ after: '01J0000000ZZZZZZZZZZZZZZZZ', seen: ['01J1'] })
    expect(await repo.getPollerCursor(2)).toEqual({ after: '01J0000000AAAAAAAAAAAAAAAA', seen: [] })
  })

  it('lets one run hold a shard until it releases it or the claim runs out', async () => {
    // Prepare
    const now = new Date()
    // Act
    const first = await repo.acquirePollerLease(1, 'run-1', now, 60_000)
    const second = await repo.acquirePollerLease(1, 'run-2', now, 60_000)
    const otherShard = await repo.acquirePollerLease(0, 'run-2', now, 60_000)
    await repo.releasePollerLease(1, 'run-2') // not its claim: nothing
    const stillHeld = await repo.acquirePollerLease(1, 'run-3', now, 60_000)
    const afterExpiry = await repo.acquirePollerLease(1, 'run-4', new Date(now.getTime() + 60_000), 60_000)
    await repo.releasePollerLease(1, 'run-4')
    const afterRelease = await repo.acquirePollerLease(1, 'run-5', now, 60_000)
    // Assert
    expect([first, second, otherShard, stillHeld, afterExpiry, afterRelease]).toEqual([
      true,
      false,
      true,
      false,
      true,
      true,
    ])
  })
})

describe('keys', () => {
  it("keep a client's operation id last, so it cannot reach another item", () => {
    expect(keys.wsSubscription('c1', 'x#CONNECTION')).toEqual({ pk: 'WSCONN#c1', sk: 'SUB#x#CONNECTION' })
  })
})
