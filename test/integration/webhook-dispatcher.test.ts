// connected: the webhook dispatcher over DynamoDB Local and real HTTP to a partner endpoint on loopback, its
// signatures verified with the standardwebhooks library (an implementation independent of ours).
import { randomBytes } from 'node:crypto'
import { monotonicFactory } from 'ulid'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { notificationFor } from '../../domain/notification.ts'
import { createGateway, type Gateway } from '../../composition/gateway.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { OutboxRepository } from '../../store/outbox-repository.ts'
import { aConsent, aGatewayConfig, T0, writeConsentWithTransitions } from '../support/fixtures.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'
import { RecordingReceiver } from '../support/webhook-receiver.ts'

const newId = monotonicFactory()
const HOUR = 3_600_000
let table: TestTable
let repo: ConsentRepository
let receiver: RecordingReceiver
let gateway: Gateway
let now = T0

beforeAll(async () => {
  table = await createTestTable()
  repo = new ConsentRepository(table.db, table.tableName)
  receiver = await RecordingReceiver.start()
  const config = aGatewayConfig(table, {
    tokenEncryptionKeys: `k1:${randomBytes(32).toString('base64')}`,
    lifecycle: {
      leaseMs: 2_000,
      delivery: { timeoutMs: 2_000, baseBackoffMs: 60_000, maxBackoffMs: 6 * HOUR, maxAgeMs: 72 * HOUR },
    },
  })
  gateway = createGateway(config, { db: table.db, logger: silentLogger, clock: () => now })
})

afterAll(() => receiver.close())

/** A consent of `tenantId` with `transitions` written after its creation, each with its outbox message. */
function consentWithHistory(tenantId: string, webhookUrl: string | null, transitions: Consent['status'][]) {
  const at = now.toISOString()
  const consent = aConsent({
    id: newId(),
    tenantId,
    providerConsentId: `fq-${newId()}`,
    webhookUrl,
    createdAt: at,
    updatedAt: at,
  })
  // The transitions happen at `now` too (the gateway's clock), so their messages fall due then.
  return writeConsentWithTransitions(repo, consent, transitions, newId, () => now.toISOString())
}

const tenant = () => newId().slice(0, 26)
const of = (consent: Consent) =>
  receiver.received.filter((webhook) => webhook.body.consent_id === `consent_${consent.id}`)

