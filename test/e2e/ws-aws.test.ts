// e2e: graphql-ws on AWS, the connection side, through the BUILT ws-connect / ws-message / ws-disconnect bundles behind
// a stand-in for API Gateway's WebSocket API (test/support/ws-api-gateway.ts: real WebSocket clients in, the routes'
// events to the bundles, the management API over local HTTP), against the same DynamoDB Local, sandboxes and tenants
// as a local stack (which creates consents, mints tokens and takes the bank's webhooks). With the graphql-ws client:
// the current state first, then the subscription stored for the poller; a query and a mutation over the socket. And
// what a hostile or careless client can send: no credential, a forged one, a wrong secret, a disabled client, another
// tenant's consent, a user token on another user's consent or on the feed, a subscribe before connection_init, a
// duplicate id, 21 operations, an oversize or malformed message, another subprotocol, a page of one tenant with
// another's credentials. API Gateway sends no close code of ours: the client sees a bare close, the code is logged.
import { createClient, type Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { decodePublicId } from '../../domain/ids.ts'
import { buildFunction } from '../../scripts/build-functions.ts'
import { createTenantAdmin } from '../../composition/tenant-admin.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { WebSocketRepository } from '../../store/ws-repository.ts'
import {
  basicHeader,
  documentIdOf,
  registerDocuments,
  everyCredential,
  setClientDisabled,
  userToken,
} from '../support/credentials.ts'
import { stream, type Result } from '../support/graphql-ws-stream.ts'
import { decideAtBank, execute, openBankPage, startStack, type Credentials, type Stack } from '../support/stack.ts'
import { functionEnvOf, startWsApiGateway, type WsApiGateway } from '../support/ws-api-gateway.ts'

const WAIT = { timeout: 20_000, interval: 50 }
const CACHE_TTL_MS = 500
const PAGE_ORIGIN = 'https://app.alpha.example'

let stack: Stack
let gateway: WsApiGateway
let repository: WebSocketRepository
const clients: Client[] = []

beforeAll(async () => {
  const [connect, message, disconnect] = await Promise.all(
    (['ws-connect', 'ws-message', 'ws-disconnect'] as const).map((name) =>
      buildFunction(name, `functions/${name}.ts`, 'dist/functions-test-ws'),
    ),
  )
  stack = await startStack({ authCacheTtlMs: CACHE_TTL_MS, subscriptionMaxSeconds: 600 })
  await createTenantAdmin(stack.table.db, stack.table.tableName).setOrigins(
    { tenantId: stack.tenantA.tenantId, origins: [PAGE_ORIGIN] },
    'test-suite',
  )
  gateway = await startWsApiGateway({
    functions: { 'ws-connect': connect!.entry, 'ws-message': message!.entry, 'ws-disconnect': disconnect!.entry },
    env: { ...functionEnvOf(stack.gateway.config), LOG_LEVEL: 'INFO' },
  })
  repository = new WebSocketRepository(stack.table.db, stack.table.tableName)
}, 180_000)

afterAll(async () => {
  for (const client of clients) await client.dispose()
  await gateway?.stop()
  await stack?.close()
})

/** A graphql-ws client through the stand-in, one socket per connection, no retries. */
function wsClient(connectionParams: Record<string, unknown>) {
  const closes: { code: number; reason: string }[] = []
  class TrackedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols)
      this.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }))
    }
  }
  const client = createClient({
    url: gateway.url,
    webSocketImpl: TrackedWebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  })
  clients.push(client)
  return { client, closes }
}

/** A socket of our own speaking the protocol by hand, for what a well-behaved client never sends. */
function rawSocket(options: { origin?: string; protocol?: string | null } = {}) {
  const protocols = options.protocol === null ? [] : [options.protocol ?? 'graphql-transport-ws']
  const ws = new WebSocket(gateway.url, protocols, options.origin ? { origin: options.origin } : {})
  const messages: Record<string, any>[] = []
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as Record<string, any>))
  let localPort = 0
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      localPort = (ws as unknown as { _socket: { localPort: number } })._socket.localPort
      resolve()
    })
    ws.once('error', reject)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  const refused = new Promise<number>((resolve) =>
    ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)),
  )
  const send = (message: unknown) => ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  return { ws, messages, opened, closed, refused, send, connectionId: () => gateway.connectionIdOf(localPort) }
}

type RawSocket = ReturnType<typeof rawSocket>

