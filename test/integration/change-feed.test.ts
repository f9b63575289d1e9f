// connected: the change feed across tenants (gsi5) over DynamoDB Local, read as a poller reads it: from a cursor, an
// overlap window back, so an event that commits after one with a larger id is still caught, and each event is handed
// out once; and the live tenant feed built on it, with no gap or repeat where the backlog hands over to the live part.
import { ulid } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent, type ConsentEvent } from '../../domain/consent.ts'
import { notificationFor } from '../../domain/notification.ts'
import {
  CHANGE_OVERLAP_MS,
  readAllShards,
  readShardChanges,
  startCursor,
  startCursors,
  type ShardCursor,
} from '../../service/change-feed.ts'
import { ConsentWatcher } from '../../service/consent-watcher.ts'
import { EventFeed, FEED_SETTLE_MS } from '../../service/event-feed.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { EventRepository } from '../../store/event-repository.ts'
import { CHANGE_SHARDS, changeShardOf } from '../../store/keys.ts'
import { createTestTable } from '../support/dynamo.ts'
import { aConsent } from '../support/fixtures.ts'

let repo: ConsentRepository
let eventStore: EventRepository

beforeAll(async () => {
  const table = await createTestTable()
  repo = new ConsentRepository(table.db, table.tableName)
  eventStore = new EventRepository(table.db, table.tableName)
})

/** A new consent of `tenantId` whose creation event has an id taken at `at` (epoch ms), committed now. */
async function createdAt(tenantId: string, at: number, id: string = ulid(at)): Promise<Consent> {
  const consent = aConsent({ id, tenantId, providerConsentId: `fq-${ulid()}` })
  const event = newConsentEvent(consent, null, { id: ulid(at), source: 'API', initiator: 'api-client:test' })
  await repo.create(consent, event, notificationFor(event, consent))
  return consent
}

/** A consent id in `shard` (ids are hashed to shards). */
function idInShard(shard: number, at: number): string {
  for (;;) {
    const id = ulid(at)
    if (changeShardOf(id) === shard) return id
  }
}

const ofTenant = (events: readonly ConsentEvent[], tenantId: string) =>
  events.filter((event) => event.tenantId === tenantId).map((event) => event.consentId)

describe('the change feed across tenants', () => {
  it('catches an event that commits after one with a larger id, within the overlap window, and drops repeats', async () => {
    // Prepare: a reader of shard 0 from a moment ago
    const tenant = ulid()
    const t = Date.now()
    let cursor: ShardCursor = startCursor(t)
    // Act: A (id at t + 2) commits; the reader reads; B (id at t + 1, taken earlier) commits only then
    const a = await createdAt(tenant, t + 2, idInShard(0, t + 2))
    const first = await readShardChanges(eventStore, 0, cursor, t + 100)
    cursor = first.cursor
    const b = await createdAt(tenant, t + 1, idInShard(0, t + 1))
    const second = await readShardChanges(eventStore, 0, cursor, t + 200)
    cursor = second.cursor
    const third = await readShardChanges(eventStore, 0, cursor, t + 300)
    // Assess: B is caught although its id is below A's, and nothing is handed out twice
    expect(ofTenant(first.events, tenant)).toEqual([a.id])
    expect(ofTenant(second.events, tenant)).toEqual([b.id])
    expect(ofTenant(third.events, tenant)).toEqual([])
  })

  it('moves its cursor to the overlap window behind the read and forgets the ids below it', async () => {
    const tenant = ulid()
    const t = Date.now()
    const a = await createdAt(tenant, t, idInShard(1, t))
    const read = await readShardChanges(eventStore, 1, startCursor(t), t + 10)
    expect(read.cursor.seen).toContain(read.events.find((event) => event.consentId === a.id)?.id)
    // Past the overlap window, A's id is below the cursor: not read again, and not remembered
    const later = await readShardChanges(eventStore, 1, read.cursor, t + CHANGE_OVERLAP_MS + 1_000)
    expect(ofTenant(later.events, tenant)).toEqual([])
    expect(later.cursor.after > a.id).toBe(true)
    expect(later.cursor.seen).not.toContain(a.id)
    // The cursor is plain JSON: a poller elsewhere stores it between runs and goes on from it
    const resumed = JSON.parse(JSON.stringify(later.cursor)) as ShardCursor
    const c = await createdAt(tenant, t + CHANGE_OVERLAP_MS + 1_500, idInShard(1, t + CHANGE_OVERLAP_MS + 1_500))
    expect(
      ofTenant((await readShardChanges(eventStore, 1, resumed, t + CHANGE_OVERLAP_MS + 2_000)).events, tenant),
    ).toEqual([c.id])
  })

  it('puts every event in exactly one shard, of every tenant, in id order across shards', async () => {
    const tenants = [ulid(), ulid()]
    const t = Date.now()
    const cursors = startCursors(t)
    const made: Consent[] = []
    for (let i = 0; i < 12; i++) made.push(await createdAt(tenants[i % 2] as string, t + i))
    const { events } = await readAllShards(eventStore, cursors, t + 100)
    const mine = events.filter((event) => tenants.includes(event.tenantId))
    expect(mine.map((event) => event.consentId)).toEqual(made.map((consent) => consent.id))
    expect(new Set(mine.map((event) => changeShardOf(event.consentId))).size).toBeGreaterThan(1)
    expect(cursors).toHaveLength(CHANGE_SHARDS)
  })
})

