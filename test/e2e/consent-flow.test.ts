// e2e: a partner creates a Finqware consent through the GraphQL API, the user decides on the sandbox's bank page,
// the partner sees the result by query and by subscription, and revokes. Everything over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodePublicId } from '../../domain/ids.ts'
import { sandboxControl } from '../support/provider-drivers.ts'
import {
  decideAtBank,
  eventually,
  execute,
  follow,
  openBankPage,
  queryOf,
  startStack,
  type Credentials,
  type Stack,
} from '../support/stack.ts'
import { fetchControl } from '../support/provider-drivers.ts'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack?.close()
})

const CONSENT_FIELDS = `
  id status statusReason providerStatus authorizationUrl nextAction canAccessData version
  linkExpiresAt validUntil institution { id name country region } scope region userId`

const CREATE = `mutation Create($input: CreateConsentInput!) {
  createConsent(input: $input) {
    __typename
    ... on CreateConsentPayload { replayed consent { ${CONSENT_FIELDS} } }
    ... on Error { code message retryable }
    ... on ValidationError { issues { path message } }
  }
}`

const GET = `query Get($id: ID!) {
  consent(id: $id) {
    __typename
    ... on Consent { ${CONSENT_FIELDS} events { edges { node { sequence from to providerStatus source initiator } } } }
    ... on Error { code message }
  }
}`

const REVOKE = `mutation Revoke($id: ID!) {
  revokeConsent(id: $id) {
    __typename
    ... on RevokeConsentPayload { consent { ${CONSENT_FIELDS} } }
    ... on Error { code message }
    ... on ConsentNotActiveError { status }
  }
}`

const REFRESH = `mutation Refresh($id: ID!) {
  refreshConsent(id: $id) { __typename ... on RefreshConsentPayload { consent { ${CONSENT_FIELDS} } } ... on Error { code message } }
}`

const baseInput = (overrides: Record<string, unknown> = {}) => ({
  provider: 'FINQWARE',
  institutionId: 'bt_ro',
  userId: 'user-42',
  region: 'EEA',
  validityDays: 90,
  redirectUrl: 'https://partner.example/consents/done',
  ...overrides,
})

async function createConsent(credentials: Credentials, overrides: Record<string, unknown> = {}) {
  const result = await execute(stack.client(credentials), CREATE, { input: baseInput(overrides) })
  expect(result.errors).toBeUndefined()
  expect(result.data?.createConsent.__typename, JSON.stringify(result.data)).toBe('CreateConsentPayload')
  return result.data?.createConsent.consent as Record<string, any>
}

async function getConsent(credentials: Credentials, id: string) {
  return (await execute(stack.client(credentials), GET, { id })).data?.consent as Record<string, any>
}

const statusOf = async (credentials: Credentials, id: string) => (await getConsent(credentials, id)).status as string

