// connected: subscriptions fed by one poll of the change feed over DynamoDB Local: what each stream yields and when
// it ends, and what the poll reads (counted DynamoDB commands): the feed's shards and one batch of the changed consents
// somebody watches, however many subscribers there are; nothing with nobody watching.
import { setMaxListeners } from 'node:events'
import { monotonicFactory } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { notificationFor } from '../../domain/notification.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { ConsentWatcher, type WatcherStore } from '../../service/consent-watcher.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { EventRepository } from '../../store/event-repository.ts'
import { CHANGE_SHARDS } from '../../store/keys.ts'
import { countingClient, createTestTable } from '../support/dynamo.ts'
import { eventually } from '../support/stack.ts'
import { aConsent } from '../support/fixtures.ts'

const newId = monotonicFactory()
let repo: ConsentRepository
/** What a watcher reads: the consents and the change feed. */
let store: WatcherStore
/** The repositories over a client that records every command it sends. */
let counted: { consents: ConsentRepository; events: EventRepository }
let commands: string[]

beforeAll(async () => {
  const table = await createTestTable()
  repo = new ConsentRepository(table.db, table.tableName)
  store = { consents: repo, events: new EventRepository(table.db, table.tableName) }
  const counting = countingClient(table.endpoint)
  commands = counting.commands
  counted = {
    consents: new ConsentRepository(counting.db, table.tableName),
    events: new EventRepository(counting.db, table.tableName),
  }
})

const event = (consent: Consent, from: Consent['status'] | null) =>
  newConsentEvent(consent, from, { id: newId(), source: 'PROVIDER_WEBHOOK', initiator: 'provider:finqware' })

async function seed(overrides: Partial<Consent> = {}): Promise<Consent> {
  const consent = aConsent({ id: newId(), providerConsentId: `fq-${newId()}`, linkExpiresAt: null, ...overrides })
  const first = event(consent, null)
  await repo.create(consent, first, notificationFor(first, consent))
  return consent
}

async function advance(consent: Consent, changes: Partial<Consent>): Promise<Consent> {
  const next = { ...consent, ...changes, version: consent.version + 1 }
  const change = event(next, consent.status)
  await repo.update(next, consent.version, change, notificationFor(change, next))
  return next
}

/** Collects what a stream yields until it completes. */
async function drain(stream: AsyncIterableIterator<Consent>, onItem?: (consent: Consent) => void | Promise<void>) {
  const seen: Consent[] = []
  for await (const consent of stream) {
    seen.push(consent)
    await onItem?.(consent)
  }
  return seen
}

