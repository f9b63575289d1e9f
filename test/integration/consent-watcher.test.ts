// connected: subscriptions as one batched poll loop over DynamoDB Local.
import { monotonicFactory } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { notificationFor } from '../../domain/notification.ts'
import { silentLogger } from '../../service/logging.ts'
import { ConsentWatcher } from '../../service/consent-watcher.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { createTestTable } from '../support/dynamo.ts'
import { eventually } from '../support/stack.ts'
import { aConsent } from '../support/fixtures.ts'

const newId = monotonicFactory()
let repo: ConsentRepository
/** The repository, counting the reads the watcher makes. */
let counted: ConsentRepository & { versionReads: number; consentReads: number }

beforeAll(async () => {
  const table = await createTestTable()
  repo = new ConsentRepository(table.db, table.tableName)
  counted = Object.assign(Object.create(repo) as ConsentRepository, {
    versionReads: 0,
    consentReads: 0,
    versions(this: typeof counted, refs: Parameters<ConsentRepository['versions']>[0]) {
      this.versionReads++
      return repo.versions(refs)
    },
    getMany(this: typeof counted, tenantId: string, ids: readonly string[]) {
      this.consentReads++
      return repo.getMany(tenantId, ids)
    },
  })
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
    const watcher = new ConsentWatcher(repo, () => new Date(), silentLogger, { pollIntervalMs: 20 })
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

  it('reads the versions of every watched consent in one batch per tick, and only changed consents in full', async () => {
    const watcher = new ConsentWatcher(counted, () => new Date(), silentLogger, { pollIntervalMs: 50 })
    const consents = await Promise.all(Array.from({ length: 6 }, () => seed({ status: 'ACTIVE' })))
    const controller = new AbortController()
    // Eight streams: two subscribers share the first consent.
    const streams = [...consents, consents[0] as Consent].map((c) =>
      watcher.watch(c, { deadline: Date.now() + 10_000, signal: controller.signal }),
    )
    for (const stream of streams) await stream.next() // the initial state
    counted.versionReads = 0
    counted.consentReads = 0

    // Act: one consent changes
    await advance(consents[0] as Consent, { status: 'SUSPENDED' })
    const [first, , , , , , shared] = streams
    const a = await first?.next()
    const b = await shared?.next()

    // Assess: both of its subscribers got the change, from one full read
    expect(a?.value?.status).toBe('SUSPENDED')
    expect(b?.value?.status).toBe('SUSPENDED')
    expect(counted.consentReads).toBe(1)
    // Each tick read all seven consents' versions in one request, however many streams there are.
    expect(counted.versionReads).toBeGreaterThanOrEqual(1)
    expect(counted.versionReads).toBeLessThanOrEqual(3)
    controller.abort()
    await eventually(async () => watcher.activeStreams === 0)
  })

  it('yields again when time alone changes what the consent shows, even with no write', async () => {
    const watcher = new ConsentWatcher(repo, () => new Date(), silentLogger, { pollIntervalMs: 20 })
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
    const watcher = new ConsentWatcher(repo, () => new Date(), silentLogger, { pollIntervalMs: 60_000 })
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
    const watcher = new ConsentWatcher(repo, () => new Date(), silentLogger, { pollIntervalMs: 20 })
    const consent = await seed({ status: 'ACTIVE' })
    const seen = await drain(watcher.watch(consent, { deadline: Date.now() + 150 }))
    expect(seen).toHaveLength(1)
    expect(watcher.activeStreams).toBe(0)
  })

  it('ends a stream at once when the iterator is returned (client disconnects)', async () => {
    const watcher = new ConsentWatcher(repo, () => new Date(), silentLogger, { pollIntervalMs: 60_000 })
    const consent = await seed({ status: 'ACTIVE' })
    const stream = watcher.watch(consent, { deadline: Date.now() + 600_000 })
    await stream.next()
    const pending = stream.next()
    await stream.return?.()
    expect(await pending).toEqual({ value: undefined, done: true })
    expect(watcher.activeStreams).toBe(0)
  })

  it('completes right after the first item when the consent is already final', async () => {
    const watcher = new ConsentWatcher(repo, () => new Date(), silentLogger, { pollIntervalMs: 20 })
    const consent = await seed({ status: 'REVOKED' })
    expect((await drain(watcher.watch(consent, { deadline: Date.now() + 10_000 }))).map((c) => c.status)).toEqual([
      'REVOKED',
    ])
  })
})
