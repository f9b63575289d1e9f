// connected: one webhook attempt over real HTTP to a receiver on 127.0.0.1 (and a raw TCP listener where TLS is the
// point): delivery, the loopback refusals, DNS pinning, failures, and that nothing throws. DNS is the real resolver,
// wrapped so a test can make it answer what a hostile partner's DNS would.
import type { LookupAddress } from 'node:dns'
import type * as DnsPromises from 'node:dns/promises'
import { lookup } from 'node:dns/promises'
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type RequestListener,
  type Server,
} from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateWebhookSecret, signWebhook } from '../../crypto/webhook-signing.ts'
import { postWebhook, WEBHOOK_USER_AGENT } from '../../outbound/webhook-post.ts'

vi.mock('node:dns/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof DnsPromises>()
  return { ...actual, lookup: vi.fn(actual.lookup) }
})
/** The next lookup (ours: the transport's) answers these addresses; later ones go to the real resolver again. */
const lookupAnswersOnce = (addresses: LookupAddress[]) => {
  // lookup's overloads cannot all be met by one function; this answers the `{ all: true }` one the transport uses.
  vi.mocked(lookup).mockImplementationOnce((() => Promise.resolve(addresses)) as unknown as typeof lookup)
}

const BODY = JSON.stringify({ type: 'consent.status_changed', data: { id: 'consent_01JD8X', status: 'ACTIVE' } })

interface ReceivedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** A partner's endpoint on 127.0.0.1: counts connections, records requests, answers as the test says (or never). */
class Receiver {
  readonly requests: ReceivedRequest[] = []
  connections = 0
  readonly #server: Server

  private constructor(answer: RequestListener) {
    this.#server = createHttpServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        this.requests.push({
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
        answer(request, response)
      })
    })
    this.#server.on('connection', () => (this.connections += 1))
  }

  static async start(answer: RequestListener = (_request, response) => response.writeHead(204).end()) {
    const receiver = new Receiver(answer)
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve))
    running.push(receiver)
    return receiver
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve())
      this.#server.closeAllConnections()
    })
  }
}

const running: Receiver[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((receiver) => receiver.close()))
  vi.mocked(lookup).mockClear()
})

const signed = (secret = generateWebhookSecret()) =>
  signWebhook({ id: 'msg_01JD8X3N4Q5R6S7T8V9W0XYZAB', timestamp: new Date(), body: BODY, secrets: [secret] })

describe('postWebhook in local mode', () => {
  it('delivers the body and the signed headers, which the partner can verify', async () => {
    // Prepare
    const receiver = await Receiver.start()
    const secret = generateWebhookSecret()
    const headers = signed(secret)

    // Act
    const result = await postWebhook({
      url: `${receiver.url}/hooks/partner?tenant=acme`,
      headers,
      body: BODY,
      allowLoopback: true,
    })

    // Assess
    expect(result).toEqual({ ok: true, status: 204, error: null, durationMs: expect.any(Number) })
    expect(receiver.requests).toHaveLength(1)
    const [received] = receiver.requests
    expect(received).toMatchObject({ method: 'POST', path: '/hooks/partner?tenant=acme', body: BODY })
    expect(received?.headers).toMatchObject({
      ...headers,
      host: `127.0.0.1:${receiver.port}`,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(BODY)),
      'user-agent': WEBHOOK_USER_AGENT,
    })
    expect(new Webhook(secret).verify(received!.body, received!.headers as Record<string, string>)).toEqual(
      JSON.parse(BODY),
    )
  })

  it('delivers to http://localhost through its own DNS lookup, keeping the hostname in Host', async () => {
    // Prepare
    const receiver = await Receiver.start()

    // Act
    const result = await postWebhook({
      url: `http://localhost:${receiver.port}/hooks`,
      headers: signed(),
      body: BODY,
      allowLoopback: true,
    })

    // Assess
    expect(result).toMatchObject({ ok: true, status: 204, error: null })
    expect(lookup).toHaveBeenCalledWith('localhost', { all: true })
    expect(receiver.requests.map((request) => request.headers.host)).toEqual([`localhost:${receiver.port}`])
  })

  it('sends its own content-type and user-agent whatever the caller put in the headers', async () => {
    // Prepare
    const receiver = await Receiver.start()

    // Act
    await postWebhook({
      url: receiver.url,
      headers: { ...signed(), 'Content-Type': 'text/plain', 'User-Agent': 'curl/8' },
      body: BODY,
      allowLoopback: true,
    })

    // Assess
    expect(receiver.requests[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
    })
  })
})