describe('ConsentWatcher', () => {
  it('yields the current state first, then each change, and completes on a terminal status', async () => {
    const watcher = new ConsentWatcher(store, () => new Date(), silentLogger, { pollIntervalMs: 20 })
    const consent = await seed({ status: 'AWAITING_AUTHORIZATION' })
    const stream = watcher.watch(consent, { deadline: Date.now() + 10_000 })
    let current = consent
    const seen = await drain(stream, async (item) => {
      if (item.status === 'AWAITING_AUTHORIZATION') current = await advance(current, { status: 'ACTIVE' })
      else if (item.status === 'ACTIVE')
        current = await advance(current, { status: 'REVOKED', statusReason: 'REVOKED_BY_TPP' })
    })
    expect(seen.map((c) => [c.status, c.version])).toEqual([
      ['AWAITING_AUTHORIZATION', 1],
      ['ACTIVE', 2],
      ['REVOKED', 3],
    ])
    expect(watcher.activeStreams).toBe(0)
  })

  it('reads the feed and one batch of changed watched consents per tick, the same for 2 subscribers as for 60', async () => {
    // Prepare: a poll we drive by hand (its own timer is an hour away)
    const watcher = new ConsentWatcher(counted, () => new Date(), silentLogger, { pollIntervalMs: 3_600_000 })
    const consents = await Promise.all(Array.from({ length: 30 }, () => seed({ status: 'ACTIVE' })))
    const unwatched = await seed({ status: 'ACTIVE' })
    const controller = new AbortController()
    // One signal for every subscriber here (each request has its own in the server).
    setMaxListeners(100, controller.signal)
    const watch = (consent: Consent) =>
      watcher.watch(consent, { deadline: Date.now() + 60_000, signal: controller.signal })

    /** Commands of one poll after `change`, and what the given streams yield from it. */
    async function oneTick(change: () => Promise<unknown>, streams: AsyncIterableIterator<Consent>[]) {
      await change()
      commands.length = 0
      await watcher.pollNow()
      const sent = [...commands]
      const yielded = await Promise.all(streams.map((stream) => stream.next()))
      return { sent, yielded: yielded.map((result) => result.value?.status) }
    }

    // Act 1: two subscribers of one consent; it changes
    const few = [watch(consents[0] as Consent), watch(consents[0] as Consent)]
    for (const stream of few) await stream.next() // the initial state
    const small = await oneTick(() => advance(consents[0] as Consent, { status: 'SUSPENDED' }), few)

    // Act 2: sixty subscribers, two per consent; two consents change
    const many = consents.slice(1).flatMap((consent) => [watch(consent), watch(consent)])
    for (const stream of many) await stream.next()
    const large = await oneTick(
      () =>
        Promise.all([
          advance(consents[1] as Consent, { status: 'SUSPENDED' }),
          advance(consents[2] as Consent, { status: 'SUSPENDED' }),
        ]),
      many.slice(0, 4),
    )

    // Act 3: only a consent nobody watches changes
    const idle = await (async () => {
      await advance(unwatched, { status: 'SUSPENDED' })
      commands.length = 0
      await watcher.pollNow()
      return [...commands]
    })()

    // Assess: every subscriber of a changed consent got it; each poll read the feed's shards once and the changed
    // watched consents in one batch, whatever the number of subscribers
    expect(small.yielded).toEqual(['SUSPENDED', 'SUSPENDED'])
    expect(large.yielded).toEqual(['SUSPENDED', 'SUSPENDED', 'SUSPENDED', 'SUSPENDED'])
    const feedReads = Array.from({ length: CHANGE_SHARDS }, () => 'QueryCommand')
    expect(small.sent.sort()).toEqual(['BatchGetItemCommand', ...feedReads].sort())
    expect(large.sent.sort()).toEqual(['BatchGetItemCommand', ...feedReads].sort())
    expect(idle).toEqual(feedReads)

    // And with nobody watching, a poll reads nothing at all
    controller.abort()
    await eventually(async () => watcher.activeStreams === 0)
    commands.length = 0
    await watcher.pollNow()
    expect(commands).toEqual([])
  })

  it('yields again when time alone changes what the consent shows, even with no write', async () => {
    const watcher = new ConsentWatcher(store, () => new Date(), silentLogger, { pollIntervalMs: 20 })
    const consent = await seed({
      status: 'AWAITING_AUTHORIZATION',
      linkExpiresAt: new Date(Date.now() + 300).toISOString(),
    })
    const seen = await drain(watcher.watch(consent, { deadline: Date.now() + 10_000 }))
    // The same stored consent twice: first pending, then past its link deadline (LINK_EXPIRED, terminal).
    expect(seen).toHaveLength(2)
    expect(seen.map((c) => c.version)).toEqual([1, 1])
  })

  it('stops at once when the subscriber goes away, even while waiting for the next poll', async () => {
    const watcher = new ConsentWatcher(store, () => new Date(), silentLogger, { pollIntervalMs: 60_000 })
    const consent = await seed({ status: 'ACTIVE' })
    const controller = new AbortController()
    const stream = watcher.watch(consent, { deadline: Date.now() + 600_000, signal: controller.signal })
    await stream.next()
    const pending = stream.next()
    controller.abort()
    // Resolves long before the one-minute poll interval or the ten-minute deadline.
    expect(await pending).toEqual({ value: undefined, done: true })
    expect(watcher.activeStreams).toBe(0)
  })

  it('ends a stream at its deadline', async () => {
    const watcher = new ConsentWatcher(store, () => new Date(), silentLogger, { pollIntervalMs: 20 })
    const consent = await seed({ status: 'ACTIVE' })
    const seen = await drain(watcher.watch(consent, { deadline: Date.now() + 150 }))
    expect(seen).toHaveLength(1)
    expect(watcher.activeStreams).toBe(0)
  })

  it('ends a stream at once when the iterator is returned (client disconnects)', async () => {
    const watcher = new ConsentWatcher(store, () => new Date(), silentLogger, { pollIntervalMs: 60_000 })
    const consent = await seed({ status: 'ACTIVE' })
    const stream = watcher.watch(consent, { deadline: Date.now() + 600_000 })
    await stream.next()
    const pending = stream.next()
    await stream.return?.()
    expect(await pending).toEqual({ value: undefined, done: true })
    expect(watcher.activeStreams).toBe(0)
  })

  it('completes right after the first item when the consent is already final', async () => {
    const watcher = new ConsentWatcher(store, () => new Date(), silentLogger, { pollIntervalMs: 20 })
    const consent = await seed({ status: 'REVOKED' })
    expect((await drain(watcher.watch(consent, { deadline: Date.now() + 10_000 }))).map((c) => c.status)).toEqual([
      'REVOKED',
    ])
  })
})