describe('the live tenant feed over the change feed', () => {
  it('hands over from the backlog to live events with no gap or repeat, in id order, once settled', async () => {
    // Prepare: a wall clock the test moves; a backlog of three settled events
    let wall = Date.now()
    const watcher = new ConsentWatcher({ consents: repo, events: eventStore }, () => new Date(), silentLogger, {
      pollIntervalMs: 10,
      wallClock: () => wall,
    })
    const feed = new EventFeed(eventStore, watcher, 'test-cursor-secret-0123456789abcdef', () => wall)
    const tenant = ulid()
    const other = ulid()
    const backlog: Consent[] = []
    for (let i = 0; i < 3; i++) backlog.push(await createdAt(tenant, wall - FEED_SETTLE_MS - 1_000 + i))
    const stream = feed.follow({ tenantId: tenant }, null, { deadline: Date.now() + 30_000 })
    const seen: string[] = []
    const cursors: string[] = []
    const take = async (n: number, from = stream, into = seen) => {
      for (let i = 0; i < n; i++) {
        const item = await from.next()
        if (item.done) throw new Error('the stream ended')
        into.push(item.value.node.consentId)
        cursors.push(item.value.cursor)
      }
    }
    await take(1)

    // Act: while the backlog is being read, new events come, one of them taking its id before another but
    // committing after it, and another tenant's
    const start = Date.now()
    const late = ulid(start + 1)
    const x = await createdAt(tenant, start + 2)
    await createdAt(other, start + 3)
    const y = await createdAt(tenant, start + 1, late)
    await take(2)
    // Not settled yet: nothing live is released until the window has passed on the feed's clock
    wall = start + FEED_SETTLE_MS + 100
    await take(2)
    // (ids are made on the feed's clock, which the test has moved ahead)
    const z = await createdAt(tenant, wall + 1)
    wall += FEED_SETTLE_MS + 100
    await take(1)

    // Assess
    expect(seen).toEqual([...backlog.map((consent) => consent.id), y.id, x.id, z.id])
    await stream.return?.()
    await expect.poll(() => watcher.activeStreams).toBe(0)

    // And a resubscription from a cursor of the live part goes on right after it, from the backlog again
    const resumed = feed.follow({ tenantId: tenant }, cursors[3] ?? null, { deadline: Date.now() + 30_000 })
    const again: string[] = []
    await take(2, resumed, again)
    expect(again).toEqual([x.id, z.id])
    await resumed.return?.()
  })
})
