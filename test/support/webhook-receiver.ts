// The other end of a webhook, for tests: a real node:http server on loopback that records every POST (path, headers,
// raw body, parsed body) and answers as the test says. It verifies nothing itself: tests verify signatures with the
// provider's scheme or the standardwebhooks library. Sandboxes post their webhooks to it; the gateway posts the
// partner's webhooks to it.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  /** Path and query, as requested. */
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The raw body, byte for byte: what a signature covers. */
  readonly text: string
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly body: any
}

export interface ReceiverAnswer {
  readonly status: number
  /** Hold the answer back this long (a slow partner; a sender killed while it waits). */
  readonly delayMs?: number
}

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

export class RecordingReceiver {
  readonly received: ReceivedRequest[] = []
  /** Base URL, once started. */
  url = ''
  /** How to answer each recorded request (its index among all received); 204 at once unless set. */
  answer: (request: ReceivedRequest, index: number) => ReceiverAnswer = () => ({ status: 204 })
  readonly #failuresLeft = new Map<string, number>()
  #server: Server | undefined
  #endpoints = 0

  /** A started receiver. */
  static async start(): Promise<RecordingReceiver> {
    const receiver = new RecordingReceiver()
    await receiver.start()
    return receiver
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        const path = request.url ?? '/'
        const failuresLeft = this.#failuresLeft.get(path) ?? 0
        if (failuresLeft > 0) {
          // A failing endpoint: answered 500 and not recorded, as if the partner never took it.
          this.#failuresLeft.set(path, failuresLeft - 1)
          response.writeHead(500).end('not now')
          return
        }
        const text = Buffer.concat(chunks).toString('utf8')
        const received = { path, headers: request.headers, text, body: parsed(text) }
        const index = this.received.length
        this.received.push(received)
        const { status, delayMs } = this.answer(received, index)
        setTimeout(() => response.writeHead(status).end(), delayMs ?? 0)
      })
    })
    server.keepAliveTimeout = 1
    this.#server = server
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  /** A fresh endpoint URL, so each test reads only its own requests; the first `failFirst` posts to it fail. */
  newEndpoint(options: { failFirst?: number } = {}): string {
    if (!this.url) throw new Error('start the receiver first')
    this.#endpoints += 1
    const path = `/endpoints/${this.#endpoints}`
    if (options.failFirst) this.#failuresLeft.set(path, options.failFirst)
    return `${this.url}${path}`
  }

  /** What was posted to `urlOrPath` (a full URL, or a path), in arrival order. */
  at(urlOrPath: string): ReceivedRequest[] {
    const path = urlOrPath.startsWith('http') ? new URL(urlOrPath).pathname : urlOrPath
    return this.received.filter((request) => request.path === path)
  }

  async close(): Promise<void> {
    const server = this.#server
    if (!server) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
}
