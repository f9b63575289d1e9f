// The gateway over node:http: /graphql (yoga, with GraphiQL in local mode), /webhooks/<provider> for provider
// notifications, /healthz. Each request runs in its own request scope (id in logs, errors and the response).
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { GraphQLServer } from '../schema/server.ts'
import type { Gateway } from '../service/gateway.ts'
import { runInRequestScope } from '../service/logging.ts'
import { callbackFailure, callbackHttpReply } from '../service/authorisation-callback.ts'
import { receiveProviderNotification } from '../service/notification-endpoint.ts'
import { callbackRoute, notificationRoute } from '../service/public-paths.ts'
import { healthReply } from '../service/store-health.ts'
import { ServiceUnavailableError } from '../domain/errors.ts'

export interface GatewayHttpServer {
  readonly url: string
  readonly server: Server
  close(): Promise<void>
}

const MAX_NOTIFICATION_BYTES = 256 * 1024
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  response.end(text)
}

/** Reads a body up to `limit` bytes; null when it is longer (the caller answers 413). */
async function readBody(request: IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function lowerCaseHeaders(request: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(request.headers))
    headers[name] = Array.isArray(value) ? value.join(', ') : value
  return headers
}

/** Routes of the composition root's own (local mode's controls): true when one answered the request. */
export type ExtraRoutes = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>

export function createRequestListener(
  gateway: Gateway,
  yoga: GraphQLServer,
  graphqlPath = '/graphql',
  extraRoutes?: ExtraRoutes,
) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const given = request.headers['x-request-id']
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    response.setHeader('x-request-id', requestId)
    void runInRequestScope({ requestId }, async () => {
      const path = (request.url ?? '/').split('?')[0] ?? '/'
      try {
        if (path === graphqlPath) {
          // Without a declared length a body cannot be bounded before yoga reads it.
          if (request.method === 'POST' && request.headers['content-length'] === undefined) {
            sendJson(response, 411, {
              errors: [{ message: 'Content-Length required', extensions: { code: 'BAD_REQUEST', requestId } }],
            })
            return
          }
          await Promise.resolve(yoga.requestListener(request, response))
          return
        }
        const route = notificationRoute(path)
        if (route && gateway.providers.has(route.provider)) {
          if (request.method !== 'POST')
            return sendJson(response, 405, { error: 'method_not_allowed' }, { allow: 'POST' })
          const body = await readBody(request, MAX_NOTIFICATION_BYTES)
          if (body === null) return sendJson(response, 413, { error: 'payload_too_large', requestId })
          const reply = await receiveProviderNotification(
            gateway.consents,
            gateway.logger,
            route.provider,
            { headers: lowerCaseHeaders(request), body, path: route.rest },
            requestId,
          )
          return sendJson(response, reply.status, reply.body, reply.headers)
        }
        const callback = callbackRoute(path)
        if (callback && request.method === 'GET' && gateway.providers.has(callback.provider)) {
          const query = new URL(request.url ?? '/', 'http://callback').searchParams
          const reply = await gateway
            .completeAuthorisation(callback.provider, callback.token, query, requestId)
            .catch((error: unknown) => callbackFailure(error, gateway.logger, callback.provider))
          const http = callbackHttpReply(reply)
          response.writeHead(http.status, http.headers)
          response.end(http.body)
          return
        }
        if (path === '/healthz') {
          const health = await healthReply(gateway.storeHealth)
          return sendJson(response, health.status, health.body, health.headers)
        }
        if (extraRoutes && (await extraRoutes(request, response))) return
        sendJson(response, 404, { error: 'not_found', requestId })
      } catch (error) {
        gateway.logger.error('request failed', { error, path })
        if (response.headersSent) response.destroy()
        else if (error instanceof ServiceUnavailableError) {
          sendJson(
            response,
            503,
            { error: 'retry_later', requestId },
            { 'retry-after': String(error.retryAfterSeconds) },
          )
        } else sendJson(response, 500, { error: 'internal_error', requestId })
      }
    })
  }
}

