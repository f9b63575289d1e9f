// connected: the graphql-ws poller's connections (test/support/ws-poller-world.ts): gone connections, lapsed and
// re-checked credentials, due pings, and a ping that could not be moved.
import { describe, expect, it } from 'vitest'
import type { Consent } from '../../domain/consent.ts'
import { encodePublicId } from '../../domain/ids.ts'
import { wsShardOf } from '../../store/keys.ts'
import {
  RecordingSender,
  world,
  seedConsent,
  type World,
  advance,
  connection,
  subscribe,
  watcher,
  idInShard,
  nexts,
  pollerOver,
} from '../support/ws-poller-world.ts'

/** A connection watching `consent` (at version 1) whose trust ran out: its credential is checked again before a post. */
async function untrustedWatcher(w: World, consent: Consent): Promise<string> {
  const connectionId = await connection(w, { trustedUntil: Date.now() - 1 })
  await subscribe(w, connectionId, {
    consentId: consent.id,
    variables: { id: encodePublicId('Consent', consent.id) },
    lastVersion: 1,
  })
  return connectionId
}

describe('the graphql-ws poller', () => {
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
    const lapsed = await untrustedWatcher(w, consent)
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
    const connectionId = await untrustedWatcher(w, consent)
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
})
