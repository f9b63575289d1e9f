// e2e, every provider: its notifications are verified by its own scheme, a duplicate changes nothing, and an older
// notification arriving after a newer state never moves the consent back (the gateway reads the provider's current
// state on every notification, and the transition guard refuses a regression). Where a notification carries an id,
// a verbatim replay is acknowledged but not processed again; where it carries a time, a stale one is refused (400
// stale_notification), as a forged one is (401 unauthenticated) and an authentic one naming no consent (400).
import { createHmac, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decideAtBank, eventually, execute, startStack, type Stack } from '../support/stack.ts'
import { fetchControl } from '../support/provider-drivers.ts'
import type { Logger } from '../../runtime/logging.ts'

let stack: Stack

/** The gateway's calls to each provider, counted from its `provider call` log lines (one per HTTP exchange). */
const providerCalls = new Map<string, number>()
const countingLogger: Logger = {
  debug: (message, extra) => {
    if (message !== 'provider call') return
    const provider = String(extra?.provider)
    providerCalls.set(provider, (providerCalls.get(provider) ?? 0) + 1)
  },
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
}
const callsTo = (provider: string) => providerCalls.get(provider) ?? 0

beforeAll(async () => {
  stack = await startStack({ logger: countingLogger })
})
afterAll(async () => {
  await stack?.close()
})

interface Notification {
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: string
}

interface ProviderCase {
  readonly provider: 'FINQWARE' | 'WORLDLINE' | 'YAPILY'
  readonly input: Record<string, unknown>
  readonly sandboxUrl: () => string
  /** The user approves at the bank (and, at Yapily, the browser comes back through our callback). */
  approve(authorizationUrl: string): Promise<void>
  /** An authentic notification claiming the consent is still waiting for the user. */
  stale(providerConsentId: string): Promise<Notification>
  /** The same notification, no longer authentic. */
  forged(notification: Notification): Notification
  /** An authentic notification that does not say which consent it is about. */
  malformed(): Promise<Notification>
  /**
   * An authentic notification as the provider sends it now (its own id and time where it has them), saying the
   * consent is active; `sentAt` dates it for providers whose notifications carry a time.
   */
  fresh(providerConsentId: string, sentAt?: Date): Promise<Notification>
  /** Whether the provider's notifications carry an id (de-duplicated) and a time (refused when stale). */
  readonly carries: { readonly id: boolean; readonly time: boolean }
}

const finqwareBody = (id: string, status: string) =>
  JSON.stringify({ type: 'consent_status_update', consent_id: id, status })
