// e2e: GraphQL over WebSocket (graphql-ws) on the gateway's own port and path, with the graphql-ws client (over `ws`)
// and raw sockets: a consent watched to ACTIVE as the user approves at the bank; a dropped connection resumed with
// nothing lost (consentUpdated resends the current state; consentEvents resumes from its cursor); queries and mutations;
// and everything a hostile or careless client can send: no credential, a forged one, another tenant's consent, an end
// user's token outside its scope or with a raw query, a token that expires or a client disabled while connected, a
// message too large, too many operations, a page on an origin nobody registered, garbage. Never a 5xx, never a stack.
import { createClient, type Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { createTenantAdmin } from '../../composition/tenant-admin.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import {
  basicHeader,
  documentIdOf,
  registerDocuments,
  setClientDisabled,
  signedToken,
  tamperedSignature,
  userClaims,
  userToken,
} from '../support/credentials.ts'
import { stream, type Result } from '../support/graphql-ws-stream.ts'
import { decideAtBank, execute, openBankPage, startStack, type Credentials, type Stack } from '../support/stack.ts'

const WAIT = { timeout: 15_000, interval: 50 }
const CACHE_TTL_MS = 300
const MAX_OPERATIONS = 4
const PAGE_ORIGIN = 'https://app.alpha.example'

let stack: Stack
const clients: Client[] = []

beforeAll(async () => {
  stack = await startStack({
    authCacheTtlMs: CACHE_TTL_MS,
    subscriptionMaxSeconds: 120,
    tokens: { revocationCacheMs: CACHE_TTL_MS, clockToleranceSeconds: 0 },
    webSocket: { maxOperationsPerConnection: MAX_OPERATIONS, maxMessageBytes: 16_384 },
    webOrigins: { ttlMs: 0 },
  })
  await createTenantAdmin(stack.table.db, stack.table.tableName).setOrigins(
    { tenantId: stack.tenantA.tenantId, origins: [PAGE_ORIGIN] },
    'test-suite',
  )
})

afterAll(async () => {
  for (const client of clients) await client.dispose()
  await stack?.close()
})

/** A graphql-ws client over `ws`, its sockets kept so a test can cut them as a network would. */
function wsClient(
  connectionParams: Record<string, unknown> | (() => Record<string, unknown>),
  options: { retryAttempts?: number; origin?: string } = {},
) {
  const sockets: WebSocket[] = []
  const closes: { code: number; reason: string }[] = []
  class TrackedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, options.origin ? { origin: options.origin } : {})
      sockets.push(this)
      this.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }))
    }
  }
  const client = createClient({
    url: stack.wsUrl,
    webSocketImpl: TrackedWebSocket,
    connectionParams,
    retryAttempts: options.retryAttempts ?? 0,
    // The client's pause before reconnecting (its default backs off for seconds), not a wait of the test's.
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
    // Reconnect when the network drops the socket, as an app does (graphql-ws' default retries only on close codes).
    shouldRetry: () => true,
    lazy: true,
  })
  clients.push(client)
  return { client, sockets, closes }
}

/** A socket of our own speaking the protocol by hand, for what a well-behaved client never sends. */
function rawSocket(options: { origin?: string; protocol?: string | null } = {}) {
  const protocols = options.protocol === null ? [] : [options.protocol ?? 'graphql-transport-ws']
  const ws = new WebSocket(stack.wsUrl, protocols, {
    ...(options.origin ? { origin: options.origin } : {}),
  })
  const messages: Record<string, any>[] = []
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as Record<string, any>))
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  const refused = new Promise<number>((resolve) =>
    ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)),
  )
  const send = (message: unknown) => ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  return { ws, messages, opened, closed, refused, send }
}

async function initialised(authorization: string | null, options: Parameters<typeof rawSocket>[0] = {}) {
  const socket = rawSocket(options)
  await socket.opened
  socket.send({ type: 'connection_init', payload: authorization === null ? {} : { authorization } })
  return socket
}