describe('the webhook dispatcher', () => {
  it('delivers every message once, in order, signed so a standard receiver verifies it', async () => {
    // Prepare
    const tenantId = tenant()
    const consent = await consentWithHistory(tenantId, receiver.url, ['AWAITING_AUTHORIZATION', 'ACTIVE'])
    // Act
    await gateway.jobs.deliverDue()
    await gateway.jobs.deliverDue()
    // Assess
    const delivered = of(consent)
    expect(delivered.map((webhook) => [webhook.body.sequence, webhook.body.status])).toEqual([
      [1, 'CREATED'],
      [2, 'AWAITING_AUTHORIZATION'],
      [3, 'ACTIVE'],
    ])
    const [secret] = (await gateway.webhooks.view({ tenantId: tenantId })).signingSecrets
    const verifier = new Webhook(secret?.secret ?? '')
    for (const webhook of delivered) {
      expect(verifier.verify(webhook.text, webhook.headers as Record<string, string>)).toEqual(webhook.body)
      expect(webhook.headers['webhook-id']).toBe(webhook.body.event_id)
    }
    // The body keeps its documented key order, whatever order DynamoDB hands the stored message back in
    expect(Object.keys(delivered[2]?.body ?? {})).toEqual([
      'type',
      'event_id',
      'consent_id',
      'status',
      'previous_status',
      'status_reason',
      'provider',
      'provider_status',
      'occurred_at',
      'sequence',
      'deadline_at',
    ])
    expect(delivered[2]?.body).toMatchObject({
      type: 'consent_status_update',
      status: 'ACTIVE',
      previous_status: 'AWAITING_AUTHORIZATION',
      provider: 'FINQWARE',
      deadline_at: null,
    })
    // Another tenant's secret does not verify it.
    const [other] = (await gateway.webhooks.view({ tenantId: tenant() })).signingSecrets
    expect(() =>
      new Webhook(other?.secret ?? '').verify(
        delivered[0]?.text ?? '',
        delivered[0]?.headers as Record<string, string>,
      ),
    ).toThrow()
    // Finished messages expire through TTL 30 days after delivery; pending ones never do
    const items = (await table.scanAll()).filter(
      (item) => item.entityType === 'OUTBOX' && item.consentId === consent.id,
    )
    for (const item of items) {
      expect(Number(item.expiresAt) - Date.parse(String(item.deliveredAt)) / 1000).toBeCloseTo(30 * 86_400, -1)
    }
    const deliveries = await gateway.deliveries.list({ tenantId: tenantId }, consent.id)
    expect(deliveries.map((d) => [d.sequence, d.deliveryState, d.attempts, d.lastAttempt?.status])).toEqual([
      [1, 'DELIVERED', 1, 204],
      [2, 'DELIVERED', 1, 204],
      [3, 'DELIVERED', 1, 204],
    ])
  })

  it('retries a failing endpoint with backoff, holding later messages back until the earlier one is through', async () => {
    // Prepare: the endpoint fails twice, then recovers
    const tenantId = tenant()
    const consent = await consentWithHistory(tenantId, receiver.url, ['ACTIVE'])
    let failures = 2
    receiver.answer = (webhook) =>
      webhook.body.consent_id === `consent_${consent.id}` && failures-- > 0 ? { status: 503 } : { status: 200 }
    try {
      // Act + Assess: first attempt fails; nothing more is sent until the retry is due
      expect(await gateway.jobs.deliverConsent(tenantId, consent.id)).toMatchObject({ delivered: 0, failed: 1 })
      expect(await gateway.jobs.deliverConsent(tenantId, consent.id)).toMatchObject({ delivered: 0, failed: 0 })
      const [waiting] = await gateway.deliveries.list({ tenantId: tenantId }, consent.id)
      expect(waiting).toMatchObject({ deliveryState: 'PENDING', attempts: 1, lastAttempt: { status: 503 } })
      const wait = Date.parse(waiting?.nextAttemptAt ?? '') - now.getTime()
      expect(wait).toBeGreaterThanOrEqual(30_000)
      expect(wait).toBeLessThanOrEqual(60_000)
      now = new Date(Date.parse(waiting?.nextAttemptAt ?? ''))
      expect(await gateway.jobs.deliverDue()).toMatchObject({ failed: 1 })
      const [again] = await gateway.deliveries.list({ tenantId: tenantId }, consent.id)
      expect(Date.parse(again?.nextAttemptAt ?? '') - now.getTime()).toBeGreaterThanOrEqual(60_000) // doubled
      now = new Date(Date.parse(again?.nextAttemptAt ?? ''))
      expect(await gateway.jobs.deliverDue()).toMatchObject({ delivered: 2 })
      expect(of(consent).map((webhook) => webhook.body.sequence)).toEqual([1, 1, 1, 2])
    } finally {
      receiver.answer = () => ({ status: 204 })
    }
  })

  it('keeps a message blocked behind a failing one out of the due work until the blocking one is due, and shows whom it waits for', async () => {
    // Prepare: the consent's first message fails; a second is written behind it while it waits for its retry
    const outbox = new OutboxRepository(table.db, table.tableName)
    const tenantId = tenant()
    const consent = await consentWithHistory(tenantId, receiver.url, [])
    receiver.answer = (webhook) =>
      webhook.body.consent_id === `consent_${consent.id}` && webhook.body.sequence === 1
        ? { status: 503 }
        : { status: 204 }
    const offered = async () =>
      (await outbox.consentsDue(now)).consents.filter((due) => due.consentId === consent.id).length
    try {
      expect(await gateway.jobs.deliverConsent(tenantId, consent.id)).toMatchObject({ failed: 1 })
      const next: Consent = { ...consent, status: 'AWAITING_AUTHORIZATION', version: 2, updatedAt: now.toISOString() }
      const event = newConsentEvent(next, consent.status, { id: newId(), source: 'API', initiator: 'api-client:test' })
      await repo.update(next, consent.version, event, notificationFor(event, next))
      // Act: the job runs ten times before the first message's retry is due
      const offers: number[] = []
      const reports: Awaited<ReturnType<Gateway['jobs']['deliverDue']>>[] = []
      for (let run = 0; run < 10; run++) {
        offers.push(await offered())
        reports.push(await gateway.jobs.deliverDue())
      }
      // Assess: offered once (the new message, whose turn then moves behind the first), then left alone
      expect(offers).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
      expect(reports.slice(1).every((report) => report.consents === 0)).toBe(true)
      const [first, second] = await gateway.deliveries.list({ tenantId: tenantId }, consent.id)
      expect(first).toMatchObject({ deliveryState: 'PENDING', attempts: 1, waitingForSequence: null })
      expect(second).toMatchObject({
        deliveryState: 'PENDING',
        attempts: 0,
        waitingForSequence: 1,
        nextAttemptAt: first?.nextAttemptAt,
      })
      expect(of(consent).map((webhook) => webhook.body.sequence)).toEqual([1])
      // The endpoint recovers: when the first is due, both go in one run, in order
      receiver.answer = () => ({ status: 204 })
      now = new Date(Date.parse(first?.nextAttemptAt ?? ''))
      expect(await offered()).toBe(1)
      await gateway.jobs.deliverDue()
      expect(of(consent).map((webhook) => webhook.body.sequence)).toEqual([1, 1, 2])
      const after = await gateway.deliveries.list({ tenantId: tenantId }, consent.id)
      expect(after.map((message) => [message.deliveryState, message.waitingForSequence])).toEqual([
        ['DELIVERED', null],
        ['DELIVERED', null],
      ])
    } finally {
      receiver.answer = () => ({ status: 204 })
    }
  })

  it('dead-letters a message undelivered for 72 hours, moves on to the next, and replays it on request', async () => {
    // Prepare: an endpoint that always fails
    const tenantId = tenant()
    const consent = await consentWithHistory(tenantId, receiver.url, ['ACTIVE'])
    const failing = (webhook: { body: Record<string, unknown> }) => webhook.body.consent_id === `consent_${consent.id}`
    receiver.answer = (webhook) => (failing(webhook) ? { status: 500 } : { status: 204 })
    const started = now
    try {
      // Act: run the dispatcher whenever something is due, until 72 hours have passed
      let attempts = 0
      while (now.getTime() - started.getTime() < 73 * HOUR && attempts < 100) {
        await gateway.jobs.deliverConsent(tenantId, consent.id)
        attempts++
        const [first] = await gateway.deliveries.list({ tenantId: tenantId }, consent.id)
        if (first?.deliveryState !== 'PENDING') break
        now = new Date(Date.parse(first.nextAttemptAt ?? ''))
      }
      // Assess
      const [dead, second] = await gateway.deliveries.list({ tenantId: tenantId }, consent.id)
      expect(dead?.deliveryState).toBe('DEAD')
      expect(dead?.attempts).toBeGreaterThan(10)
      expect(Date.parse(dead?.lastAttempt?.at ?? '') - Date.parse(dead?.createdAt ?? '')).toBe(72 * HOUR)
      // The next message waited behind it for the same 72 hours: tried once, after the dead one, and dead too.
      expect(second).toMatchObject({ deliveryState: 'DEAD', attempts: 1 })
      // The endpoint is fixed; the partner replays the dead message
      receiver.answer = () => ({ status: 204 })
      const replayed = await gateway.deliveries.replay({ tenantId: tenantId }, consent.id, 1)
      expect(replayed).toMatchObject({ deliveryState: 'DELIVERED', lastAttempt: { status: 204 } })
    } finally {
      receiver.answer = () => ({ status: 204 })
    }
  })

  it("uses the tenant's default endpoint, and records NO_ENDPOINT when there is none", async () => {
    const tenantId = tenant()
    const orphan = await consentWithHistory(tenantId, null, [])
    await gateway.jobs.deliverConsent(tenantId, orphan.id)
    expect((await gateway.deliveries.list({ tenantId: tenantId }, orphan.id))[0]?.deliveryState).toBe('NO_ENDPOINT')
    await gateway.webhooks.setDefaultUrl({ tenantId: tenantId }, receiver.url)
    const consent = await consentWithHistory(tenantId, null, [])
    await gateway.jobs.deliverConsent(tenantId, consent.id)
    expect(of(consent)).toHaveLength(1)
  })

  it('signs with both secrets during a rotation, so receivers on either verify', async () => {
    const tenantId = tenant()
    const before = (await gateway.webhooks.view({ tenantId: tenantId })).signingSecrets[0]?.secret ?? ''
    const rotated = await gateway.webhooks.rotate({ tenantId: tenantId })
    expect(rotated.signingSecrets.map((s) => s.retiresAt === null)).toEqual([true, false])
    const consent = await consentWithHistory(tenantId, receiver.url, [])
    await gateway.jobs.deliverConsent(tenantId, consent.id)
    const [webhook] = of(consent)
    const headers = webhook?.headers as Record<string, string>
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2)
    for (const secret of [before, rotated.signingSecrets[0]?.secret ?? '']) {
      expect(() => new Webhook(secret).verify(webhook?.text ?? '', headers)).not.toThrow()
    }
  })

  it('refuses a private address at delivery time, without connecting', async () => {
    const tenantId = tenant()
    const consent = await consentWithHistory(tenantId, 'https://10.255.255.1/hooks', [])
    expect(await gateway.jobs.deliverConsent(tenantId, consent.id)).toMatchObject({ failed: 1 })
    const [message] = await gateway.deliveries.list({ tenantId: tenantId }, consent.id)
    expect(message?.lastAttempt).toMatchObject({ status: null, error: expect.stringMatching(/refused/) as unknown })
  })
})
