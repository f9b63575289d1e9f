// GraphQL over WebSocket under `npm start`: the node server's `upgrade` on the GraphQL path, taken by `ws` (noServer)
// and handed to the graphql-ws protocol (schema/graphql-ws.ts), on the same port as HTTP. Around the protocol, what the
// socket needs: the per-address connection cap HTTP has (an upgraded connection keeps counting against it), a page's
// origin refused at the handshake unless some tenant registered it (and, once the caller is known, unless the caller's
// tenant did), a message size limit, pings that find dead peers, and a close that says goodbye (1001).
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { handleProtocols } from 'graphql-ws'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { PageOrigins } from '../http/cors.ts'
import {
  clientMessage,
  graphqlWsServer,
  WS_CLOSE,
  type GraphQLWsDeps,
  type GraphQLWsLimits,
} from '../schema/graphql-ws.ts'
import type { Logger } from '../runtime/logging.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'

export interface WebSocketLimits extends GraphQLWsLimits {
  /** Largest message a client may send, in bytes; a larger one closes the socket (1009). @default 65_536 */
  readonly maxMessageBytes: number
  /**
   * How often the server pings (a WebSocket ping frame, answered by every client and browser by itself); a peer that
   * has not answered the previous ping by then is cut. @default 12_000
   */
  readonly keepAliveMs: number
}

export const WEBSOCKET_DEFAULTS: Omit<WebSocketLimits, keyof GraphQLWsLimits> = {
  maxMessageBytes: 65_536,
  keepAliveMs: 12_000,
}

export interface GraphQLWebSocketOptions extends GraphQLWsDeps {
  readonly path: string
  readonly origins: PageOrigins
  readonly limits?: Partial<WebSocketLimits>
}

export interface GraphQLWebSocketHost {
  /** Open connections. */
  readonly connections: number
  /** Says goodbye to every connection (1001), cuts those that do not close within `graceMs`. */
  close(graceMs?: number): Promise<void>
}

/** Answers an upgrade that is refused before the handshake, as HTTP. */
function refuse(socket: Duplex, status: number, text: string, error: string): void {
  const body = `${JSON.stringify({ error })}\r\n`
  socket.end(
    [
      `HTTP/1.1 ${status} ${text}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
    () => socket.destroy(),
  )
}

/** The page's origin when the connection is cross-origin (a server, or a page of ours, sends none or ours). */
function crossOriginOf(request: IncomingMessage): string | null {
  const origin = request.headers.origin
  if (!origin) return null
  const host = request.headers.host
  return host && (origin === `http://${host}` || origin === `https://${host}`) ? null : origin
}

/**
 * Takes WebSocket upgrades on `options.path` of `server`; `admitted` says whether the connection cap let the socket
 * in. Every other upgrade is refused (404).
 */
export function attachGraphQLWebSocket(
  server: Server,
  admitted: (socket: Duplex) => boolean,
  logger: Logger,
  options: GraphQLWebSocketOptions,
): GraphQLWebSocketHost {
  const limits = { ...WEBSOCKET_DEFAULTS, ...options.limits }
  const protocol = graphqlWsServer(options, options.limits)
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    handleProtocols: (protocols) => handleProtocols(protocols) || false,
    // Compression costs memory per connection and lets a small frame inflate: messages are small JSON anyway.
    perMessageDeflate: false,
  })

  const connected = (
    ws: WebSocket,
    request: IncomingMessage,
    webOrigin: ReturnType<PageOrigins['checkFor']> | null,
  ) => {
    const connectionId = randomUUID()
    const clientAddress = request.socket.remoteAddress
    let alive = true
    ws.on('pong', () => (alive = true))
    const ping = setInterval(() => {
      if (!alive) return ws.terminate()
      alive = false
      ws.ping()
    }, limits.keepAliveMs)
    ping.unref()
    const close = (code: number, reason: string) => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason)
    }
    const closed = protocol.opened(
      {
        protocol: ws.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (ws.readyState !== ws.OPEN) return resolve()
            ws.send(data, (error) => (error ? reject(error) : resolve()))
          }),
        close,
        onMessage: (handle) =>
          ws.on('message', (data: RawData, isBinary: boolean) => {
            const message = isBinary ? null : clientMessage(rawText(data))
            if (message === null) return close(CLOSE_BAD_MESSAGE, 'Invalid message received')
            // Each message in a scope of its own: what an operation logs, and its errors, carry one request id.
            void runInRequestScope({ requestId: randomUUID() }, async () => {
              try {
                await handle(message)
              } catch (error) {
                const errorId = randomUUID()
                logger.error('graphql-ws message failed', { errorId, error, connectionId })
                close(WS_CLOSE.INTERNAL, 'Internal server error')
              }
            })
          }),
      },
      { connectionId, clientAddress, webOrigin, close },
    )
    ws.on('error', (error) => {
      // A frame over the size limit, a broken frame: ws has closed the socket with its code (1009, 1002).
      logger.debug('graphql-ws socket error', { connectionId, error: error.message })
    })
    ws.once('close', (code, reason) => {
      clearInterval(ping)
      void closed(code, reason.toString()).catch((error: unknown) =>
        logger.error('graphql-ws close failed', { connectionId, error }),
      )
    })
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    if (!admitted(socket)) return socket.destroy()
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    if (path !== options.path) return refuse(socket, 404, 'Not Found', 'not_found')
    const origin = crossOriginOf(request)
    void (async () => {
      // A page may open a WebSocket to any site with no preflight: one on an origin no tenant registered (a page
      // riding on credentials it found) is refused before the handshake; its tenant is checked at connection_init.
      if (origin !== null && !(await options.origins.known(origin))) {
        return refuse(socket, 403, 'Forbidden', 'origin_not_allowed')
      }
      sockets.handleUpgrade(request, socket, head, (ws) =>
        connected(ws, request, origin === null ? null : options.origins.checkFor(origin)),
      )
    })().catch((error: unknown) => {
      logger.error('graphql-ws upgrade failed', { error })
      socket.destroy()
    })
  })

  return {
    get connections() {
      return sockets.clients.size
    },
    async close(graceMs = 2_000) {
      const open = [...sockets.clients]
      for (const ws of open) ws.close(1001, 'Server going away')
      const cut = setTimeout(() => open.forEach((ws) => ws.terminate()), graceMs)
      await Promise.all(
        open.map((ws) =>
          ws.readyState === ws.CLOSED
            ? Promise.resolve()
            : new Promise<void>((resolve) => ws.once('close', () => resolve())),
        ),
      )
      clearTimeout(cut)
      await new Promise<void>((resolve) => sockets.close(() => resolve()))
    },
  }
}

/** graphql-ws's own code for a message it cannot take. */
const CLOSE_BAD_MESSAGE = 4400

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8')
}
