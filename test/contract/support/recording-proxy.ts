// A neutral HTTP proxy on 127.0.0.1 between an adapter and its simulator, recording every exchange it forwards; and a
// recording receiver for what a simulator sends out on its own (webhooks, notifications). Neither changes a byte.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Exchange } from './validate.ts'

export interface Recorder {
  /** `http://127.0.0.1:<port>`: the base URL to hand the adapter (or the simulator, for a receiver). */
  readonly url: string
  /** Every exchange so far, in the order the answers completed. */
  readonly exchanges: Exchange[]
  close(): Promise<void>
}

/** Hop-by-hop headers a proxy must not forward (RFC 9110 7.6.1); `host` is the target's own. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
])

/** Forwards everything to `target` (an origin, e.g. the simulator's URL) and records it. */
export async function startRecordingProxy(target: string): Promise<Recorder> {
  const origin = new URL(target)
  const exchanges: Exchange[] = []
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const requestBytes = await readAll(incoming)
      const headers = forwardable(incoming.headers)
      const upstream = httpRequest(
        {
          host: origin.hostname,
          port: origin.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...headers, host: origin.host },
        },
        (answer) => {
          void (async () => {
            const responseBytes = await readAll(answer)
            const responseHeaders = flatten(answer.headers)
            exchanges.push({
              ...requestPart(incoming.method ?? 'GET', incoming.url ?? '/', incoming.headers, requestBytes),
              status: answer.statusCode ?? 0,
              responseHeaders,
              responseBody: parseBody(responseBytes, responseHeaders['content-type']),
            })
            outgoing.writeHead(answer.statusCode ?? 502, forwardable(answer.headers))
            outgoing.end(responseBytes)
          })()
        },
      )
      upstream.on('error', (error) => {
        outgoing.writeHead(502, { 'content-type': 'text/plain' })
        outgoing.end(`recording proxy: ${error.message}`)
      })
      upstream.end(requestBytes)
    })()
  })
  return listen(server, exchanges)
}

/**
 * Answers every request itself with `status` (204 by default, what the notification specs ask of a receiver) and
 * records it: the request is what the simulator sent.
 */
export async function startRecordingReceiver(status = 204): Promise<Recorder> {
  const exchanges: Exchange[] = []
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const requestBytes = await readAll(incoming)
      exchanges.push({
        ...requestPart(incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, requestBytes),
        status,
        responseHeaders: {},
        responseBody: undefined,
      })
      outgoing.writeHead(status)
      outgoing.end()
    })()
  })
  return listen(server, exchanges)
}

function requestPart(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer) {
  const parsed = new URL(url, 'http://recorded.invalid')
  const query: Record<string, string | string[]> = {}
  for (const key of new Set(parsed.searchParams.keys())) {
    const values = parsed.searchParams.getAll(key)
    query[key] = values.length === 1 ? (values[0] ?? '') : values
  }
  const flat = flatten(headers)
  return {
    method,
    path: parsed.pathname,
    query,
    headers: flat,
    requestBody: parseBody(body, flat['content-type']),
  }
}

/** JSON or a form by content type; other text as text; nothing as undefined. Unparseable JSON stays text. */
function parseBody(bytes: Buffer, contentType: string | undefined): unknown {
  if (!bytes.length) return undefined
  const text = bytes.toString('utf8')
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text))
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(text) as unknown
    } catch {
      return text
    }
  }
  return text
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) kept[name] = value
  }
  return kept
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks)
}

async function listen(server: Server, exchanges: Exchange[]): Promise<Recorder> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
