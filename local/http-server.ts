// The gateway over node:http: /graphql (yoga, with GraphiQL in local mode), /webhooks/<provider> for provider
// notifications, /healthz. Each request runs in its own request scope (id in logs, errors and the response).
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
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

export function createRequestListener(gateway: Gateway, yoga: GraphQLServer, graphqlPath = '/graphql') {
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

/** Starts the server on 127.0.0.1. */
export async function startGatewayHttpServer(
  gateway: Gateway,
  yoga: GraphQLServer,
  options: {
    port?: number
    /**
     * On close, how long requests in flight may finish before their connections are cut (open SSE streams are).
     * @default 2_000
     */
    graceMs?: number
  } = {},
): Promise<GatewayHttpServer> {
  const server = createServer(createRequestListener(gateway, yoga))
  // SSE streams stay open; keep-alive sockets are closed on shutdown below.
  server.requestTimeout = 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
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
