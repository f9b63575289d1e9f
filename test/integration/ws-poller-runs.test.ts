// connected: the graphql-ws poller's runs and feeds (test/support/ws-poller-world.ts): one run per shard, a run that
// dies loses nothing, the feed's followers get each event once across pollers and despite a lagging index, failed posts
// are sent again, and one subscription that cannot be sent does not hold its shard back.
import { describe, expect, it } from 'vitest'
import type { Consent } from '../../domain/consent.ts'
import { encodePublicId } from '../../domain/ids.ts'
import { CHANGE_SHARDS } from '../../store/keys.ts'
import type { StoredPrincipal } from '../../store/stored-principal.ts'
import {
  WAIT,
  RecordingSender,
  HangingSender,
  world,
  seedConsent,
  advance,
  connection,
  subscribe,
  watcher,
  follower,
  idInShard,
  nexts,
  feedIds,
  settledFeed,
  feedEventIds,
  pollerOver,
  runUntil,
} from '../support/ws-poller-world.ts'

describe('the graphql-ws poller', () => {
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
})
