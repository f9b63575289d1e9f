// A partner's webhook endpoint for tests: a real node:http server on loopback that records every request and
// answers as the test says (status, delay), verifying nothing itself: tests verify with the standardwebhooks library.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly json: Record<string, unknown>
}

export interface WebhookReceiver {
  readonly url: string
  readonly received: ReceivedWebhook[]
  /** How to answer the next request (called per request); default 204 at once. */
  answer: (request: ReceivedWebhook, index: number) => { status: number; delayMs?: number }
  close(): Promise<void>
}

export async function startWebhookReceiver(path = '/hooks/consents'): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = []
  const receiver: WebhookReceiver = {
    url: '',
    received,
    answer: () => ({ status: 204 }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const webhook = { headers: request.headers, body, json: JSON.parse(body) as Record<string, unknown> }
      const index = received.length
      received.push(webhook)
      const { status, delayMs } = receiver.answer(webhook, index)
      setTimeout(() => response.writeHead(status).end(), delayMs ?? 0)
    })
  })
  server.keepAliveTimeout = 1
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  Object.assign(receiver, { url: `http://127.0.0.1:${port}${path}` })
  return receiver
}