/** How long a client may take, and how many connections one address may hold. */
export interface HttpLimits {
  /** Longest wait for a request's headers, from the connection's first byte. @default 5_000 */
  readonly headersTimeoutMs: number
  /**
   * Longest wait for a whole request, body included. It bounds receiving the request only, not the answer: an SSE
   * subscription streams on for as long as it lasts. A body is at most 64 kB, which any client sends in well under
   * this. @default 8_000
   */
  readonly requestTimeoutMs: number
  /** How long a keep-alive connection may sit idle between requests. @default 5_000 */
  readonly keepAliveTimeoutMs: number
  /**
   * Open connections per source address; one more is answered 429 and closed. Locally every client shares
   * 127.0.0.1, so this is also the cap on all local clients together (set it with `MAX_CONNECTIONS_PER_ADDRESS`).
   * @default 64
   */
  readonly maxConnectionsPerAddress: number
}

export const HTTP_LIMITS_DEFAULTS: HttpLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 8_000,
  keepAliveTimeoutMs: 5_000,
  maxConnectionsPerAddress: 64,
}

/**
 * node:http's own timeouts from the limits. Node checks them on an interval (30 s by default): a quarter of the
 * shortest timeout, at most a second, keeps the cut close to the limit.
 */
function serverTimeouts(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(25, Math.min(1_000, limits.headersTimeoutMs / 4)),
  }
}

const TOO_MANY_CONNECTIONS = [
  'HTTP/1.1 429 Too Many Requests',
  'Content-Type: application/json; charset=utf-8',
  'Content-Length: 34',
  'Retry-After: 1',
  'Connection: close',
  '',
  '{"error":"too_many_connections"}\r\n',
].join('\r\n')

/**
 * Caps open connections per source address: past the cap a connection is answered 429 and closed before any
 * request on it is read. Returns whether a socket was admitted (a request that still arrives on a refused socket is
 * dropped, not served).
 */
function capConnectionsPerAddress(server: Server, max: number): (socket: Socket) => boolean {
  const open = new Map<string, number>()
  const refused = new WeakSet<Socket>()
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? ''
    const count = open.get(address) ?? 0
    if (count >= max) {
      refused.add(socket)
      socket.end(TOO_MANY_CONNECTIONS, () => socket.destroy())
      return
    }
    open.set(address, count + 1)
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1
      if (left > 0) open.set(address, left)
      else open.delete(address)
    })
  })
  return (socket) => !refused.has(socket)
}

/** Starts the server on 127.0.0.1 unless told otherwise. */
export async function startGatewayHttpServer(
  gateway: Gateway,
  yoga: GraphQLServer,
  options: {
    port?: number
    /** The address to listen on (`npm start`'s `HOST`). @default '127.0.0.1' */
    host?: string
    /**
     * On close, how long requests in flight may finish before their connections are cut (open SSE streams are).
     * @default 2_000
     */
    graceMs?: number
    /** Routes answered before the 404 (local mode's controls and pages). */
    extraRoutes?: ExtraRoutes
  } & Partial<HttpLimits> = {},
): Promise<GatewayHttpServer> {
  const limits: HttpLimits = { ...HTTP_LIMITS_DEFAULTS, ...definedOnly(options) }
  const listener = createRequestListener(gateway, yoga, '/graphql', options.extraRoutes)
  const server = createServer(serverTimeouts(limits))
  const admitted = capConnectionsPerAddress(server, limits.maxConnectionsPerAddress)
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (admitted(request.socket)) listener(request, response)
    else response.destroy()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = options.host === undefined || ['0.0.0.0', '::'].includes(options.host) ? '127.0.0.1' : options.host
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    // Stop accepting, let requests in flight finish (a provider notification mid-way through its read-back), then cut
    // what is still open.
    close: () =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), options.graceMs ?? 2_000)
        server.close(() => {
          clearTimeout(cut)
          resolve()
        })
        server.closeIdleConnections()
      }),
  }
}

/** The limits given, without the keys present but undefined (they would hide the defaults). */
function definedOnly(options: Partial<HttpLimits>): Partial<HttpLimits> {
  const limits: Partial<Record<keyof HttpLimits, number>> = {}
  for (const key of Object.keys(HTTP_LIMITS_DEFAULTS) as (keyof HttpLimits)[]) {
    const value = options[key]
    if (value !== undefined) limits[key] = value
  }
  return limits
}
