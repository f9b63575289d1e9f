// e2e, clock-driven: an ACTIVE consent is warned 7 days and 1 day before its validity ends, then expires; each step
// reaches the partner as a signed webhook (verified with the standardwebhooks library) and is in the consent's
// events, the tenant's feed and its webhook deliveries. The gateway's clock is moved; the jobs run as their timers
// (or, on AWS, their schedules) would run them.
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decideAtBank, eventually, execute, startStack, type Stack } from '../support/stack.ts'
import { RecordingReceiver } from '../support/webhook-receiver.ts'

const DAY = 86_400_000
let offsetMs = 0
let stack: Stack
let receiver: RecordingReceiver

beforeAll(async () => {
  stack = await startStack({ clock: () => new Date(Date.now() + offsetMs) })
  receiver = await RecordingReceiver.start()
})
afterAll(async () => {
  await stack?.close()
  await receiver?.close()
})

const gql = async (query: string, variables: Record<string, unknown> = {}) => {
  const result = await execute(stack.client(stack.tenantA), query, variables)
  expect(result.errors).toBeUndefined()
  return result.data as Record<string, any>
}

const CONSENT = `query ($id: ID!) { consent(id: $id) { ... on Consent {
  status statusReason providerConsentId validUntil canAccessData nextAction nextDeadline { kind at target }
  events { edges { node { sequence kind from to source initiator deadline } } }
  webhookDeliveries { sequence type state attempts waitingForSequence lastAttempt { httpStatus } }
} } }`

/** Moves the gateway's clock to `at` and runs the jobs once: sweep, then delivery. */
async function runJobsAt(at: number) {
  offsetMs = at - Date.now()
  const swept = await stack.gateway.jobs.sweepDeadlines()
  const delivered = await stack.gateway.jobs.deliverDue()
  return { swept, delivered }
}