describe('the Finqware consent flow', () => {
  it('creates, is approved at the bank, turns ACTIVE, and is revoked', async () => {
    // Act: create
    const created = await createConsent(stack.tenantA)
    // Assess: a consent waiting for the user, with a link to the bank
    expect(created).toMatchObject({
      status: 'CREATED',
      providerStatus: 'created',
      nextAction: 'REDIRECT_USER',
      canAccessData: false,
      version: 1,
      institution: { id: 'bt_ro', name: 'Banca Transilvania', country: 'RO', region: 'EEA' },
      scope: ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'],
    })
    expect(created.id).toMatch(/^consent_[0-9A-Z]{26}$/)
    expect(created.authorizationUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/link\//)

    // Act: the user approves on the bank page
    const redirect = await decideAtBank(created.authorizationUrl, 'approve')
    // Assess: the browser goes back towards the partner, through the gateway (followed in its own test below)
    expect(redirect.status).toBe(303)
    expect(redirect.location).toMatch(new RegExp(`^${stack.http.url}/callbacks/finqware/`))

    // Assess: webhooks bring the consent to ACTIVE, with its validity and history
    await eventually(async () => (await statusOf(stack.tenantA, created.id)) === 'ACTIVE')
    const active = await getConsent(stack.tenantA, created.id)
    expect(active).toMatchObject({ status: 'ACTIVE', canAccessData: true, nextAction: 'NONE', authorizationUrl: null })
    const validUntil = Date.parse(active.validUntil)
    expect(validUntil - Date.now()).toBeGreaterThan(89 * 86_400_000)
    expect(validUntil - Date.now()).toBeLessThanOrEqual(90 * 86_400_000)
    const events = active.events.edges.map((edge: any) => edge.node)
    expect(events[0]).toMatchObject({
      sequence: 1,
      from: null,
      to: 'CREATED',
      source: 'API',
      initiator: 'api-client:client-alpha',
    })
    expect(events.at(-1)).toMatchObject({
      to: 'ACTIVE',
      providerStatus: 'active',
      source: 'PROVIDER_WEBHOOK',
      initiator: 'provider:finqware',
    })

    // Act: revoke
    const revoked = await execute(stack.client(stack.tenantA), REVOKE, { id: created.id })
    // Assess
    expect(revoked.data?.revokeConsent).toMatchObject({
      __typename: 'RevokeConsentPayload',
      consent: { status: 'REVOKED', statusReason: 'REVOKED_BY_TPP', canAccessData: false, nextAction: 'CREATE_NEW' },
    })
    // Revoking again changes nothing and is not an error.
    const again = await execute(stack.client(stack.tenantA), REVOKE, { id: created.id })
    expect(again.data?.revokeConsent.consent.version).toBe(revoked.data?.revokeConsent.consent.version)
  })

  it('streams AWAITING_AUTHORIZATION, then ACTIVE, then REVOKED over SSE, and completes', async () => {
    // Prepare
    const created = await createConsent(stack.tenantA)
    await openBankPage(created.authorizationUrl)
    await eventually(async () => (await statusOf(stack.tenantA, created.id)) === 'AWAITING_AUTHORIZATION')
    const seen: string[] = []
    const client = stack.sse(stack.tenantA)

    // Act: subscribe, approve when the subscription shows the user at the bank, revoke when ACTIVE
    const completed = new Promise<void>((resolve, reject) => {
      client.subscribe(
        {
          query: `subscription ($id: ID!) { consentUpdated(id: $id) { status version } }`,
          variables: { id: created.id },
        },
        {
          next: (result) => {
            const status = (result.data as any)?.consentUpdated?.status as string | undefined
            if (!status) return reject(new Error(JSON.stringify(result)))
            if (seen.at(-1) !== status) seen.push(status)
            if (status === 'AWAITING_AUTHORIZATION' && seen.length === 1)
              void decideAtBank(created.authorizationUrl, 'approve')
            if (status === 'ACTIVE') void execute(stack.client(stack.tenantA), REVOKE, { id: created.id })
          },
          error: reject,
          complete: resolve,
        },
      )
    })
    await completed
    client.dispose()

    // Assess
    expect(seen[0]).toBe('AWAITING_AUTHORIZATION')
    expect(seen.indexOf('ACTIVE')).toBeGreaterThan(0)
    expect(seen.at(-1)).toBe('REVOKED')
    await eventually(async () => stack.gateway.watcher.activeStreams === 0)
  })

  it('records a denial at the bank as FAILED, USER_DENIED, and tells the partner page so', async () => {
    // Prepare
    const created = await createConsent(stack.tenantA)

    // Act: the user denies; the bank sends the browser to the gateway, which sends it on to the partner
    const redirect = await decideAtBank(created.authorizationUrl, 'deny')
    expect(redirect.status).toBe(303)
    expect(redirect.location).toMatch(new RegExp(`^${stack.http.url}/callbacks/finqware/`))
    const back = await follow(redirect.location)

    // Assess
    expect(back.status).toBe(302)
    expect(queryOf(back.location)).toEqual({ consent_id: created.id, status: 'FAILED', status_reason: 'USER_DENIED' })
    await eventually(async () => (await statusOf(stack.tenantA, created.id)) === 'FAILED')
    // Finqware's own webhook (`failed`, no reason) arrives too; the reason the browser brought stays.
    await sandboxControl(stack.finqware.url, 'webhooks/flush', {})
    expect(await getConsent(stack.tenantA, created.id)).toMatchObject({
      status: 'FAILED',
      statusReason: 'USER_DENIED',
      nextAction: 'CREATE_NEW',
      authorizationUrl: null,
    })
    // A failed consent cannot be revoked; nothing is called or changed.
    const revoke = await execute(stack.client(stack.tenantA), REVOKE, { id: created.id })
    expect(revoke.data?.revokeConsent).toMatchObject({
      __typename: 'ConsentNotActiveError',
      code: 'CONSENT_NOT_ACTIVE',
      status: 'FAILED',
    })
  })

  it('shows LINK_EXPIRED once the sandbox clock passes the link deadline', async () => {
    // Prepare: a 2-day link the user never uses
    const created = await createConsent(stack.tenantA, { linkExpiresInDays: 2 })
    expect(Date.parse(created.linkExpiresAt) - Date.now()).toBeGreaterThan(47 * 3_600_000)
    // Act: three days pass at the provider
    const clock = await fetchControl(`${stack.finqware.url}/__sandbox/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: 3 * 86_400 }),
    })
    expect(clock.status).toBe(200)
    // Assess: the provider's webhook made it LINK_EXPIRED, and the link is gone
    await eventually(async () => (await statusOf(stack.tenantA, created.id)) === 'LINK_EXPIRED')
    expect(await getConsent(stack.tenantA, created.id)).toMatchObject({
      statusReason: 'LINK_TIMEOUT',
      providerStatus: 'expired',
      authorizationUrl: null,
      nextAction: 'CREATE_NEW',
    })
    await fetchControl(`${stack.finqware.url}/__sandbox/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ set: new Date().toISOString() }),
    })
  })

  it('keeps the history free of duplicates when webhooks arrive twice', async () => {
    const created = await createConsent(stack.tenantA)
    await fetchControl(`${stack.finqware.url}/__sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duplicate: 10 }),
    })
    await decideAtBank(created.authorizationUrl, 'approve')
    await eventually(async () => (await statusOf(stack.tenantA, created.id)) === 'ACTIVE')
    await fetchControl(`${stack.finqware.url}/__sandbox/webhooks/flush`, { method: 'POST' })
    const events = (await getConsent(stack.tenantA, created.id)).events.edges.map((edge: any) => edge.node)
    const transitions = events.map((event: any) => `${event.from}->${event.to}:${event.providerStatus}`)
    expect(new Set(transitions).size).toBe(transitions.length)
    expect(events.map((event: any) => event.sequence)).toEqual(events.map((_: unknown, index: number) => index + 1))
  })

  it('catches up through refreshConsent when webhooks are lost', async () => {
    /** How many `active` webhooks the sandbox has dropped so far (its delivery log keeps the body it did not send). */
    const droppedActivations = async () => {
      const log = (await (await fetchControl(`${stack.finqware.url}/__sandbox/webhooks`)).json()) as {
        deliveries: Array<{ state: string; body: string }>
      }
      return log.deliveries.filter(
        (delivery) => delivery.state === 'dropped' && JSON.parse(delivery.body).status === 'active',
      ).length
    }
    const created = await createConsent(stack.tenantA)
    const droppedBefore = await droppedActivations()
    await fetchControl(`${stack.finqware.url}/__sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ drop: 100 }),
    })
    await decideAtBank(created.authorizationUrl, 'approve')
    // The consent is active at Finqware and the webhook saying so is lost: only a refresh can tell the gateway now.
    await eventually(async () => (await droppedActivations()) > droppedBefore)
    expect(await statusOf(stack.tenantA, created.id)).toBe('CREATED')
    const refreshed = await execute(stack.client(stack.tenantA), REFRESH, { id: created.id })
    expect(refreshed.data?.refreshConsent).toMatchObject({
      __typename: 'RefreshConsentPayload',
      consent: { status: 'ACTIVE' },
    })
    const events = (await getConsent(stack.tenantA, created.id)).events.edges.map((edge: any) => edge.node)
    expect(events.at(-1)).toMatchObject({ to: 'ACTIVE', source: 'PROVIDER_POLL', initiator: 'api-client:client-alpha' })
    await fetchControl(`${stack.finqware.url}/__sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ drop: 0 }),
    })
  })
})

describe("the browser's way back from Finqware", () => {
  it('goes through the gateway to the partner page, with our consent id and the unified status', async () => {
    // Prepare: Finqware's webhooks held back, so what the gateway records is what the browser's return read
    const created = await createConsent(stack.tenantA)
    await sandboxControl(stack.finqware.url, 'webhooks', { drop: 100 })
    try {
      // Act
      const atBank = await decideAtBank(created.authorizationUrl, 'approve')

      // Assess: the bank sent the browser to the gateway's signed link, the gateway on to the partner
      expect(atBank.status).toBe(303)
      expect(atBank.location).toMatch(new RegExp(`^${stack.http.url}/callbacks/finqware/`))
      const back = await follow(atBank.location)
      expect(back.status).toBe(302)
      expect(back.headers.get('referrer-policy')).toBe('no-referrer')
      const location = new URL(back.location ?? '')
      expect(location.origin + location.pathname).toBe('https://partner.example/consents/done')
      // Only our id and status: Finqware's own parameters (its uuid, its raw status) are not passed on.
      const query = queryOf(back.location)
      expect(Object.keys(query).sort()).toEqual(['consent_id', 'status'])
      expect(query.consent_id).toBe(created.id)
      expect(['AUTHORIZED', 'ACTIVE']).toContain(query.status)
      const consent = await getConsent(stack.tenantA, created.id)
      expect(consent.status).toBe(query.status)
      expect(consent.events.edges.at(-1)?.node).toMatchObject({
        to: query.status,
        source: 'PROVIDER_REDIRECT',
        initiator: 'provider:finqware',
      })
    } finally {
      await sandboxControl(stack.finqware.url, 'webhooks', { drop: 0 })
    }
  })

  it('answers a forged, altered or re-aimed callback link with 404 and changes nothing', async () => {
    // Prepare: a real link of tenant A, and a consent of tenant B
    const mine = await createConsent(stack.tenantA)
    const theirs = await createConsent(stack.tenantB)
    const atBank = await decideAtBank(mine.authorizationUrl, 'approve')
    await eventually(async () => (await statusOf(stack.tenantA, mine.id)) === 'ACTIVE')
    const before = {
      mine: await getConsent(stack.tenantA, mine.id),
      theirs: await getConsent(stack.tenantB, theirs.id),
    }
    const link = new URL(atBank.location ?? '')
    const [body = '', signature = ''] = (link.pathname.split('/').at(-1) ?? '').split('.')
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
    // B's consent named in the link, under A's signature
    const reAimed = Buffer.from(`${stack.tenantB.tenantId}.${decodePublicId(theirs.id)?.id ?? ''}`).toString(
      'base64url',
    )
    const attempts = [
      `${stack.http.url}/callbacks/finqware/Zm9yZ2Vk.AAAAAAAAAAAAAAAAAAAAAA`,
      `${stack.http.url}/callbacks/finqware/${body}.${flipped}${link.search}`,
      `${stack.http.url}/callbacks/finqware/${reAimed}.${signature}${link.search}`,
      // A's own link under another provider's prefix
      `${stack.http.url}/callbacks/yapily/${body}.${signature}${link.search}`,
    ]

    for (const attempt of attempts) {
      // Act
      const answer = await follow(attempt)

      // Assess
      expect(answer, attempt).toMatchObject({ status: 404, location: null })
    }
    expect(await getConsent(stack.tenantA, mine.id)).toMatchObject({ version: before.mine.version })
    expect(await getConsent(stack.tenantB, theirs.id)).toMatchObject({ version: before.theirs.version })
  })

  it('still sends the browser on, with what the gateway knows, when Finqware cannot be read just then', async () => {
    // Prepare: no webhook gets through, and every read of the callback fails, retries included
    const created = await createConsent(stack.tenantA)
    await sandboxControl(stack.finqware.url, 'webhooks', { drop: 100 })
    try {
      const atBank = await decideAtBank(created.authorizationUrl, 'approve')
      await sandboxControl(stack.finqware.url, 'faults', { failNext: 3, status: 503 })

      // Act
      const back = await follow(atBank.location)

      // Assess: the partner page is told our id and the status as recorded; a later read brings the rest
      expect(back.status).toBe(302)
      expect(queryOf(back.location)).toEqual({ consent_id: created.id, status: 'CREATED' })
    } finally {
      await sandboxControl(stack.finqware.url, 'faults', { failNext: 0 })
      await sandboxControl(stack.finqware.url, 'webhooks', { drop: 0 })
    }
    await eventually(async () => {
      const refreshed = await execute(stack.client(stack.tenantA), REFRESH, { id: created.id })
      return refreshed.data?.refreshConsent.consent.status === 'ACTIVE'
    })
  })
})

describe('idempotent creation', () => {
  it('returns the same consent for the same key and input, and calls the provider once', async () => {
    const sandboxConsents = async () =>
      ((await (await fetchControl(`${stack.finqware.url}/__sandbox/consents`)).json()) as { consents: unknown[] })
        .consents.length
    const before = await sandboxConsents()
    const input = baseInput({ idempotencyKey: 'order-1001' })
    const first = await execute(stack.client(stack.tenantA), CREATE, { input })
    const second = await execute(stack.client(stack.tenantA), CREATE, { input })
    expect(first.data?.createConsent.replayed).toBe(false)
    expect(second.data?.createConsent).toMatchObject({
      replayed: true,
      consent: { id: first.data?.createConsent.consent.id },
    })
    expect((await sandboxConsents()) - before).toBe(1)
  })

  it('refuses the same key with different input, and keys are per tenant', async () => {
    await execute(stack.client(stack.tenantA), CREATE, { input: baseInput({ idempotencyKey: 'order-2002' }) })
    const reused = await execute(stack.client(stack.tenantA), CREATE, {
      input: baseInput({ idempotencyKey: 'order-2002', userId: 'someone-else' }),
    })
    expect(reused.data?.createConsent).toMatchObject({
      __typename: 'IdempotencyKeyReusedError',
      code: 'IDEMPOTENCY_KEY_REUSED',
    })
    const otherTenant = await execute(stack.client(stack.tenantB), CREATE, {
      input: baseInput({ idempotencyKey: 'order-2002', userId: 'someone-else' }),
    })
    expect(otherTenant.data?.createConsent).toMatchObject({ __typename: 'CreateConsentPayload', replayed: false })
  })

  it('lets a retry through after the provider failed, and stores nothing for the failure', async () => {
    const itemsBefore = (await stack.table.scanAll()).length
    await fetchControl(`${stack.finqware.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failNext: 1, status: 503 }),
    })
    const input = baseInput({ idempotencyKey: 'order-3003' })
    const failed = await execute(stack.client(stack.tenantA), CREATE, { input })
    expect(failed.data?.createConsent).toMatchObject({
      __typename: 'ProviderUnavailableError',
      code: 'PROVIDER_UNAVAILABLE',
      retryable: true,
    })
    expect((await stack.table.scanAll()).length).toBe(itemsBefore)
    const retried = await execute(stack.client(stack.tenantA), CREATE, { input })
    expect(retried.data?.createConsent).toMatchObject({ __typename: 'CreateConsentPayload', replayed: false })
  })
})