describe('postWebhook refuses, without connecting,', () => {
  it.each([
    ['http://127.0.0.1:{port}/hooks', /^refused: http is not allowed: use https$/],
    ['http://localhost:{port}/hooks', /^refused: http is not allowed: use https$/],
    ['https://127.0.0.1:{port}/hooks', /^refused: the address is private, loopback, link-local or reserved/],
    ['https://[::1]:{port}/hooks', /^refused: the address is private, loopback, link-local or reserved/],
    ['https://localhost:{port}/hooks', /^refused: localhost resolves to (127\.0\.0\.1|::1), not a public address$/],
  ])('%s outside local mode', async (template, error) => {
    // Prepare
    const receiver = await Receiver.start()

    // Act
    const result = await postWebhook({
      url: template.replace('{port}', String(receiver.port)),
      headers: signed(),
      body: BODY,
      allowLoopback: false,
    })

    // Assess
    expect(result).toEqual({
      ok: false,
      status: null,
      error: expect.stringMatching(error),
      durationMs: expect.any(Number),
    })
    expect(receiver.connections).toBe(0)
    expect(receiver.requests).toEqual([])
  })

  it('a hostname any of whose addresses is private, naming that address', async () => {
    // Prepare
    lookupAnswersOnce([
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ])

    // Act
    const result = await postWebhook({
      url: 'https://hooks.partner.invalid/consents',
      headers: signed(),
      body: BODY,
      allowLoopback: false,
    })

    // Assess
    expect(result).toMatchObject({
      ok: false,
      status: null,
      error: 'refused: hooks.partner.invalid resolves to 10.0.0.7, not a public address',
    })
  })

  it.each([
    ['http://localhost:{port}/__sandbox/reset', false],
    ['https://hooks.partner.invalid:{port}/hooks', true],
  ])("%s in local mode when the port is one of the local stack's own", async (template, resolvesToLoopback) => {
    // Prepare: the receiver stands for a sandbox; the partner's name resolves to loopback (localhost is refused
    // before any lookup)
    const receiver = await Receiver.start()
    if (resolvesToLoopback) lookupAnswersOnce([{ address: '127.0.0.1', family: 4 }])

    // Act
    const result = await postWebhook({
      url: template.replace('{port}', String(receiver.port)),
      headers: signed(),
      body: BODY,
      allowLoopback: true,
      ownPorts: new Set([receiver.port]),
    })

    // Assess
    expect(result).toMatchObject({
      ok: false,
      status: null,
      error: expect.stringMatching(/^refused: .*this gateway.s own/),
    })
    expect(receiver.connections).toBe(0)
  })

  it('a hostname that resolves to cloud metadata even in local mode', async () => {
    // Prepare
    lookupAnswersOnce([{ address: '169.254.169.254', family: 4 }])

    // Act
    const result = await postWebhook({
      url: 'https://hooks.partner.invalid/consents',
      headers: signed(),
      body: BODY,
      allowLoopback: true,
    })

    // Assess
    expect(result.error).toBe('refused: hooks.partner.invalid resolves to 169.254.169.254, not a public address')
  })
})

describe('postWebhook pins the connection', () => {
  it('to the address it checked, with the hostname still in the TLS handshake (SNI)', async () => {
    // Prepare: DNS answers 127.0.0.1 once; any later lookup of this name would fail (.invalid never resolves).
    const handshakes: Buffer[] = []
    const tls = createTcpServer((socket) => {
      socket.once('data', (hello: Buffer) => {
        handshakes.push(hello)
        socket.destroy()
      })
    })
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve))
    const port = (tls.address() as AddressInfo).port
    lookupAnswersOnce([{ address: '127.0.0.1', family: 4 }])

    // Act
    const result = await postWebhook({
      url: `https://hooks.partner.invalid:${port}/consents`,
      headers: signed(),
      body: BODY,
      allowLoopback: true,
    })
    await new Promise<void>((resolve) => tls.close(() => resolve()))

    // Assess: it reached our listener (so it used the checked address), then the handshake failed
    expect(lookup).toHaveBeenCalledTimes(1)
    expect(handshakes).toHaveLength(1)
    expect(handshakes[0]?.toString('latin1')).toContain('hooks.partner.invalid')
    expect(result).toMatchObject({ ok: false, status: null, error: expect.any(String) })
  })
})

