// The gateway's HTTP server under `npm start`: the one app (http/app.ts) on node:http through @hono/node-server, with
// what a server on a developer's machine (or a LAN, with HOST) needs around it: timeouts for slow clients, a cap on
// connections per source address, and a close that lets requests in flight finish. GraphQL over WebSocket shares the
// port and path (graphql-ws-server.ts), within the same connection cap.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { getRequestListener, RequestError, type HttpBindings as NodeBindings } from '@hono/node-server'
import { createHttpApp, HTTP_APP_DEFAULTS, type HttpAppDeps, type HttpAppOptions } from '../http/app.ts'
import { pageOrigins } from '../http/cors.ts'
import type { HttpApp } from '../http/env.ts'
import { oauthEndpoints } from '../http/oauth.ts'
import { createGraphQLServer, graphQLServicesOf, type GraphQLServerOptions } from '../schema/server.ts'
import type { GraphQLServer } from '../schema/server.ts'
import { fastPathOf } from '../schema/fast-path.ts'
import type { Gateway } from '../composition/gateway.ts'
import { GRAPHQL_PATH } from '../service/public-paths.ts'
import { attachGraphQLWebSocket, type GraphQLWebSocketHost, type WebSocketLimits } from './graphql-ws-server.ts'
import type { Logger } from '../runtime/logging.ts'

export interface GatewayHttpServer {
  readonly url: string
  readonly server: Server
  /** GraphQL over WebSocket on the same port, when served (serveGateway). */
  readonly webSocket?: GraphQLWebSocketHost
  close(): Promise<void>
}

/** Something that takes the server's `upgrade`s (WebSockets), within the connection cap, and closes with it. */
export type UpgradeHost = (server: Server, admitted: (socket: Socket | Duplex) => boolean) => GraphQLWebSocketHost

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

export interface ServeOptions extends Partial<HttpLimits> {
  port?: number
  /** The address to listen on (`npm start`'s `HOST`). @default '127.0.0.1' */
  host?: string
  /**
   * On close, how long requests in flight may finish before their connections are cut (open SSE streams are).
   * @default 2_000
   */
  graceMs?: number
  /** Takes the server's upgrades (GraphQL over WebSocket). @default none: upgrades are refused */
  upgrades?: UpgradeHost
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
function capConnectionsPerAddress(server: Server, max: number): (socket: Socket | Duplex) => boolean {
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
  return (socket) => !refused.has(socket as Socket)
}

/**
 * What @hono/node-server answers itself, before the app runs: a request it cannot make a URL of (an unusable Host or
 * target) is the client's fault; anything else (the app never throws out of `fetch`) is logged, never shown.
 */
function hostErrorAnswer(logger: Logger) {
  return (error: unknown): Response => {
    const requestId = randomUUID()
    const clientFault = error instanceof RequestError
    if (!clientFault) logger.error('request failed before the app', { error, requestId })
    return new Response(JSON.stringify({ error: clientFault ? 'bad_request' : 'internal_error', requestId }), {
      status: clientFault ? 400 : 500,
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId },
    })
  }
}

/** Serves `app` on node:http, on 127.0.0.1 unless told otherwise. */
export async function serveHttpApp(
  app: HttpApp,
  logger: Logger,
  options: ServeOptions = {},
): Promise<GatewayHttpServer> {
  const limits: HttpLimits = { ...HTTP_LIMITS_DEFAULTS, ...definedOnly(options) }
  const listener = getRequestListener(
    async (request, env) => {
      try {
        return await app.fetch(request, { clientAddress: (env as NodeBindings).incoming.socket.remoteAddress })
      } catch (error) {
        // A client that goes away mid-request aborts the request, and reading its body then fails with the abort's
        // reason, a string that Hono passes on instead of to the app's error answer: no failure of ours, and no one is
        // there to read an answer.
        if (!request.signal.aborted) throw error
        logger.info('client went away', { reason: String(error) })
        return new Response(null, { status: 400 })
      }
    },
    {
      // An HTTP/1.0 request may come without Host; it still needs a URL.
      hostname: 'localhost',
      // @hono/node-server's own Request and Response in place of the globals (its default): a Response made from a
      // string (every GraphQL answer but SSE, http/graphql.ts) is then written in one go, where a global Response's
      // body is read back chunk by chunk through a web stream (about 0.1 ms a request more, measured).
      overrideGlobalObjects: true,
      errorHandler: hostErrorAnswer(logger),
    },
  )
  const server = createServer(serverTimeouts(limits))
  const admitted = capConnectionsPerAddress(server, limits.maxConnectionsPerAddress)
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (admitted(request.socket)) void listener(request, response)
    else response.destroy()
  })
  const webSocket = options.upgrades?.(server, admitted)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = options.host === undefined || ['0.0.0.0', '::'].includes(options.host) ? '127.0.0.1' : options.host
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    ...(webSocket ? { webSocket } : {}),
    // Stop accepting, let requests in flight finish (a provider notification mid-way through its read-back), then cut
    // what is still open. WebSockets are told first: the node server no longer tracks an upgraded socket, yet waits
    // for it.
    close: async () => {
      const websocketsClosed = webSocket?.close(options.graceMs ?? 2_000)
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), options.graceMs ?? 2_000)
        server.close(() => {
          clearTimeout(cut)
          resolve()
        })
        server.closeIdleConnections()
      })
      await websocketsClosed
    },
  }
}

