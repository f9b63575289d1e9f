// e2e with raw sockets (node:net) against the gateway's node:http server: a request whose headers or body stall is
// cut, an idle keep-alive connection is closed, an SSE subscription open longer than all of these keeps streaming,
// and one source address cannot hold more than its share of connections, WebSockets (graphql-ws) included. A client
// that goes away mid-request is no failure of the gateway's.
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { serveGateway, startGatewayHttpServer, type GatewayHttpServer } from '../../local/http-server.ts'
import { createGraphQLServer, graphQLServicesOf } from '../../schema/server.ts'
import type { Logger } from '../../runtime/logging.ts'
import { decideAtBank, eventually, execute, startStack, type Stack } from '../support/stack.ts'

/** Short limits, so the test sees them act; the defaults are in local/http-server.ts. */
const LIMITS = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 400 }

let stack: Stack

/** What the gateway logged, by level. */
const logged: { level: 'info' | 'error'; message: string }[] = []
const recordingLogger: Logger = {
  debug() {},
  info: (message) => void logged.push({ level: 'info', message }),
  warn() {},
  error: (message) => void logged.push({ level: 'error', message }),
}

beforeAll(async () => {
  stack = await startStack({ http: LIMITS, logger: recordingLogger })
})
afterAll(async () => {
  await stack?.close()
})

interface RawConnection {
  readonly socket: Socket
  /** Everything the server sent so far. */
  received(): string
  /** Whether the server has closed the connection. */
  closed(): boolean
}

function open(url: string, localAddress = '127.0.0.1'): Promise<RawConnection> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    let text = ''
    let ended = false
    const socket = connect({ host: hostname, port: Number(port), localAddress }, () =>
      resolve({ socket, received: () => text, closed: () => ended }),
    )
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('close', () => (ended = true))
    socket.on('error', () => (ended = true))
    socket.once('error', reject)
  })
}

const hostOf = (url: string) => new URL(url).host

describe('timeouts', () => {
  it('cuts a request whose body never finishes, with 408', async () => {
    const connection = await open(stack.graphqlUrl)
    connection.socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${hostOf(stack.graphqlUrl)}\r\n` +
        `Authorization: ${stack.authorization(stack.tenantA)}\r\nContent-Type: application/json\r\n` +
        `Content-Length: 1000\r\n\r\n{"query": "{ provi`,
    )

    await vi.waitFor(() => expect(connection.closed()).toBe(true), { timeout: 15_000, interval: 50 })
    expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('takes a client that goes away mid-body for gone, not for a failure', async () => {
    const connection = await open(stack.graphqlUrl)
    connection.socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${hostOf(stack.graphqlUrl)}\r\n` +
        `Authorization: ${stack.authorization(stack.tenantA)}\r\nContent-Type: application/json\r\n` +
        `X-Request-Id: goes-away\r\nContent-Length: 1000\r\n\r\n{"query": "{ provi`,
    )
    const before = logged.length

    connection.socket.destroy()

    await vi.waitFor(
      () => expect(logged.slice(before)).toContainEqual({ level: 'info', message: 'client went away' }),
      {
        timeout: 10_000,
      },
    )
    expect(logged.slice(before).filter((line) => line.level === 'error')).toEqual([])
  })

  it('cuts a connection whose headers never finish', async () => {
    const connection = await open(stack.graphqlUrl)
    connection.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostOf(stack.graphqlUrl)}\r\nX-Slow: `)

    await vi.waitFor(() => expect(connection.closed()).toBe(true), { timeout: 15_000, interval: 50 })
  })

  it('closes a keep-alive connection left idle after its answer', async () => {
    const connection = await open(stack.graphqlUrl)
    connection.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostOf(stack.graphqlUrl)}\r\n\r\n`)
    await vi.waitFor(() => expect(connection.received()).toMatch(/^HTTP\/1\.1 200 /), { timeout: 5_000 })

    await vi.waitFor(() => expect(connection.closed()).toBe(true), { timeout: 15_000, interval: 50 })
  })

  it('keeps an SSE subscription streaming after every timeout has passed', async () => {
    // Prepare: an ACTIVE consent and a subscription to it over a raw socket
    const client = stack.client(stack.tenantA)
    const created = (
      await execute(
        client,
        `mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "sse-user", region: EEA}) {
          ... on CreateConsentPayload { consent { id authorizationUrl } } } }`,
      )
    ).data?.createConsent.consent as { id: string; authorizationUrl: string }
    await decideAtBank(created.authorizationUrl, 'approve')
    await eventually(async () => {
      const read = await execute(client, `{ consent(id: "${created.id}") { ... on Consent { status } } }`)
      return read.data?.consent.status === 'ACTIVE'
    })
    const body = JSON.stringify({ query: `subscription { consentUpdated(id: "${created.id}") { status } }` })
    const subscription = await open(stack.graphqlUrl)
    subscription.socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${hostOf(stack.graphqlUrl)}\r\n` +
        `Authorization: ${stack.authorization(stack.tenantA)}\r\nAccept: text/event-stream\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
    await vi.waitFor(() => expect(subscription.received()).toContain('"status":"ACTIVE"'), { timeout: 10_000 })

    // Act: outlast the timeouts: a stalled body opened after the subscription is cut...
    const stalled = await open(stack.graphqlUrl)
    stalled.socket.write(`POST /graphql HTTP/1.1\r\nHost: ${hostOf(stack.graphqlUrl)}\r\nContent-Length: 10\r\n\r\n{`)
    await vi.waitFor(() => expect(stalled.closed()).toBe(true), { timeout: 15_000, interval: 50 })
    // ...then the consent changes
    await execute(client, `mutation { revokeConsent(id: "${created.id}") { __typename } }`)

    // Assess: the subscription is still open and delivers the change
    await vi.waitFor(() => expect(subscription.received()).toContain('"status":"REVOKED"'), { timeout: 10_000 })
    expect(subscription.received()).not.toMatch(/ 408 /)
    subscription.socket.destroy()
  })
})

