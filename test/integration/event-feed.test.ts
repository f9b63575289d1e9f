// connected: the tenant's history feed over DynamoDB Local: in event order, page by page with no gaps or repeats,
// even when an event with a smaller id commits after a larger one; and as a live stream.
import { ulid } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { InvalidCursorError } from '../../domain/errors.ts'
import { notificationFor } from '../../domain/notification.ts'
import { ConsentWatcher } from '../../service/consent-watcher.ts'
import { EventFeed, FEED_SETTLE_MS } from '../../service/event-feed.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { EventRepository } from '../../store/event-repository.ts'
import { aConsent } from '../support/fixtures.ts'
import { createTestTable } from '../support/dynamo.ts'

const SECRET = 'test-cursor-secret-0123456789abcdef'
let repo: ConsentRepository
let wall = Date.now()
let feed: EventFeed

beforeAll(async () => {
  const table = await createTestTable()
  repo = new ConsentRepository(table.db, table.tableName)
  const events = new EventRepository(table.db, table.tableName)
  // The live part comes from the process's poll of the change feed, on the same wall clock the test moves.
  const watcher = new ConsentWatcher({ consents: repo, events }, () => new Date(), silentLogger, {
    pollIntervalMs: 20,
    wallClock: () => wall,
  })
  feed = new EventFeed(events, watcher, SECRET, () => wall)
})

/** A new consent of `tenantId` whose creation event has an id made at `at` (epoch ms). */
async function consentCreatedAt(tenantId: string, at: number): Promise<Consent> {
  const consent = aConsent({ id: ulid(at), tenantId, providerConsentId: `fq-${ulid()}` })
  const event = newConsentEvent(consent, null, { id: ulid(at), source: 'API', initiator: 'api-client:test' })
  await repo.create(consent, event, notificationFor(event, consent))
  return consent
}

async function readAll(tenantId: string, first: number, after: string | null = null) {
  const ids: string[] = []
  let cursor = after
  for (let i = 0; i < 100; i++) {
    const page = await feed.page({ tenantId: tenantId }, first, cursor)
    ids.push(...page.edges.map((edge) => edge.node.consentId))
    cursor = page.pageInfo.endCursor
    if (!page.pageInfo.hasNextPage) break
  }
  return { ids, cursor }
}

describe("the tenant's event feed", () => {
  it('serves events once settled, in id order, even when a smaller id committed last', async () => {
    // Prepare: B's event takes its id first but commits after A's (a slow writer)
    const tenant = ulid()
    const t = Date.now()
    wall = t
    const a = await consentCreatedAt(tenant, t + 2)
    const early = await readAll(tenant, 10)
    const b = await consentCreatedAt(tenant, t + 1)
    // Assess: nothing served inside the settling window, so nobody read past B's place before it committed
    expect(early.ids).toEqual([])
    wall = t + FEED_SETTLE_MS + 10
    expect((await readAll(tenant, 10)).ids).toEqual([b.id, a.id])
  })

  it('pages with no gaps or repeats, and an empty page keeps the cursor', async () => {
    const tenant = ulid()
    const t = Date.now()
    const made: string[] = []
    for (let i = 0; i < 7; i++) made.push((await consentCreatedAt(tenant, t + i)).id)
    wall = t + FEED_SETTLE_MS + 100
    const { ids, cursor } = await readAll(tenant, 2)
    expect(ids).toEqual(made)
    const again = await feed.page({ tenantId: tenant }, 2, cursor)
    expect(again.edges).toEqual([])
    expect(again.pageInfo.endCursor).toBe(cursor)
    // Later events continue from the same cursor
    const later = await consentCreatedAt(tenant, t + 50)
    expect((await readAll(tenant, 2, cursor)).ids).toEqual([later.id])
  })

  it("refuses another tenant's cursor", async () => {
    const tenant = ulid()
    await consentCreatedAt(tenant, Date.now() - FEED_SETTLE_MS - 1_000)
    wall = Date.now()
    const { cursor } = await readAll(tenant, 1)
    await expect(feed.page({ tenantId: ulid() }, 1, cursor)).rejects.toBeInstanceOf(InvalidCursorError)
    expect(() => feed.follow({ tenantId: ulid() }, cursor, { deadline: Date.now() + 1_000 })).toThrow(
      InvalidCursorError,
    )
  })

  it('streams what is there, then what comes, and completes at its deadline', async () => {
    const tenant = ulid()
    const first = await consentCreatedAt(tenant, Date.now() - FEED_SETTLE_MS - 1_000)
    wall = Date.now()
    const stream = feed.follow({ tenantId: tenant }, null, { deadline: Date.now() + 1_500 })
    expect((await stream.next()).value?.node.consentId).toBe(first.id)
    // A new event, taken up by the poll of the change feed and streamed once settled
    const second = await consentCreatedAt(tenant, Date.now())
    wall = Date.now() + FEED_SETTLE_MS + 100
    const next = await stream.next()
    expect(next.value?.node.consentId).toBe(second.id)
    const started = Date.now()
    expect((await stream.next()).done).toBe(true)
    expect(Date.now() - started).toBeLessThan(1_600)
  })

  it('stops at once when the client goes away', async () => {
    const tenant = ulid()
    const controller = new AbortController()
    const stream = feed.follow({ tenantId: tenant }, null, {
      deadline: Date.now() + 60_000,
      signal: controller.signal,
    })
    const pending = stream.next()
    setTimeout(() => controller.abort(), 50)
    const started = Date.now()
    expect((await pending).done).toBe(true)
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})