/** The app over `gateway` with `yoga` at /graphql, served on node:http (tests give a GraphQL server of their own). */
export function startGatewayHttpServer(
  gateway: Gateway,
  yoga: GraphQLServer,
  options: ServeOptions & Omit<HttpAppDeps, 'gateway' | 'graphql' | 'fastPath'> & HttpAppOptions = {},
): Promise<GatewayHttpServer> {
  const { extraRoutes, oauthToken, jwks, ...rest } = options
  const app = createHttpApp(
    {
      gateway,
      graphql: yoga,
      fastPath: fastPathOf(yoga),
      ...(extraRoutes ? { extraRoutes } : {}),
      ...(oauthToken ? { oauthToken } : {}),
      ...(jwks ? { jwks } : {}),
    },
    rest,
  )
  return serveHttpApp(app, gateway.logger, rest)
}

export interface LocalGatewayOptions
  extends
    Omit<ServeOptions, 'upgrades'>,
    Omit<HttpAppDeps, 'gateway' | 'graphql' | 'fastPath'>,
    Omit<HttpAppOptions, 'maxGraphQLBodyBytes'> {
  /** GraphiQL on GET /graphql (schema/server.ts). @default false */
  readonly graphiql?: GraphQLServerOptions['graphiql']
  /** GraphQL over WebSocket's limits (defaults: GRAPHQL_WS_DEFAULTS, WEBSOCKET_DEFAULTS). */
  readonly webSocket?: Partial<WebSocketLimits>
  /** Apollo's multipart subscriptions (defaults: APOLLO_MULTIPART_DEFAULTS). */
  readonly apolloMultipart?: GraphQLServerOptions['apolloMultipart']
}

/**
 * The gateway as `npm start` serves it: its GraphQL server and the app over `gateway`, on node:http. The end-to-end
 * tests' stack starts it through here too.
 */
export function serveGateway(gateway: Gateway, options: LocalGatewayOptions = {}): Promise<GatewayHttpServer> {
  const { graphiql, webSocket, apolloMultipart, ...rest } = options
  const yoga = createGraphQLServer({
    services: graphQLServicesOf(gateway),
    authenticator: gateway.authenticator,
    logger: gateway.logger,
    graphiql: graphiql ?? false,
    ...(apolloMultipart ? { apolloMultipart } : {}),
  })
  const origins = pageOrigins({ configured: rest.corsAllowedOrigins ?? [], registered: gateway.webOrigins })
  return startGatewayHttpServer(gateway, yoga, {
    ...oauthEndpoints({ clients: gateway.apiClients, tokens: gateway.tokens, logger: gateway.logger }),
    ...rest,
    upgrades: (server, admitted) =>
      attachGraphQLWebSocket(server, admitted, gateway.logger, {
        graphql: yoga,
        authenticator: gateway.authenticator,
        logger: gateway.logger,
        path: GRAPHQL_PATH,
        origins,
        // A message is at most what a GraphQL request body may be.
        limits: { maxMessageBytes: HTTP_APP_DEFAULTS.maxGraphQLBodyBytes, ...webSocket },
      }),
  })
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