const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { id status authorizationUrl } } ... on Error { code message } }
}`
const UPDATED = `subscription Watch($id: ID!) { consentUpdated(id: $id) { id status version } }`
const FEED = `subscription Feed($after: String) { consentEvents(after: $after) { cursor event { sequence to consent { id } } } }`
const GET = `query Get($id: ID!) { consent(id: $id) { __typename ... on Consent { id status } ... on Error { code } } }`

async function createConsent(credentials: Credentials, userId = 'user-1') {
  const result = await execute(stack.client(credentials), CREATE, {
    input: { provider: 'FINQWARE', institutionId: 'bt_ro', userId, region: 'EEA' },
  })
  expect(result.data?.createConsent.__typename, JSON.stringify(result)).toBe('CreateConsentPayload')
  return result.data?.createConsent.consent as { id: string; authorizationUrl: string }
}

const statuses = (results: readonly Result[]) =>
  results.map((result) => (result.data?.consentUpdated as { status?: string } | undefined)?.status)

/** Nothing a client can send is answered with a server failure or internal text. */
function expectNoInternals(values: unknown) {
  const text = JSON.stringify(values)
  expect(text).not.toMatch(/INTERNAL_SERVER_ERROR|\bat .+\.(ts|js):\d+|Error: |stack/)
}

describe('graphql-ws with the graphql-ws client', () => {
  it("receives the consent going ACTIVE after the bank page approves, and a query's and a mutation's answers", async () => {
    // Prepare
    const created = await createConsent(stack.tenantA)
    await openBankPage(created.authorizationUrl)
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantA) })

    // Act: watch; approve once the current state arrived
    const watch = stream(client, UPDATED, { id: created.id })
    await vi.waitFor(() => expect(watch.results.length).toBeGreaterThan(0), WAIT)
    await decideAtBank(created.authorizationUrl, 'approve')

    // Assess
    await vi.waitFor(() => expect(statuses(watch.results)).toContain('ACTIVE'), WAIT)
    expect(statuses(watch.results)[0]).toMatch(/CREATED|AWAITING_AUTHORIZATION/)
    expect(watch.results.every((result) => !result.errors)).toBe(true)
    // Queries and mutations run over the same connection.
    const query = stream(client, GET, { id: created.id })
    await query.done
    expect(query.results).toEqual([
      {
        data: { consent: { __typename: 'Consent', id: created.id, status: 'ACTIVE' } },
        extensions: { cost: { requested: 17, limit: 5000 } },
      },
    ])
    const mutation = stream(client, `mutation ($id: ID!) { revokeConsent(id: $id) { __typename } }`, {
      id: created.id,
    })
    await mutation.done
    expect(mutation.results[0]?.data).toEqual({ revokeConsent: { __typename: 'RevokeConsentPayload' } })
    await watch.done
    expect(statuses(watch.results).at(-1)).toBe('REVOKED')
    expect(watch.completed()).toBe(true)
  }, 60_000)

  it('resubscribes after a dropped connection and gets the current state first: the approval made meanwhile', async () => {
    // Prepare: a consent watched over a client that reconnects
    const created = await createConsent(stack.tenantA)
    const { client, sockets } = wsClient({ authorization: stack.authorization(stack.tenantA) }, { retryAttempts: 5 })
    const watch = stream(client, UPDATED, { id: created.id })
    await vi.waitFor(() => expect(watch.results.length).toBeGreaterThan(0), WAIT)
    const before = watch.results.length

    // Act: the network drops the socket; the user approves while the app is disconnected
    sockets[0]?.terminate()
    await decideAtBank(created.authorizationUrl, 'approve')

    // Assess: a second socket, and the resubscription's first answer is the consent as it is now
    await vi.waitFor(() => expect(statuses(watch.results)).toContain('ACTIVE'), WAIT)
    expect(sockets.length).toBeGreaterThanOrEqual(2)
    expect(watch.results.length).toBeGreaterThan(before)
    expect(watch.errors).toEqual([])
    watch.stop()
  }, 60_000)

  it('resumes the consentEvents feed from its last cursor after a dropped connection: no gap, no repeat', async () => {
    // Prepare: the feed of tenant B up to the consent's first event
    const created = await createConsent(stack.tenantB)
    const first = wsClient({ authorization: stack.authorization(stack.tenantB) })
    const seen: { cursor: string; sequence: number; to: string }[] = []
    const ofConsent = (results: readonly Result[]) =>
      results.flatMap((result) => {
        const item = result.data?.consentEvents as
          { cursor: string; event: { sequence: number; to: string; consent: { id: string } } } | undefined
        return item
          ? [{ cursor: item.cursor, sequence: item.event.sequence, to: item.event.to, id: item.event.consent.id }]
          : []
      })
    const feed = stream(first.client, FEED)
    await vi.waitFor(() => expect(ofConsent(feed.results).some((item) => item.id === created.id)).toBe(true), WAIT)
    const lastCursor = ofConsent(feed.results).at(-1)?.cursor as string
    seen.push(...ofConsent(feed.results).filter((item) => item.id === created.id))

    // Act: the connection drops; the user opens the bank page and approves meanwhile; the app resumes from its cursor
    first.sockets[0]?.terminate()
    await feed.done
    await openBankPage(created.authorizationUrl)
    await decideAtBank(created.authorizationUrl, 'approve')
    const second = wsClient({ authorization: stack.authorization(stack.tenantB) })
    const resumed = stream(second.client, FEED, { after: lastCursor })
    await vi.waitFor(
      () =>
        expect(ofConsent(resumed.results).some((item) => item.id === created.id && item.to === 'ACTIVE')).toBe(true),
      { timeout: 30_000, interval: 100 },
    )
    resumed.stop()

    // Assess: the consent's events, across both connections, are 1..n once each
    const all = [...seen, ...ofConsent(resumed.results).filter((item) => item.id === created.id)]
    expect(all.map((item) => item.sequence)).toEqual(all.map((_, index) => index + 1))
    expect(new Set(ofConsent([...feed.results, ...resumed.results]).map((item) => item.cursor)).size).toBe(
      ofConsent([...feed.results, ...resumed.results]).length,
    )
    expect(all.at(-1)?.to).toBe('ACTIVE')
  }, 90_000)

  it("carries each answer's cost in extensions.cost, as over HTTP: a query's, a mutation's, every result of a subscription", async () => {
    // Prepare: what HTTP (and SSE, for the subscription) answers for the same documents
    const created = await createConsent(stack.tenantA)
    const overHttp = await createConsent(stack.tenantA)
    const REVOKE = `mutation ($id: ID!) { revokeConsent(id: $id) { __typename } }`
    const httpCost = async (query: string, variables: Record<string, unknown>) =>
      ((await execute(stack.client(stack.tenantA), query, variables)) as { extensions?: { cost?: unknown } }).extensions
        ?.cost
    const sseCost = await new Promise<unknown>((resolve, reject) => {
      const sse = stack.sse(stack.tenantA)
      sse.subscribe(
        { query: UPDATED, variables: { id: overHttp.id } },
        {
          next: (value) => {
            sse.dispose()
            resolve((value.extensions as { cost?: unknown } | undefined)?.cost)
          },
          error: reject,
          complete: () => undefined,
        },
      )
    })
    const costs = {
      query: await httpCost(GET, { id: overHttp.id }),
      mutation: await httpCost(REVOKE, { id: overHttp.id }),
      subscription: sseCost,
    }
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantA) })

    // Act: watch the consent, query it, then revoke it (the stream's last result, then its end)
    const watch = stream(client, UPDATED, { id: created.id })
    await vi.waitFor(() => expect(watch.results.length).toBeGreaterThan(0), WAIT)
    const query = stream(client, GET, { id: created.id })
    await query.done
    const mutation = stream(client, REVOKE, { id: created.id })
    await mutation.done
    await watch.done

    // Assess
    for (const cost of Object.values(costs)) {
      expect(cost).toEqual({ requested: expect.any(Number) as unknown, limit: 5000 })
    }
    expect(query.results.map((result) => result.extensions)).toEqual([{ cost: costs.query }])
    expect(mutation.results.map((result) => result.extensions)).toEqual([{ cost: costs.mutation }])
    expect(watch.results.length).toBeGreaterThanOrEqual(2)
    expect(statuses(watch.results).at(-1)).toBe('REVOKED')
    expect(watch.results.map((result) => result.extensions)).toEqual(
      watch.results.map(() => ({ cost: costs.subscription })),
    )
  }, 60_000)

  it('takes the credential as Authorization and as headers.Authorization too (Apollo Kotlin, urql)', async () => {
    for (const params of [
      { Authorization: stack.authorization(stack.tenantA) },
      { headers: { Authorization: stack.authorization(stack.tenantA) } },
    ]) {
      const { client } = wsClient(params)
      const query = stream(client, '{ __typename }')
      await query.done
      expect(query.results).toEqual([
        { data: { __typename: 'Query' }, extensions: { cost: { requested: 1, limit: 5000 } } },
      ])
    }
  })
})

describe('graphql-ws refuses', () => {
  it('a connection without credentials (4401) and with a forged or wrong one (4403)', async () => {
    const token = await userToken(stack, stack.tenantA, { userId: 'user-1' })
    const none = await initialised(null)
    const forged = await initialised(`Bearer ${tamperedSignature(token)}`)
    const wrongSecret = await initialised(basicHeader({ clientId: stack.tenantA.clientId, clientSecret: 'wrong' }))
    const garbage = await initialised('Bearer not a token')

    expect(await none.closed).toMatchObject({ code: 4401, reason: expect.stringMatching(/^Unauthorized/) })
    for (const socket of [forged, wrongSecret, garbage]) {
      expect(await socket.closed).toMatchObject({ code: 4403, reason: expect.stringMatching(/^Forbidden/) })
      expect(socket.messages).toEqual([])
    }
    expectNoInternals([none.messages, forged.messages])
  })

  it("another tenant's consent, answered exactly like a missing one", async () => {
    const theirs = await createConsent(stack.tenantB)
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantA) })
    const missingId = theirs.id.replace(/.{4}$/, '0000')
    const other = stream(client, UPDATED, { id: theirs.id })
    const missing = stream(client, UPDATED, { id: missingId })
    await Promise.all([other.done, missing.done])

    // The subscription never starts: the protocol's `error` message, with the errors.
    const strip = (errors: unknown) =>
      JSON.parse(
        JSON.stringify(errors ?? null, (key, value: unknown) =>
          key === 'requestId' || key === 'errorId' ? undefined : value,
        ),
      )
    expect(other.results).toEqual([])
    expect(other.errors[0]).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'CONSENT_NOT_FOUND' }) }),
    ])
    expect(JSON.stringify(strip(other.errors)).replace(theirs.id, missingId)).toBe(
      JSON.stringify(strip(missing.errors)),
    )
  })

  it("an end user's token: registered documents only (by documentId or APQ hash), its own consents only", async () => {
    // Prepare
    const mine = await createConsent(stack.tenantA, 'user-ws')
    const theirs = await createConsent(stack.tenantA, 'someone-else')
    await registerDocuments(stack, stack.tenantA.tenantId, [UPDATED])
    const token = await userToken(stack, stack.tenantA, { userId: 'user-ws' })
    const socket = await initialised(`Bearer ${token}`)
    await vi.waitFor(() => expect(socket.messages[0]?.type).toBe('connection_ack'), WAIT)

    // Act: the raw query, an unknown document; then the registered one by documentId (no query at all) and by APQ
    // hash, and for another user's consent
    socket.send({ id: 'raw', type: 'subscribe', payload: { query: UPDATED, variables: { id: mine.id } } })
    socket.send({
      id: 'unknown',
      type: 'subscribe',
      payload: { documentId: 'sha256:0000', variables: { id: mine.id } },
    })
    await vi.waitFor(() => expect(socket.messages.filter((message) => message.type === 'error')).toHaveLength(2), WAIT)
    socket.send({
      id: 'byId',
      type: 'subscribe',
      payload: { documentId: documentIdOf(UPDATED), variables: { id: mine.id } },
    })
    const hash = documentIdOf(UPDATED).replace(/^sha256:/, '')
    socket.send({
      id: 'apq',
      type: 'subscribe',
      payload: {
        query: '',
        variables: { id: mine.id },
        extensions: { persistedQuery: { version: 1, sha256Hash: `sha256:${hash}` } },
      },
    })
    socket.send({
      id: 'theirs',
      type: 'subscribe',
      payload: { documentId: documentIdOf(UPDATED), variables: { id: theirs.id } },
    })

    // Assess
    const of = (id: string) => socket.messages.filter((message) => message.id === id)
    await vi.waitFor(() => {
      expect(of('raw')).toHaveLength(1)
      expect(of('byId').length).toBeGreaterThan(0)
      expect(of('apq').length).toBeGreaterThan(0)
      expect(of('theirs').length).toBeGreaterThan(0)
      expect(of('unknown')).toHaveLength(1)
    }, WAIT)
    expect(of('raw')[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'PERSISTED_QUERY_ONLY' } }] })
    expect(of('unknown')[0]).toMatchObject({
      type: 'error',
      payload: [{ extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }],
    })
    expect(of('byId')[0]).toMatchObject({ type: 'next', payload: { data: { consentUpdated: { id: mine.id } } } })
    expect(of('apq')[0]).toMatchObject({ type: 'next', payload: { data: { consentUpdated: { id: mine.id } } } })
    expect(of('theirs')[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'CONSENT_NOT_FOUND' } }] })
    // The server's own extensions (the HTTP status an error asks for) stay on the server.
    expect(JSON.stringify(socket.messages)).not.toContain('"http"')
    expectNoInternals(socket.messages)
    socket.ws.close()
  })

  it("closes the socket when an end user's token expires, and when the partner's client is disabled", async () => {
    // Prepare: a client of the test's own, a consent, an end user's token that lives 2 s
    const partner = {
      tenantId: stack.tenantA.tenantId,
      clientId: 'client-ws-lapse',
      clientSecret: 'secret-ws-lapse-0123456789',
    }
    await provisionApiClient(stack.gateway.access, { ...partner, tenantName: 'Alpha' }, new Date())
    const consent = await createConsent(partner, 'user-expiring')
    await registerDocuments(stack, stack.tenantA.tenantId, [UPDATED])
    const token = await userToken(stack, partner, { userId: 'user-expiring', expiresInSeconds: 2 })
    const user = await initialised(`Bearer ${token}`)
    const basic = await initialised(basicHeader(partner))
    await vi.waitFor(
      () => expect([user.messages[0]?.type, basic.messages[0]?.type]).toEqual(['connection_ack', 'connection_ack']),
      WAIT,
    )
    user.send({
      id: '1',
      type: 'subscribe',
      payload: { documentId: documentIdOf(UPDATED), variables: { id: consent.id } },
    })
    basic.send({ id: '1', type: 'subscribe', payload: { query: UPDATED, variables: { id: consent.id } } })
    await vi.waitFor(() => expect(basic.messages.some((message) => message.type === 'next')).toBe(true), WAIT)

    // Act / Assess: the token runs out by itself
    const userClosed = await user.closed
    expect(userClosed).toMatchObject({ code: 4403, reason: expect.stringMatching(/^Forbidden: .*no longer valid/) })

    // Act / Assess: the operator disables the client
    await setClientDisabled(stack, partner.clientId, true)
    expect(await basic.closed).toMatchObject({ code: 4403, reason: expect.stringMatching(/no longer valid/) })
    expectNoInternals([user.messages, basic.messages])
  }, 60_000)

  it('an expired token at connection_init, 4403 with the reason', async () => {
    const now = Math.floor(Date.now() / 1000)
    const expired = await signedToken(stack, {
      ...userClaims(stack, stack.tenantA, 'user-1'),
      iat: now - 3_600,
      exp: now - 600,
    })
    const socket = await initialised(`Bearer ${expired}`)
    expect(await socket.closed).toMatchObject({ code: 4403, reason: expect.stringMatching(/^Forbidden: /) })
  })

  it('a message over the size limit (1009), and more operations than a connection may run (an error, the rest go on)', async () => {
    // Prepare
    const socket = await initialised(stack.authorization(stack.tenantA))
    await vi.waitFor(() => expect(socket.messages[0]?.type).toBe('connection_ack'), WAIT)
    const consent = await createConsent(stack.tenantA)

    // Act: one operation more than allowed
    for (let index = 0; index <= MAX_OPERATIONS; index++) {
      socket.send({ id: String(index), type: 'subscribe', payload: { query: UPDATED, variables: { id: consent.id } } })
    }

    // Assess
    await vi.waitFor(
      () =>
        expect(socket.messages.filter((message) => message.type !== 'connection_ack').length).toBeGreaterThan(
          MAX_OPERATIONS,
        ),
      WAIT,
    )
    const refused = socket.messages.filter((message) => message.type === 'error')
    expect(refused).toEqual([
      {
        id: String(MAX_OPERATIONS),
        type: 'error',
        payload: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_REQUEST' }) })],
      },
    ])
    expect(
      new Set(socket.messages.filter((message) => message.type === 'next').map((message) => message.id)).size,
    ).toBe(MAX_OPERATIONS)

    // Act: a message larger than the limit
    socket.send({
      id: 'big',
      type: 'subscribe',
      payload: { query: `{ __typename }`, variables: { pad: 'x'.repeat(20_000) } },
    })

    // Assess
    expect((await socket.closed).code).toBe(1009)
  })

  it('garbage: not JSON, a server message, a subscribe before connection_init, no connection_init at all', async () => {
    const notJson = rawSocket()
    await notJson.opened
    notJson.send('{ nope')
    const serverMessage = await initialised(stack.authorization(stack.tenantA))
    await vi.waitFor(() => expect(serverMessage.messages[0]?.type).toBe('connection_ack'), WAIT)
    serverMessage.send({ id: '1', type: 'next', payload: { data: {} } })
    const early = rawSocket()
    await early.opened
    early.send({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } })
    const silent = rawSocket()
    await silent.opened
    // Without graphql-ws's subprotocol (an old subscriptions-transport-ws client asks for `graphql-ws` instead).
    const noProtocol = rawSocket({ protocol: null })
    await noProtocol.opened

    expect((await notJson.closed).code).toBe(4400)
    expect((await serverMessage.closed).code).toBe(4400)
    expect((await early.closed).code).toBe(4401)
    expect((await silent.closed).code).toBe(4408)
    expect((await noProtocol.closed).code).toBe(4406)
  })

  it("a page on an origin nobody registered, at the handshake (403); a page of one tenant with another's credentials (4403)", async () => {
    const stranger = rawSocket({ origin: 'https://evil.example' })
    expect(await stranger.refused).toBe(403)

    const bravoOnAlphaPage = await initialised(stack.authorization(stack.tenantB), { origin: PAGE_ORIGIN })
    expect(await bravoOnAlphaPage.closed).toMatchObject({ code: 4403, reason: expect.stringMatching(/^Forbidden/) })

    const alphaOnItsPage = await initialised(stack.authorization(stack.tenantA), { origin: PAGE_ORIGIN })
    await vi.waitFor(() => expect(alphaOnItsPage.messages[0]?.type).toBe('connection_ack'), WAIT)
    alphaOnItsPage.ws.close()
  })

  it('an upgrade on another path (404)', async () => {
    const ws = new WebSocket(stack.wsUrl.replace('/graphql', '/healthz'), 'graphql-transport-ws')
    ws.on('error', () => undefined)
    const status = await new Promise<number>((resolve) =>
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)),
    )
    expect(status).toBe(404)
  })
})