describe('a consent over time', () => {
  it('is warned at 7 days and 1 day, then expires; each step signed, delivered and in its history', async () => {
    // Prepare: an ACTIVE consent valid for 30 days, reporting to the partner's endpoint
    const created = (
      await gql(
        `mutation ($input: CreateConsentInput!) { createConsent(input: $input) {
          ... on CreateConsentPayload { consent { id authorizationUrl } } } }`,
        {
          input: {
            provider: 'FINQWARE',
            institutionId: 'bt_ro',
            userId: 'user-clock',
            region: 'EEA',
            validityDays: 30,
            webhookUrl: receiver.url,
          },
        },
      )
    ).createConsent.consent as { id: string; authorizationUrl: string }
    await decideAtBank(created.authorizationUrl, 'approve')
    await eventually(async () => (await gql(CONSENT, { id: created.id })).consent.status === 'ACTIVE')
    await stack.gateway.jobs.deliverDue()
    const { secret } = (await gql('{ webhookSettings { signingSecrets { secret } } }')).webhookSettings
      .signingSecrets[0] as { secret: string }
    const verifier = new Webhook(secret)
    const active = (await gql(CONSENT, { id: created.id })).consent
    const validUntil = Date.parse(active.validUntil as string)
    expect(active.nextDeadline).toMatchObject({
      kind: 'EXPIRY_WARNING',
      at: new Date(validUntil - 7 * DAY).toISOString(),
    })
    const seen = () => receiver.received.filter((webhook) => webhook.body.consent_id === created.id)
    const before = seen().length
    expect(seen().map((webhook) => webhook.body.status)).toContain('ACTIVE')

    // Act + Assess: nothing is due the day before the first warning
    expect((await runJobsAt(validUntil - 8 * DAY)).swept.changed).toBe(0)
    // 7 days before
    expect(await runJobsAt(validUntil - 7 * DAY + 60_000)).toMatchObject({
      swept: { changed: 1 },
      delivered: { delivered: 1 },
    })
    // 1 day before
    expect(await runJobsAt(validUntil - DAY + 60_000)).toMatchObject({
      swept: { changed: 1 },
      delivered: { delivered: 1 },
    })
    // the end of validity
    expect(await runJobsAt(validUntil + 60_000)).toMatchObject({ swept: { changed: 1 }, delivered: { delivered: 1 } })
    // and nothing more after
    expect((await runJobsAt(validUntil + 2 * DAY)).swept.changed).toBe(0)

    const steps = seen().slice(before)
    expect(steps.map((webhook) => [webhook.body.type, webhook.body.status, webhook.body.deadline_at])).toEqual([
      ['consent_expiry_warning', 'ACTIVE', active.validUntil],
      ['consent_expiry_warning', 'ACTIVE', active.validUntil],
      ['consent_status_update', 'EXPIRED', active.validUntil],
    ])
    for (const webhook of steps) {
      expect(verifier.verify(webhook.text, webhook.headers as Record<string, string>)).toEqual(webhook.body)
    }
    const ended = (await gql(CONSENT, { id: created.id })).consent
    expect(ended).toMatchObject({
      status: 'EXPIRED',
      statusReason: 'VALIDITY_ENDED',
      canAccessData: false,
      nextDeadline: null,
    })
    // Late news from the provider, whose own clock says the consent is still active, does not revive it
    const late = JSON.stringify({
      type: 'consent_status_update',
      consent_id: ended.providerConsentId,
      status: 'active',
    })
    const answer = await fetch(`${stack.http.url}/webhooks/finqware`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await stack.finqware.keys.sign(late)) },
      body: late,
    })
    expect(answer.status).toBe(200)
    expect((await gql(CONSENT, { id: created.id })).consent).toMatchObject({ status: 'EXPIRED' })
    expect((await gql(CONSENT, { id: created.id })).consent.events.edges).toHaveLength(ended.events.edges.length)
    const history = ended.events.edges.map((edge: any) => edge.node)
    expect(history.slice(-3)).toEqual([
      expect.objectContaining({
        kind: 'EXPIRY_WARNING',
        from: 'ACTIVE',
        to: 'ACTIVE',
        source: 'SCHEDULER',
        deadline: active.validUntil,
      }),
      expect.objectContaining({
        kind: 'EXPIRY_WARNING',
        from: 'ACTIVE',
        to: 'ACTIVE',
        source: 'SCHEDULER',
        deadline: active.validUntil,
      }),
      expect.objectContaining({
        kind: 'CHANGE',
        from: 'ACTIVE',
        to: 'EXPIRED',
        source: 'SCHEDULER',
        initiator: 'scheduler',
      }),
    ])
    expect(ended.webhookDeliveries.map((delivery: any) => [delivery.state, delivery.waitingForSequence])).toEqual(
      Array(history.length).fill(['DELIVERED', null]),
    )
    expect(steps.map((webhook) => webhook.body.sequence)).toEqual(history.slice(-3).map((event: any) => event.sequence))

    // The tenant's feed has the same events, in order, page by page (once they are past its settling window)
    const FEED = `query ($after: String) { consentEvents(first: 2, after: $after) {
      edges { node { sequence kind to consent { id } } } pageInfo { hasNextPage endCursor } } }`
    await eventually(async () => {
      const feed: any[] = []
      let after: string | null = null
      for (let page = 0; page < 20; page++) {
        const { consentEvents } = await gql(FEED, { after })
        feed.push(...consentEvents.edges.map((edge: any) => edge.node))
        after = consentEvents.pageInfo.endCursor
        if (!consentEvents.pageInfo.hasNextPage) break
      }
      const mine = feed.filter((event) => event.consent.id === created.id)
      return mine.length === history.length && mine.every((event, i) => event.sequence === history[i].sequence)
    }, 15_000)

    // ...and live, over SSE: the subscription streams the same events with their cursors
    const client = stack.sse(stack.tenantA)
    const live: { sequence: number; kind: string; cursor: string }[] = []
    await new Promise<void>((resolve, reject) => {
      const unsubscribe = client.subscribe(
        {
          query: `subscription { consentEvents { cursor event { sequence kind consent { id } } } }`,
        },
        {
          next: (result) => {
            const item = (result.data as any)?.consentEvents
            if (!item) return reject(new Error(JSON.stringify(result)))
            if (item.event.consent.id === created.id) {
              live.push({ sequence: item.event.sequence, kind: item.event.kind, cursor: item.cursor })
            }
            if (live.length === history.length) {
              unsubscribe()
              resolve()
            }
          },
          error: reject,
          complete: resolve,
        },
      )
    })
    client.dispose()
    expect(live.map((item) => item.sequence)).toEqual(history.map((event: any) => event.sequence))
    expect(live.slice(-3).map((item) => item.kind)).toEqual(['EXPIRY_WARNING', 'EXPIRY_WARNING', 'CHANGE'])
  }, 60_000)

  it("reaches a consentUpdated watcher when the link's deadline passes, with no write: LINK_EXPIRED, then complete", async () => {
    // Prepare: a consent waiting for its user, watched over SSE
    offsetMs = 0
    const created = (
      await gql(
        `mutation ($input: CreateConsentInput!) { createConsent(input: $input) {
          ... on CreateConsentPayload { consent { id linkExpiresAt } } } }`,
        { input: { provider: 'FINQWARE', institutionId: 'bt_ro', userId: 'user-link-clock', region: 'EEA' } },
      )
    ).createConsent.consent as { id: string; linkExpiresAt: string }
    const seen: { status: string; version: number }[] = []
    const client = stack.sse(stack.tenantA)

    // Act: once the watcher has the current state, the gateway's clock passes the link's deadline (no job runs)
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        {
          query: `subscription ($id: ID!) { consentUpdated(id: $id) { status version } }`,
          variables: { id: created.id },
        },
        {
          next: (result) => {
            const item = (result.data as any)?.consentUpdated as { status: string; version: number } | undefined
            if (!item) return reject(new Error(JSON.stringify(result)))
            seen.push(item)
            if (seen.length === 1) offsetMs = Date.parse(created.linkExpiresAt) + 60_000 - Date.now()
          },
          error: reject,
          complete: resolve,
        },
      )
    })
    client.dispose()

    // Assess: the same stored version, shown as it is at the new time, and the stream ended (a final status)
    expect(seen).toEqual([
      { status: 'CREATED', version: 1 },
      { status: 'LINK_EXPIRED', version: 1 },
    ])
    await eventually(async () => stack.gateway.watcher.activeStreams === 0)
  })
})