const worldlineHeaders = (sentAt: Date) => ({
  authorization: `Bearer ${stack.gateway.config.providers.worldline?.notificationToken ?? ''}`,
  'x-request-id': randomUUID(),
  messagecreatedatetime: sentAt.toISOString(),
})
const yapilySigned = (body: string) => {
  const secret = stack.gateway.config.providers.yapily?.webhookSecret ?? ''
  return { 'x-yapily-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` }
}

const CASES: ProviderCase[] = [
  {
    provider: 'FINQWARE',
    input: { institutionId: 'bt_ro', region: 'EEA' },
    sandboxUrl: () => stack.finqware.url,
    approve: async (url) => void (await decideAtBank(url, 'approve')),
    stale: async (id) => {
      const body = JSON.stringify({ type: 'consent_status_update', consent_id: id, status: 'awaiting_authz' })
      return { path: '/webhooks/finqware', headers: await stack.finqware.keys.sign(body), body }
    },
    forged: (n) => ({ ...n, body: n.body.replace(/"status":"[a-z_]+"/, '"status":"revoked"') }),
    malformed: async () => {
      const body = JSON.stringify({ type: 'consent_status_update', status: 'active' })
      return { path: '/webhooks/finqware', headers: await stack.finqware.keys.sign(body), body }
    },
    fresh: async (id) => {
      const body = finqwareBody(id, 'active')
      return { path: '/webhooks/finqware', headers: await stack.finqware.keys.sign(body), body }
    },
    carries: { id: false, time: false },
  },
  {
    provider: 'WORLDLINE',
    input: { institutionId: '20101', region: 'EEA' },
    sandboxUrl: () => stack.worldline.url,
    approve: async (url) => void (await decideAtBank(url, 'approve')),
    stale: async (id) => ({
      path: '/webhooks/worldline/v3/notification/status',
      headers: worldlineHeaders(new Date()),
      body: JSON.stringify({ ConsentId: id, ConsentStatus: 'Pending', AspspId: '20101' }),
    }),
    forged: (n) => ({ ...n, headers: { ...n.headers, authorization: 'Bearer not-the-token' } }),
    malformed: async () => ({
      path: '/webhooks/worldline/v3/notification/status',
      headers: worldlineHeaders(new Date()),
      body: JSON.stringify({ ConsentStatus: 'Authorised', AspspId: '20101' }),
    }),
    fresh: async (id, sentAt = new Date()) => ({
      path: '/webhooks/worldline/v3/notification/status',
      headers: worldlineHeaders(sentAt),
      body: JSON.stringify({ ConsentId: id, ConsentStatus: 'Authorised', AspspId: '20101' }),
    }),
    carries: { id: true, time: true },
  },
  {
    provider: 'YAPILY',
    input: { institutionId: 'modelo-sandbox', region: 'UK' },
    sandboxUrl: () => stack.yapily.url,
    approve: async (url) => {
      const atBank = await decideAtBank(url, 'approve')
      await fetch(atBank.location ?? '', { redirect: 'manual' })
    },
    stale: async (id) => {
      const body = JSON.stringify({
        type: 'consent.status',
        event: { consentId: id, status: 'AWAITING_AUTHORIZATION' },
      })
      return { path: '/webhooks/yapily', headers: yapilySigned(body), body }
    },
    forged: (n) => ({ ...n, body: n.body.replace(/"status":"[A-Z_]+"/, '"status":"REVOKED"') }),
    malformed: async () => {
      const body = JSON.stringify({ type: 'consent.status', event: { status: 'AUTHORIZED' } })
      return { path: '/webhooks/yapily', headers: yapilySigned(body), body }
    },
    fresh: async (id) => {
      // The envelope Yapily documents: `id` is the webhook's, `metadata.tracingId` marks this delivery.
      const body = JSON.stringify({
        id: randomUUID(),
        applicationId: randomUUID(),
        type: 'consent.status',
        event: { consentId: id, status: 'AUTHORIZED' },
        metadata: { tracingId: randomUUID() },
      })
      return { path: '/webhooks/yapily', headers: yapilySigned(body), body }
    },
    carries: { id: true, time: false },
  },
]

const FIELDS = 'id status providerStatus providerConsentId authorizationUrl version'
const get = async (id: string) =>
  (
    await execute(
      stack.client(stack.tenantA),
      `query ($id: ID!) { consent(id: $id) { ... on Consent { ${FIELDS} events { edges { node { to providerStatus } } } } } }`,
      { id },
    )
  ).data?.consent as Record<string, any>

const post = (notification: Notification) =>
  fetch(`${stack.http.url}${notification.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...notification.headers },
    body: notification.body,
  })

describe.each(CASES.map((c) => [c.provider, c] as const))('%s notifications', (_name, c) => {
  it('ignore duplicates, never let an older status overwrite a newer one, and refuse forgeries', async () => {
    // Prepare: every notification of this flow sent twice
    await fetchControl(`${c.sandboxUrl()}/__sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duplicate: 20 }),
    })
    try {
      const created = (
        await execute(
          stack.client(stack.tenantA),
          `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { ... on CreateConsentPayload { consent { ${FIELDS} } } } }`,
          { input: { provider: c.provider, userId: `notify-${c.provider}`, ...c.input } },
        )
      ).data?.createConsent.consent as Record<string, any>
      // Act
      await c.approve(created.authorizationUrl as string)
      await eventually(async () => (await get(created.id as string)).status === 'ACTIVE')
      const log = await eventually(async () => {
        const current = (await (await fetchControl(`${c.sandboxUrl()}/__sandbox/webhooks`)).json()) as {
          deliveries: { state: string; duplicate: boolean; body: string }[]
        }
        return current.deliveries.every((delivery) => delivery.state !== 'pending') && current
      })
      // The provider did send this consent's notifications twice (delivered, both copies)
      const mine = log.deliveries.filter((delivery) => delivery.body.includes(created.providerConsentId as string))
      expect(mine.filter((delivery) => delivery.duplicate && delivery.state === 'delivered').length).toBeGreaterThan(0)
      const active = await get(created.id as string)
      const stale = await c.stale(active.providerConsentId as string)
      const answers = [await post(stale), await post(stale)]
      const forged = await post(c.forged(stale))
      // Assess: the history has each status once; stale and duplicate news changed nothing; forgeries are refused
      const after = await get(created.id as string)
      const statuses = after.events.edges.map((edge: any) => edge.node.to as string)
      expect(statuses.filter((status: string, i: number) => status === statuses[i - 1])).toEqual([])
      expect(after).toMatchObject({ status: 'ACTIVE', version: active.version })
      for (const answer of answers) expect(answer.status).toBeLessThan(300)
      expect(forged.status).toBe(401)
    } finally {
      await fetchControl(`${c.sandboxUrl()}/__sandbox/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ duplicate: 0 }),
      })
    }
  })
})

describe.each(CASES.map((c) => [c.provider, c] as const))('%s notification replays', (_name, c) => {
  it('acknowledge a verbatim replay without processing it again, refuse a stale one, and refuse forgeries', async () => {
    // Prepare: an active consent
    const created = (
      await execute(
        stack.client(stack.tenantA),
        `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { ... on CreateConsentPayload { consent { ${FIELDS} } } } }`,
        { input: { provider: c.provider, userId: `replay-${c.provider}`, ...c.input } },
      )
    ).data?.createConsent.consent as Record<string, any>
    await c.approve(created.authorizationUrl as string)
    await eventually(async () => (await get(created.id as string)).status === 'ACTIVE')
    // The sandbox's own notifications of the flow have all landed, so the counts below are ours alone.
    await eventually(async () => {
      const log = (await (await fetchControl(`${c.sandboxUrl()}/__sandbox/webhooks`)).json()) as {
        deliveries: { state: string }[]
      }
      return log.deliveries.every((delivery) => delivery.state !== 'pending')
    })
    const active = await get(created.id as string)
    const providerConsentId = active.providerConsentId as string

    // Act 1: a fresh authentic notification goes through (the provider is asked)
    const fresh = await c.fresh(providerConsentId)
    const beforeFresh = callsTo(c.provider)
    const freshAnswer = await post(fresh)
    const freshCalls = callsTo(c.provider) - beforeFresh
    // Act 2: the same bytes again, three times
    const beforeReplays = callsTo(c.provider)
    const replayAnswers = [await post(fresh), await post(fresh), await post(fresh)]
    const replayCalls = callsTo(c.provider) - beforeReplays
    // Act 3: authentic but dated outside the tolerance, past and future (only where a time is carried)
    const staleAnswers = c.carries.time
      ? [
          await post(await c.fresh(providerConsentId, new Date(Date.now() - 10 * 60_000))),
          await post(await c.fresh(providerConsentId, new Date(Date.now() + 10 * 60_000))),
        ]
      : []
    const staleCalls = callsTo(c.provider) - beforeReplays - replayCalls
    const forged = await post(c.forged(await c.fresh(providerConsentId)))
    const malformed = await post(await c.malformed())

    // Assess
    expect(freshAnswer.status).toBe(200)
    expect(freshCalls).toBeGreaterThan(0)
    for (const answer of replayAnswers) expect(answer.status).toBe(200)
    // Replays processed: where an id is carried none (no provider call); otherwise each is read back, harmlessly.
    if (c.carries.id) expect(replayCalls).toBe(0)
    else expect(replayCalls).toBe(3 * freshCalls)
    expect(staleAnswers.map((answer) => answer.status)).toEqual(c.carries.time ? [400, 400] : [])
    for (const answer of staleAnswers) expect(await answer.json()).toMatchObject({ error: 'stale_notification' })
    expect(staleCalls).toBe(0)
    expect(forged.status).toBe(401)
    expect(await forged.json()).toMatchObject({ error: 'unauthenticated' })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ error: 'bad_request' })
    // Nothing was recorded by any of it: same version, same history
    const after = await get(created.id as string)
    expect(after).toMatchObject({ status: 'ACTIVE', version: active.version })
    expect(after.events.edges).toHaveLength(active.events.edges.length)
  })
})

describe.each(CASES.filter((c) => c.carries.id).map((c) => [c.provider, c] as const))(
  '%s notification retries',
  (_name, c) => {
    it('process a delivery again when the first try failed: a provider retry is not taken for a replay', async () => {
      // Prepare: an active consent, and the provider failing the read-back once
      const created = (
        await execute(
          stack.client(stack.tenantA),
          `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { ... on CreateConsentPayload { consent { ${FIELDS} } } } }`,
          { input: { provider: c.provider, userId: `retry-${c.provider}`, ...c.input } },
        )
      ).data?.createConsent.consent as Record<string, any>
      await c.approve(created.authorizationUrl as string)
      await eventually(async () => (await get(created.id as string)).status === 'ACTIVE')
      const notification = await c.fresh((await get(created.id as string)).providerConsentId as string)
      await fetchControl(`${c.sandboxUrl()}/__sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ failNext: 10, status: 500 }),
      })
      // Act: the first try cannot read back; the provider retries the same delivery
      const first = await post(notification)
      await fetchControl(`${c.sandboxUrl()}/__sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ failNext: 0 }),
      })
      const before = callsTo(c.provider)
      const retried = await post(notification)
      const retryCalls = callsTo(c.provider) - before
      const replayed = await post(notification)
      // Assess: 503 (retry later), then processed, then a replay of a processed delivery
      expect(first.status).toBe(503)
      expect(retried.status).toBe(200)
      expect(retryCalls).toBeGreaterThan(0)
      expect(replayed.status).toBe(200)
      expect(callsTo(c.provider) - before).toBe(retryCalls)
    })
  },
)