describe('listing', () => {
  it('pages a tenant consents newest first, filtered, with cursors bound to the filter', async () => {
    const mine = [] as string[]
    for (let i = 0; i < 5; i++) mine.push((await createConsent(stack.tenantB, { userId: 'list-user' })).id)
    const LIST = `query ($first: Int, $after: String, $filter: ConsentFilter) {
      consents(first: $first, after: $after, filter: $filter) { edges { cursor node { id userId } } pageInfo { hasNextPage endCursor } }
    }`
    const client = stack.client(stack.tenantB)
    const page1 = await execute(client, LIST, { first: 3, filter: { userId: 'list-user' } })
    const page2 = await execute(client, LIST, {
      first: 3,
      after: page1.data?.consents.pageInfo.endCursor,
      filter: { userId: 'list-user' },
    })
    const ids = [...(page1.data?.consents.edges ?? []), ...(page2.data?.consents.edges ?? [])].map(
      (edge: any) => edge.node.id,
    )
    expect(ids).toEqual([...mine].reverse())
    expect(page1.data?.consents.pageInfo.hasNextPage).toBe(true)
    expect(page2.data?.consents.pageInfo.hasNextPage).toBe(false)

    const otherFilter = await execute(client, LIST, {
      first: 3,
      after: page1.data?.consents.pageInfo.endCursor,
      filter: { status: ['ACTIVE'] },
    })
    expect(otherFilter.data).toBeNull()
    expect(otherFilter.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_CURSOR' })

    const asOtherTenant = await execute(stack.client(stack.tenantA), LIST, {
      first: 10,
      filter: { userId: 'list-user' },
    })
    expect(asOtherTenant.data?.consents.edges).toEqual([])
  })

  it('resolves consents as Relay nodes', async () => {
    const created = await createConsent(stack.tenantA)
    const result = await execute(
      stack.client(stack.tenantA),
      `query ($id: ID!) { node(id: $id) { __typename id ... on Consent { status } } }`,
      {
        id: created.id,
      },
    )
    expect(result.data?.node).toEqual({ __typename: 'Consent', id: created.id, status: 'CREATED' })
  })

  it('lists the configured providers with their capabilities and institutions', async () => {
    const result = await execute(
      stack.client(stack.tenantA),
      `{ providers { provider name capabilities { reauthorize reconfirm delete webhooks regions maxValidityDays scopes { scopes } } institutions { id name country region } } }`,
    )
    expect(result.data?.providers).toEqual([
      {
        provider: 'FINQWARE',
        name: 'Finqware',
        capabilities: {
          reauthorize: false,
          reconfirm: false,
          delete: false,
          webhooks: true,
          regions: ['EEA'],
          maxValidityDays: 180,
          scopes: [{ scopes: ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'] }, { scopes: ['ACCOUNTS', 'BALANCES'] }],
        },
        institutions: expect.arrayContaining([
          { id: 'bt_ro', name: 'Banca Transilvania', country: 'RO', region: 'EEA' },
        ]),
      },
      {
        provider: 'WORLDLINE',
        name: 'Worldline',
        capabilities: {
          reauthorize: false,
          reconfirm: false,
          delete: false,
          webhooks: true,
          regions: ['EEA'],
          maxValidityDays: 180,
          scopes: [
            { scopes: ['ACCOUNTS'] },
            { scopes: ['ACCOUNTS', 'BALANCES'] },
            { scopes: ['ACCOUNTS', 'TRANSACTIONS'] },
            { scopes: ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'] },
          ],
        },
        institutions: expect.arrayContaining([expect.objectContaining({ id: '20101', region: 'EEA' })]),
      },
      {
        provider: 'YAPILY',
        name: 'Yapily',
        capabilities: {
          reauthorize: true,
          reconfirm: true,
          delete: true,
          webhooks: true,
          regions: ['UK', 'EEA'],
          maxValidityDays: 180,
          scopes: [
            { scopes: ['ACCOUNTS'] },
            { scopes: ['ACCOUNTS', 'BALANCES'] },
            { scopes: ['ACCOUNTS', 'TRANSACTIONS'] },
            { scopes: ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'] },
          ],
        },
        institutions: expect.arrayContaining([
          expect.objectContaining({ id: 'modelo-sandbox', country: 'GB', region: 'UK' }),
          expect.objectContaining({ id: 'santander-es-sandbox', region: 'EEA' }),
        ]),
      },
    ])
  })
})