async function initialised(authorization: string | null, options: Parameters<typeof rawSocket>[0] = {}) {
  const socket = rawSocket(options)
  await socket.opened
  socket.send({ type: 'connection_init', payload: authorization === null ? {} : { authorization } })
  return socket
}

async function acknowledged(authorization: string) {
  const socket = await initialised(authorization)
  await vi.waitFor(() => expect(socket.messages[0]?.type).toBe('connection_ack'), WAIT)
  return socket
}

/** The close the protocol decided (what a local client would get as its code and reason), as the function logged it. */
async function loggedClose(socket: RawSocket): Promise<{ code: number; reason: string }> {
  const connectionId = socket.connectionId()
  expect(connectionId).toBeDefined()
  let line: Record<string, unknown> | undefined
  await vi.waitFor(() => {
    line = gateway
      .logs()
      .find((entry) => entry.message === 'graphql-ws connection closed' && entry.connectionId === connectionId)
    expect(line).toBeDefined()
  }, WAIT)
  return { code: Number(line?.code), reason: String(line?.reason) }
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

/** A consent's id in the table (the API shows `consent_<id>`). */
const internalIdOf = (publicId: string): string => decodePublicId(publicId)?.id ?? ''

/** Nothing a client can send is answered with a server failure or internal text. */
function expectNoInternals(values: unknown) {
  const text = JSON.stringify(values)
  expect(text).not.toMatch(/INTERNAL_SERVER_ERROR|\bat .+\.(ts|js|mjs):\d+|Error: |stack/)
}

/** Errors without the per-request ids, to compare two answers. */
const strip = (value: unknown) =>
  JSON.parse(
    JSON.stringify(value ?? null, (key, inner: unknown) =>
      key === 'requestId' || key === 'errorId' ? undefined : inner,
    ),
  )

describe('graphql-ws through API Gateway, with the graphql-ws client', () => {
  it('sends the current state first, and stores the subscription for the poller with what it watches', async () => {
    // Prepare
    const created = await createConsent(stack.tenantA)
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantA) })

    // Act
    const watch = stream(client, UPDATED, { id: created.id })

    // Assess: the consent as it is now, and a stored subscription the poller finds by the consent
    await vi.waitFor(() => expect(watch.results).toHaveLength(1), WAIT)
    expect(watch.results[0]).toEqual({
      data: { consentUpdated: { id: created.id, status: 'CREATED', version: 1 } },
      extensions: { cost: { requested: expect.any(Number), limit: 5000 } },
    })
    const internalId = internalIdOf(created.id)
    await vi.waitFor(async () => expect(await repository.watchersOfConsent(internalId)).toHaveLength(1), WAIT)
    const [stored] = await repository.watchersOfConsent(internalId)
    expect(stored).toMatchObject({
      tenantId: stack.tenantA.tenantId,
      field: 'consentUpdated',
      consentId: internalId,
      lastVersion: 1,
      query: UPDATED,
      variables: { id: created.id },
      operationName: null,
      principal: { kind: 'API_CLIENT', credential: 'BASIC', clientId: stack.tenantA.clientId },
    })
    expect(JSON.stringify(stored)).not.toContain(stack.tenantA.clientSecret)
    expect(watch.completed()).toBe(false)

    // Act: the client completes it
    watch.stop()

    // Assess: the subscription is gone
    await vi.waitFor(async () => expect(await repository.watchersOfConsent(internalId)).toEqual([]), WAIT)
    expect(gateway.failures).toEqual([])
  }, 60_000)

  it("sends the feed's backlog from the cursor, and stores the cursor of the last event sent", async () => {
    // Prepare: a consent of tenant B whose creation event has settled (the feed serves events 5 s old)
    const created = await createConsent(stack.tenantB)
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantB) })
    const ofConsent = (results: readonly Result[]) =>
      results.filter((result) => result.data?.consentEvents?.event.consent.id === created.id)

    await vi.waitFor(
      async () => {
        const page = await execute(
          stack.client(stack.tenantB),
          `{ consentEvents(first: 100) { edges { node { consent { id } } } } }`,
        )
        expect(JSON.stringify(page.data)).toContain(created.id)
      },
      { timeout: 20_000, interval: 500 },
    )

    // Act
    const feed = stream(client, FEED)
    await vi.waitFor(() => expect(ofConsent(feed.results)).toHaveLength(1), WAIT)

    // Assess
    expect(ofConsent(feed.results)).toEqual([
      {
        data: {
          consentEvents: {
            cursor: expect.any(String),
            event: { sequence: 1, to: 'CREATED', consent: { id: created.id } },
          },
        },
        extensions: { cost: { requested: expect.any(Number), limit: 5000 } },
      },
    ])
    const [stored] = await vi.waitFor(async () => {
      const followers = await repository.watchersOfTenantFeed(stack.tenantB.tenantId)
      expect(followers).toHaveLength(1)
      return followers
    }, WAIT)
    expect(stored).toMatchObject({
      field: 'consentEvents',
      consentId: null,
      cursor: feed.results.at(-1)?.data?.consentEvents.cursor,
    })
    feed.stop()
  }, 60_000)

  it('answers a query (next, complete) and a mutation over the socket, as over HTTP', async () => {
    // Prepare
    const created = await createConsent(stack.tenantA)
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantA) })

    // Act
    const query = stream(client, GET, { id: created.id })
    await query.done
    const mutation = stream(
      client,
      `mutation ($id: ID!) { revokeConsent(id: $id) { __typename ... on RevokeConsentPayload { consent { status } } } }`,
      {
        id: created.id,
      },
    )
    await mutation.done

    // Assess
    const cost = { cost: { requested: expect.any(Number), limit: 5000 } }
    expect(query.results).toEqual([
      { data: { consent: { __typename: 'Consent', id: created.id, status: 'CREATED' } }, extensions: cost },
    ])
    expect(query.completed()).toBe(true)
    expect(mutation.results).toEqual([
      {
        data: { revokeConsent: { __typename: 'RevokeConsentPayload', consent: { status: 'REVOKED' } } },
        extensions: cost,
      },
    ])
    const http = await execute(stack.client(stack.tenantA), GET, { id: created.id })
    expect(http.data?.consent.status).toBe('REVOKED')
  })

  it('resubscribes after a dropped connection and gets the current state first: the approval made meanwhile', async () => {
    // Prepare: a consent watched over a client that reconnects when told to
    const created = await createConsent(stack.tenantA)
    await openBankPage(created.authorizationUrl)
    const sockets: WebSocket[] = []
    class TrackedWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols)
        sockets.push(this)
      }
    }
    let reconnect = () => undefined as void
    const mayReconnect = new Promise<void>((resolve) => (reconnect = resolve))
    const client = createClient({
      url: gateway.url,
      webSocketImpl: TrackedWebSocket,
      connectionParams: { authorization: stack.authorization(stack.tenantA) },
      retryAttempts: 3,
      retryWait: () => mayReconnect,
      shouldRetry: () => true,
      lazy: true,
    })
    clients.push(client)
    const watch = stream(client, UPDATED, { id: created.id })
    await vi.waitFor(() => expect(watch.results).toHaveLength(1), WAIT)
    const firstConnection = await vi.waitFor(() => {
      const [connection] = [...gateway.connections.values()].filter((open) =>
        sockets.some(
          (socket) => (socket as unknown as { _socket?: { localPort: number } })._socket?.localPort === open.remotePort,
        ),
      )
      expect(connection).toBeDefined()
      return connection?.connectionId ?? ''
    }, WAIT)

    // Act: the network drops the socket; the user approves while the app is disconnected; then it reconnects
    sockets[0]?.terminate()
    await decideAtBank(created.authorizationUrl, 'approve')
    await vi.waitFor(async () => {
      const read = await execute(stack.client(stack.tenantA), GET, { id: created.id })
      expect(read.data?.consent.status).toBe('ACTIVE')
    }, WAIT)
    reconnect()

    // Assess: a second socket, whose first answer is the consent as it is now; the dropped one left nothing behind
    await vi.waitFor(() => expect(watch.results).toHaveLength(2), WAIT)
    const statuses = watch.results.map((result) => result.data?.consentUpdated.status)
    expect(statuses[0]).toMatch(/CREATED|AWAITING_AUTHORIZATION/)
    expect(statuses[1]).toBe('ACTIVE')
    expect(sockets).toHaveLength(2)
    expect(watch.errors).toEqual([])
    await vi.waitFor(async () => expect(await repository.getConnection(firstConnection)).toBeNull(), WAIT)
    // The second socket's subscription is stored alongside its first answer, not necessarily before it reaches us.
    await vi.waitFor(
      async () => expect(await repository.watchersOfConsent(internalIdOf(created.id))).toHaveLength(1),
      WAIT,
    )
    watch.stop()
  }, 60_000)

  it('completes a subscription to a consent that is already final after its one answer, storing nothing', async () => {
    // Prepare: a revoked consent
    const created = await createConsent(stack.tenantA)
    await execute(stack.client(stack.tenantA), `mutation ($id: ID!) { revokeConsent(id: $id) { __typename } }`, {
      id: created.id,
    })
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantA) })

    // Act
    const watch = stream(client, UPDATED, { id: created.id })
    await watch.done

    // Assess
    expect(watch.results.map((result) => result.data?.consentUpdated.status)).toEqual(['REVOKED'])
    expect(watch.completed()).toBe(true)
    const internalId = internalIdOf(created.id)
    expect(await repository.watchersOfConsent(internalId)).toEqual([])
  })
})

