// connected: the graphql-ws poller of the AWS deployment (service/ws-poller.ts) over DynamoDB Local, its watchers
// (test/support/ws-poller-world.ts): each watcher gets each new version through its own document; what one tick reads
// follows the changes, not the watchers; the newest state wins a race; deadlines and the deadline sweep's events
// reaching watchers; a stored document's answer.
import { describe, expect, it } from 'vitest'
import type { Consent } from '../../domain/consent.ts'
import { encodePublicId } from '../../domain/ids.ts'
import { graphQLServicesOf } from '../../schema/server.ts'
import { storedOperations } from '../../schema/stored-operations.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { CHANGE_SHARDS } from '../../store/keys.ts'
import {
  CONSENT_UPDATED,
  RecordingSender,
  world,
  seedConsent,
  advance,
  watcher,
  idInShard,
  nexts,
  settledFeed,
  pollerOver,
} from '../support/ws-poller-world.ts'

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