describe('postWebhook reports a failed attempt, never throwing,', () => {
  it('when the partner answers 500', async () => {
    // Prepare
    const receiver = await Receiver.start((_request, response) => response.writeHead(500).end('oops'))

    // Act
    const result = await postWebhook({ url: receiver.url, headers: signed(), body: BODY, allowLoopback: true })

    // Assess
    expect(result).toEqual({ ok: false, status: 500, error: 'answered 500', durationMs: expect.any(Number) })
  })

  it('when the partner redirects, which it does not follow', async () => {
    // Prepare
    const receiver = await Receiver.start((request, response) =>
      request.url === '/moved' ? response.writeHead(204).end() : response.writeHead(302, { location: '/moved' }).end(),
    )

    // Act
    const result = await postWebhook({
      url: `${receiver.url}/hooks`,
      headers: signed(),
      body: BODY,
      allowLoopback: true,
    })

    // Assess
    expect(result).toMatchObject({ ok: false, status: 302, error: expect.stringMatching(/redirects are not followed/) })
    expect(receiver.requests.map((request) => request.path)).toEqual(['/hooks'])
  })

  it('when the partner never answers, within the timeout', async () => {
    // Prepare
    const receiver = await Receiver.start(() => {})
    const started = performance.now()

    // Act
    const result = await postWebhook({
      url: receiver.url,
      headers: signed(),
      body: BODY,
      timeoutMs: 300,
      allowLoopback: true,
    })

    // Assess
    expect(result).toMatchObject({ ok: false, status: null, error: 'timed out after 300 ms' })
    expect(result.durationMs).toBeGreaterThanOrEqual(290)
    expect(performance.now() - started).toBeLessThan(1_500)
    expect(receiver.requests).toHaveLength(1)
  })

  it('when nothing listens on the port', async () => {
    // Prepare
    const receiver = await Receiver.start()
    const url = receiver.url
    await receiver.close()

    // Act
    const result = await postWebhook({ url, headers: signed(), body: BODY, allowLoopback: true })

    // Assess
    expect(result).toEqual({
      ok: false,
      status: null,
      error: expect.stringMatching(/ECONNREFUSED/),
      durationMs: expect.any(Number),
    })
  })

  it('when the hostname does not resolve', async () => {
    // Act
    const result = await postWebhook({
      url: 'https://hooks.partner.invalid/consents',
      headers: signed(),
      body: BODY,
      allowLoopback: false,
    })

    // Assess
    expect(result).toMatchObject({ ok: false, status: null, error: expect.stringMatching(/hooks\.partner\.invalid/) })
  })

  it('when a header value cannot be sent', async () => {
    // Prepare
    const receiver = await Receiver.start()

    // Act
    const result = await postWebhook({
      url: receiver.url,
      headers: { ...signed(), 'x-partner-note': 'a\r\nx-injected: 1' },
      body: BODY,
      allowLoopback: true,
    })

    // Assess
    expect(result).toMatchObject({ ok: false, status: null, error: expect.stringMatching(/x-partner-note/) })
    expect(receiver.connections).toBe(0)
  })
})

describe('postWebhook reads a bounded answer', () => {
  it('and hangs up on an endless body instead of reading it until the timeout', async () => {
    // Prepare
    const chunk = Buffer.alloc(16 * 1024, 'x')
    const receiver = await Receiver.start((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' })
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump)
      }
      pump()
    })

    // Act
    const result = await postWebhook({
      url: receiver.url,
      headers: signed(),
      body: BODY,
      timeoutMs: 5_000,
      allowLoopback: true,
    })

    // Assess
    expect(result).toMatchObject({ ok: true, status: 200, error: null })
    expect(result.durationMs).toBeLessThan(2_000)
  })

  it('and goes by the status once it arrived, even if the body then stalls', async () => {
    // Prepare
    const receiver = await Receiver.start((_request, response) => {
      response.writeHead(202)
      response.write('accepted, and then nothing more')
    })

    // Act
    const result = await postWebhook({
      url: receiver.url,
      headers: signed(),
      body: BODY,
      timeoutMs: 300,
      allowLoopback: true,
    })

    // Assess
    expect(result).toMatchObject({ ok: true, status: 202, error: null })
  })
})
