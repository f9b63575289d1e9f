// e2e, every provider: its notifications are verified by its own scheme, a duplicate changes nothing, and an older
// notification arriving after a newer state never moves the consent back (the gateway reads the provider's current
// state on every notification, and the transition guard refuses a regression).
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decideAtBank, eventually, execute, startStack, type Stack } from '../support/stack.ts'
import { fetchControl } from '../support/provider-drivers.ts'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
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
    forged: (n) => ({ ...n, body: n.body.replace('awaiting_authz', 'revoked') }),
  },
  {
    provider: 'WORLDLINE',
    input: { institutionId: '20101', region: 'EEA' },
    sandboxUrl: () => stack.worldline.url,
    approve: async (url) => void (await decideAtBank(url, 'approve')),
    stale: async (id) => ({
      path: '/webhooks/worldline/v3/notification/status',
      headers: { authorization: `Bearer ${stack.gateway.config.providers.worldline?.notificationToken ?? ''}` },
      body: JSON.stringify({ ConsentId: id, ConsentStatus: 'Pending' }),
    }),
    forged: (n) => ({ ...n, headers: { authorization: 'Bearer not-the-token' } }),
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
      const secret = stack.gateway.config.providers.yapily?.webhookSecret ?? ''
      const signature = createHmac('sha256', secret).update(body).digest('hex')
      return { path: '/webhooks/yapily', headers: { 'x-yapily-signature': `sha256=${signature}` }, body }
    },
    forged: (n) => ({ ...n, body: n.body.replace('AWAITING_AUTHORIZATION', 'REVOKED') }),
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