describe('graphql-ws through API Gateway refuses', () => {
  it('a connection without credentials, with a forged token, a wrong secret, a disabled client: closed, nothing sent', async () => {
    // Prepare: the forged token and the disabled client's credentials every access test uses
    const credentials = await everyCredential(stack, stack.tenantA, 'user-1')

    // Act
    const none = await initialised(null)
    const forged = await initialised(credentials.tamperedSignature)
    const wrongSecret = await initialised(basicHeader({ clientId: stack.tenantA.clientId, clientSecret: 'wrong' }))
    const disabledClient = await initialised(credentials.disabledClientBasic)
    const disabledBearer = await initialised(credentials.disabledClientBearer)

    // Assess: API Gateway closes with no code of ours; the code a local client gets is logged
    for (const socket of [none, forged, wrongSecret, disabledClient, disabledBearer]) {
      expect((await socket.closed).code).toBe(1005)
      expect(socket.messages).toEqual([])
    }
    expect(await loggedClose(none)).toMatchObject({ code: 4401, reason: expect.stringMatching(/^Unauthorized/) })
    for (const socket of [forged, wrongSecret, disabledClient, disabledBearer]) {
      expect(await loggedClose(socket)).toMatchObject({ code: 4403, reason: expect.stringMatching(/^Forbidden/) })
    }
    // Nothing of theirs is left in the table.
    await vi.waitFor(async () => expect(await repository.getConnection(none.connectionId() ?? '')).toBeNull(), WAIT)
  })

  it("another tenant's consent, answered exactly like a missing one (CONSENT_NOT_FOUND)", async () => {
    // Prepare
    const theirs = await createConsent(stack.tenantB)
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantA) })
    const missingId = theirs.id.replace(/.{4}$/, '0000')

    // Act
    const other = stream(client, UPDATED, { id: theirs.id })
    const missing = stream(client, UPDATED, { id: missingId })
    await Promise.all([other.done, missing.done])

    // Assess: the subscription never starts: the protocol's `error` message
    expect(other.results).toEqual([])
    expect(other.errors[0]).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'CONSENT_NOT_FOUND' }) }),
    ])
    expect(JSON.stringify(strip(other.errors)).replace(theirs.id, missingId)).toBe(
      JSON.stringify(strip(missing.errors)),
    )
    // As over HTTP.
    const http = await execute(stack.client(stack.tenantA), GET, { id: theirs.id })
    expect(http.data?.consent).toEqual({ __typename: 'ConsentNotFoundError', code: 'CONSENT_NOT_FOUND' })

    // Act: a cursor of tenant B's feed (once its first event settled), presented by tenant A
    const bravoCursor = await vi.waitFor(
      async () => {
        const page = await execute(
          stack.client(stack.tenantB),
          `{ consentEvents(first: 1) { pageInfo { endCursor } } }`,
        )
        const cursor = page.data?.consentEvents.pageInfo.endCursor as string | null | undefined
        expect(cursor).toBeTruthy()
        return cursor
      },
      { timeout: 20_000, interval: 500 },
    )
    const foreign = stream(client, FEED, { after: bravoCursor })
    await foreign.done

    // Assess
    expect(foreign.results).toEqual([])
    expect(foreign.errors[0]).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'INVALID_CURSOR' }) }),
    ])
  })

  it("an end user's token: registered documents only, its own consents only, not the tenant's feed", async () => {
    // Prepare
    const mine = await createConsent(stack.tenantA, 'user-aws')
    const theirs = await createConsent(stack.tenantA, 'someone-else')
    await registerDocuments(stack, stack.tenantA.tenantId, [UPDATED, FEED])
    const token = await userToken(stack, stack.tenantA, { userId: 'user-aws' })
    const socket = await acknowledged(`Bearer ${token}`)

    // Act
    socket.send({ id: 'raw', type: 'subscribe', payload: { query: UPDATED, variables: { id: mine.id } } })
    socket.send({
      id: 'mine',
      type: 'subscribe',
      payload: { documentId: documentIdOf(UPDATED), variables: { id: mine.id } },
    })
    socket.send({
      id: 'theirs',
      type: 'subscribe',
      payload: { documentId: documentIdOf(UPDATED), variables: { id: theirs.id } },
    })
    socket.send({ id: 'feed', type: 'subscribe', payload: { documentId: documentIdOf(FEED), variables: {} } })

    // Assess
    const of = (id: string) => socket.messages.filter((message) => message.id === id)
    await vi.waitFor(() => {
      for (const id of ['raw', 'mine', 'theirs', 'feed']) expect(of(id).length).toBeGreaterThan(0)
    }, WAIT)
    expect(of('raw')).toEqual([
      expect.objectContaining({
        type: 'error',
        payload: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_ONLY' }) })],
      }),
    ])
    expect(of('mine')[0]).toMatchObject({ type: 'next', payload: { data: { consentUpdated: { id: mine.id } } } })
    expect(of('theirs')).toEqual([
      expect.objectContaining({
        type: 'error',
        payload: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'CONSENT_NOT_FOUND' }) })],
      }),
    ])
    expect(of('feed')).toEqual([
      expect.objectContaining({
        type: 'error',
        payload: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })],
      }),
    ])
    // The stored subscription runs the registered document's text, for the user's principal (no token stored).
    const internalId = internalIdOf(mine.id)
    const [stored] = await vi.waitFor(async () => {
      const watchers = await repository.watchersOfConsent(internalId)
      expect(watchers).toHaveLength(1)
      return watchers
    }, WAIT)
    expect(stored).toMatchObject({ query: UPDATED, principal: { kind: 'END_USER', userId: 'user-aws' } })
    expect(JSON.stringify(stored)).not.toContain(token)
    expect(JSON.stringify(socket.messages)).not.toContain('"http"')
    expectNoInternals(socket.messages)
    socket.ws.close()
  })

  it('a subscribe before connection_init, a second connection_init, a duplicate id: closed', async () => {
    // Prepare
    const consent = await createConsent(stack.tenantA)
    const early = rawSocket()
    await early.opened
    const twice = await acknowledged(stack.authorization(stack.tenantA))
    const duplicate = await acknowledged(stack.authorization(stack.tenantA))

    // Act
    early.send({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } })
    twice.send({ type: 'connection_init', payload: { authorization: stack.authorization(stack.tenantA) } })
    duplicate.send({ id: 'same', type: 'subscribe', payload: { query: UPDATED, variables: { id: consent.id } } })
    await vi.waitFor(() => expect(duplicate.messages.some((message) => message.type === 'next')).toBe(true), WAIT)
    duplicate.send({ id: 'same', type: 'subscribe', payload: { query: UPDATED, variables: { id: consent.id } } })

    // Assess
    for (const socket of [early, twice, duplicate]) expect((await socket.closed).code).toBe(1005)
    expect(early.messages).toEqual([])
    expect(await loggedClose(early)).toEqual({ code: 4401, reason: 'Unauthorized' })
    expect(await loggedClose(twice)).toEqual({ code: 4429, reason: 'Too many initialisation requests' })
    expect(await loggedClose(duplicate)).toEqual({ code: 4409, reason: 'Subscriber for same already exists' })
    // The closed connection's subscription went with it.
    await vi.waitFor(
      async () => expect(await repository.countSubscriptions(duplicate.connectionId() ?? '')).toBe(0),
      WAIT,
    )
  })

  it('the 21st operation of a connection, with an error, even when all 21 arrive at once; the connection goes on', async () => {
    // Prepare
    const consent = await createConsent(stack.tenantA)
    const socket = await acknowledged(stack.authorization(stack.tenantA))

    // Act: 21 subscribes at once (API Gateway runs them in parallel invocations)
    for (let index = 0; index < 21; index++) {
      socket.send({ id: `op-${index}`, type: 'subscribe', payload: { query: UPDATED, variables: { id: consent.id } } })
    }

    // Assess: 20 run, one is refused; the connection still answers
    await vi.waitFor(() => {
      const answered = new Set(socket.messages.filter((message) => message.id).map((message) => message.id))
      expect(answered.size).toBe(21)
    }, WAIT)
    const refused = socket.messages.filter((message) => message.type === 'error')
    expect(refused).toHaveLength(1)
    expect(refused[0]?.payload).toEqual([
      expect.objectContaining({
        message: 'This connection already runs 20 operations, the most one connection may: complete one first.',
        extensions: expect.objectContaining({ code: 'BAD_REQUEST' }),
      }),
    ])
    await vi.waitFor(
      async () => expect(await repository.countSubscriptions(socket.connectionId() ?? '')).toBe(20),
      WAIT,
    )
    socket.send({ type: 'ping' })
    await vi.waitFor(() => expect(socket.messages.at(-1)).toEqual({ type: 'pong' }), WAIT)
    socket.ws.close()
  })

  it('an oversize frame (API Gateway: 1009), garbage and a server message (closed), another subprotocol (400)', async () => {
    // Prepare
    const big = await acknowledged(stack.authorization(stack.tenantA))
    const notJson = await acknowledged(stack.authorization(stack.tenantA))
    const serverMessage = await acknowledged(stack.authorization(stack.tenantA))

    // Act
    big.send({
      id: 'big',
      type: 'subscribe',
      payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(40_000) } },
    })
    notJson.send('{ nope')
    serverMessage.send({ id: '1', type: 'next', payload: { data: {} } })
    const otherProtocol = rawSocket({ protocol: 'graphql-ws' })
    const noProtocol = rawSocket({ protocol: null })

    // Assess
    expect((await big.closed).code).toBe(1009)
    for (const socket of [notJson, serverMessage]) {
      expect((await socket.closed).code).toBe(1005)
      expect(await loggedClose(socket)).toEqual({ code: 4400, reason: 'Invalid message received' })
    }
    expect(await otherProtocol.refused).toBe(400)
    expect(await noProtocol.refused).toBe(400)
  })

  it("a page of one tenant with another's credentials (closed), and with its own (acknowledged)", async () => {
    // Act
    const bravoOnAlphaPage = await initialised(stack.authorization(stack.tenantB), { origin: PAGE_ORIGIN })
    const alphaOnItsPage = await initialised(stack.authorization(stack.tenantA), { origin: PAGE_ORIGIN })
    const stranger = await initialised(stack.authorization(stack.tenantA), { origin: 'https://evil.example' })

    // Assess
    expect((await bravoOnAlphaPage.closed).code).toBe(1005)
    expect(await loggedClose(bravoOnAlphaPage)).toMatchObject({
      code: 4403,
      reason: expect.stringMatching(/^Forbidden/),
    })
    expect((await stranger.closed).code).toBe(1005)
    await vi.waitFor(() => expect(alphaOnItsPage.messages[0]?.type).toBe('connection_ack'), WAIT)
    alphaOnItsPage.ws.close()
  })

  it("a subscribe once the connection's client was disabled: closed when its trust runs out", async () => {
    // Prepare: a client of the test's own, acknowledged
    const partner = {
      tenantId: stack.tenantA.tenantId,
      clientId: 'client-ws-lapse',
      clientSecret: 'secret-ws-lapse-0123456789',
    }
    await provisionApiClient(stack.gateway.access, { ...partner, tenantName: 'Alpha' }, new Date())
    const consent = await createConsent(partner)
    const socket = await acknowledged(basicHeader(partner))

    // Act: the operator disables the client; the app subscribes after the credential's trust ran out
    await setClientDisabled(stack, partner.clientId, true)
    await vi.waitFor(async () => {
      const connection = await repository.getConnection(socket.connectionId() ?? '')
      expect(connection?.trustedUntil).toBeLessThan(Date.now())
    }, WAIT)
    socket.send({ id: '1', type: 'subscribe', payload: { query: UPDATED, variables: { id: consent.id } } })

    // Assess
    expect((await socket.closed).code).toBe(1005)
    expect(socket.messages.filter((message) => message.type !== 'connection_ack')).toEqual([])
    expect(await loggedClose(socket)).toMatchObject({ code: 4403, reason: expect.stringMatching(/no longer valid/) })
  })

  it('leaves no failed invocation behind: nothing a client sent was a 5xx', () => {
    expect(gateway.failures).toEqual([])
    expectNoInternals(gateway.logs().filter((line) => line.level === 'ERROR'))
  })
})