describe('connections per source address', () => {
  let capped: GatewayHttpServer

  beforeAll(async () => {
    const yoga = createGraphQLServer({
      services: graphQLServicesOf(stack.gateway),
      authenticator: stack.gateway.authenticator,
      logger: stack.gateway.logger,
    })
    // Long timeouts here: the connections below stay open, idle, for as long as the test needs them.
    capped = await startGatewayHttpServer(stack.gateway, yoga, {
      maxConnectionsPerAddress: 3,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
    })
  })
  afterAll(async () => {
    await capped?.close()
  })

  const health = async (connection: RawConnection) => {
    connection.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostOf(capped.url)}\r\n\r\n`)
    await vi.waitFor(() => expect(connection.received()).toMatch(/^HTTP\/1\.1 \d{3} /), { timeout: 5_000 })
    return connection.received()
  }

  it('answers one connection over the cap with 429 and closes it, and takes new ones once others close', async () => {
    // Prepare: the cap's worth of connections from one address, open and idle
    const held = await Promise.all([open(capped.url), open(capped.url), open(capped.url)])

    // Act
    const over = await open(capped.url)

    // Assess: refused, while another address is not affected
    await vi.waitFor(() => expect(over.closed()).toBe(true), { timeout: 5_000 })
    expect(over.received()).toMatch(/^HTTP\/1\.1 429 /)
    const otherAddress = await open(capped.url, '127.0.0.2')
    expect(await health(otherAddress)).toMatch(/^HTTP\/1\.1 200 /)
    otherAddress.socket.destroy()
    // The held connections still work
    expect(await health(held[0])).toMatch(/^HTTP\/1\.1 200 /)

    // Act: one closes
    held[1].socket.destroy()

    // Assess: a new connection is taken again
    await vi.waitFor(
      async () => {
        const again = await open(capped.url)
        const answer = await health(again)
        again.socket.destroy()
        expect(answer).toMatch(/^HTTP\/1\.1 200 /)
      },
      { timeout: 5_000, interval: 50 },
    )
    for (const connection of held) connection.socket.destroy()
  })
})

describe('WebSocket connections per source address', () => {
  let capped: GatewayHttpServer

  beforeAll(async () => {
    capped = await serveGateway(stack.gateway, { maxConnectionsPerAddress: 2 })
  })
  afterAll(async () => {
    await capped?.close()
  })

  /** A graphql-ws connection, initialised; resolves with the socket once acknowledged, or the refusal's status. */
  const connectWs = () =>
    new Promise<WebSocket | number>((resolve, reject) => {
      const ws = new WebSocket(`${capped.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws')
      ws.once('open', () =>
        ws.send(
          JSON.stringify({ type: 'connection_init', payload: { authorization: stack.authorization(stack.tenantA) } }),
        ),
      )
      ws.once('message', () => resolve(ws))
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
      ws.once('error', reject)
    })

  it('counts upgraded connections against the same cap as HTTP ones: one over it is refused 429 before the handshake', async () => {
    // Prepare: the cap's worth of WebSockets
    const held = [await connectWs(), await connectWs()]
    expect(held.every((ws) => ws instanceof WebSocket)).toBe(true)

    // Act / Assess: one more is refused, as an HTTP connection would be
    expect(await connectWs()).toBe(429)

    // Act / Assess: once one closes, a new one is taken
    ;(held[0] as WebSocket).close()
    await vi.waitFor(
      async () => {
        const again = await connectWs()
        expect(again).toBeInstanceOf(WebSocket)
        ;(again as WebSocket).close()
      },
      { timeout: 5_000, interval: 50 },
    )
    ;(held[1] as WebSocket).close()
  })
})
