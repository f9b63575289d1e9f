// A stand-in for API Gateway's WebSocket API (the one part of AWS the graphql-ws path needs that cannot run here), in
// front of the BUILT function bundles: real WebSocket clients connect to a local server on 127.0.0.1; each upgrade,
// message and close becomes the `$connect` / `$default` / `$disconnect` event API Gateway would send, handed to the
// bundles' handlers in a process of their own (scripts/lambda-runtime.mjs's Invoke API) against DynamoDB Local; and
// the management API (`POST` / `GET` / `DELETE /@connections/{id}`, SigV4 not checked) writes to or closes the
// sockets, 410 GoneException for a connection that is not open. As API Gateway does: `$connect` decides the handshake
// (its status, and the subprotocol it names); messages are invoked as they come, not one after another; a frame over
// 32 KB closes the socket (1009); a deleted connection closes with no code of ours; messages posted over 128 KB are
// refused (413). Other functions (the poller) can run in the same process, against the same table and endpoint.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { GatewayConfig } from '../../service/config.ts'

/** API Gateway's own limits on what a client sends and what is posted to it. */
export const API_GATEWAY_LIMITS = { maxFrameBytes: 32 * 1024, maxPostBytes: 128 * 1024 } as const

const STAGE = 'local'

export interface WsApiGatewayOptions {
  /** The built bundles (`index.mjs`) of the three routes, and any other function to run beside them, by name. */
  readonly functions: {
    readonly 'ws-connect': string
    readonly 'ws-message': string
    readonly 'ws-disconnect': string
  } & Readonly<Record<string, string>>
  /** The functions' environment (table, DynamoDB Local, secrets...); the stand-in adds its own (see `env`). */
  readonly env: Readonly<Record<string, string>>
  /** Each invocation's time limit (what `getRemainingTimeInMillis` counts down from). @default 30_000 */
  readonly timeoutMs?: number
}

/** One connection as the stand-in holds it. */
export interface StandInConnection {
  readonly connectionId: string
  readonly socket: WebSocket
  /** The client's port: a client finds its connection id by its own socket's local port. */
  readonly remotePort: number
  /** Whether the socket is open (API Gateway would post to it). */
  readonly open: boolean
}

/** What a function logged (Powertools JSON lines), for tests that check what was logged. */
export type LogLine = Record<string, unknown> & { readonly message?: string; readonly level?: string }

export interface WsApiGateway {
  /** Where clients connect: `ws://127.0.0.1:<port>/<stage>`. */
  readonly url: string
  /** The management API's endpoint (`WS_MANAGEMENT_ENDPOINT`). */
  readonly managementEndpoint: string
  /** The environment the functions run with: the caller's, with the endpoint and (fake) AWS credentials. */
  readonly env: Readonly<Record<string, string>>
  /** Open connections by id. */
  readonly connections: ReadonlyMap<string, StandInConnection>
  /** The id of the connection a client opened from `localPort` (open or closed since); undefined when none did. */
  connectionIdOf(localPort: number): string | undefined
  /** Invocations that failed (a handler threw, or answered 5xx): API Gateway would log them; tests expect none. */
  readonly failures: readonly { route: string; error: string }[]
  /** Every line the functions logged so far. */
  logs(): LogLine[]
  /**
   * Invokes a function of the process with an event of the caller's (the poller's schedule); its result. `timeoutMs`
   * is this invocation's time limit (default: the functions').
   */
  invoke(name: string, event: unknown, options?: { timeoutMs?: number }): Promise<unknown>
  /**
   * Invokes a function again and again, each run starting when the last ended, as a schedule would with no gap (the
   * poller: each run polls until its time is nearly up). `stop` waits for the run in flight.
   */
  repeat(name: string, event: unknown, options: { timeoutMs: number }): { stop(): Promise<void> }
  stop(): Promise<void>
}

interface Connection {
  readonly connectionId: string
  readonly socket: WebSocket
  readonly remotePort: number
  readonly connectedAt: number
  readonly sourceIp: string
  open: boolean
}

/** A connection id as API Gateway makes them (`Ab3dEfGhIjKlMnO=`). */
const newConnectionId = () => `${randomBytes(11).toString('base64').replace(/[+/]/g, 'x').slice(0, 15)}=`

/** Starts the functions' process; resolves with its Invoke API's URL once it listens. */
async function startFunctions(
  functions: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
  onLine: (line: string) => void,
): Promise<{ url: string; child: ChildProcess }> {
  const args = ['scripts/lambda-runtime.mjs', '--port', '0', '--timeout-ms', String(timeoutMs)]
  for (const [name, bundle] of Object.entries(functions)) args.push('--function', `${name}=${bundle}`)
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let pending = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the functions did not start')), 30_000)
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const match = /listening on (http:\/\/\S+)/.exec(line)
        if (match?.[1]) {
          clearTimeout(timer)
          resolve(match[1])
        } else onLine(line)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the functions exited (${code})`))
    })
  })
  return { url, child }
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })

/** An error of the management API, as the SDK reads it (restJson1: the type in `x-amzn-errortype`). */
function managementError(response: ServerResponse, status: number, type: string, message: string): void {
  response
    .writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type })
    .end(JSON.stringify({ message }))
}

/** The environment a gateway's configuration gives its functions (what SST sets on AWS), as configFromEnv reads it. */
export function functionEnvOf(config: GatewayConfig): Record<string, string> {
  const finqware = config.providers.finqware
  const entries: Record<string, string | number | undefined> = {
    TABLE_NAME: config.tableName,
    DYNAMODB_ENDPOINT: config.dynamoEndpoint,
    PUBLIC_BASE_URL: config.publicBaseUrl,
    CURSOR_SECRET: config.cursorSecret,
    USER_REFERENCE_KEY: config.userReferenceKey,
    SUBSCRIPTION_POLL_INTERVAL_MS: config.subscriptionPollIntervalMs,
    SUBSCRIPTION_MAX_SECONDS: config.subscriptionMaxSeconds,
    AUTH_CACHE_TTL_MS: config.authCacheTtlMs,
    TOKEN_ENCRYPTION_KEYS: config.tokenEncryptionKeys,
    TOKEN_SIGNING_KEYS: config.tokenSigningKeys,
    CORS_ALLOWED_ORIGINS: config.corsAllowedOrigins?.join(','),
    FINQWARE_BASE_URL: finqware?.baseUrl,
    FINQWARE_PATH_PREFIX: finqware?.pathPrefix,
    FINQWARE_CLIENT_ID: finqware?.clientId,
    FINQWARE_CLIENT_SECRET: finqware?.clientSecret,
    FINQWARE_AUTH_MODE: finqware?.authMode,
    FINQWARE_TOKEN_URL: finqware?.tokenUrl,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }
  return Object.fromEntries(
    Object.entries(entries).flatMap(([name, value]) =>
      value === undefined || value === '' ? [] : [[name, String(value)]],
    ),
  )
}

export async function startWsApiGateway(options: WsApiGatewayOptions): Promise<WsApiGateway> {
  const connections = new Map<string, Connection>()
  const byPort = new Map<number, string>()
  const failures: { route: string; error: string }[] = []
  const logLines: LogLine[] = []
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const host = `127.0.0.1:${port}`
  const managementEndpoint = `http://${host}/${STAGE}`
  const env = {
    AWS_REGION: 'eu-west-1',
    // The SDK signs every call: any credentials do, the stand-in checks none.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...options.env,
    WS_MANAGEMENT_ENDPOINT: managementEndpoint,
  }
  const { url: invokeUrl, child } = await startFunctions(
    options.functions,
    env,
    options.timeoutMs ?? 30_000,
    (line) => {
      try {
        logLines.push(JSON.parse(line) as LogLine)
      } catch {
        if (line.trim()) logLines.push({ message: line })
      }
    },
  )

  async function invoke(name: string, event: unknown, invocation: { timeoutMs?: number } = {}): Promise<unknown> {
    const response = await fetch(`${invokeUrl}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
      ...(invocation.timeoutMs === undefined ? {} : { headers: { 'x-timeout-ms': String(invocation.timeoutMs) } }),
    })
    const result: unknown = await response.json()
    if (response.headers.get('x-amz-function-error')) {
      throw new Error(`${name} failed: ${JSON.stringify(result)}`)
    }
    return result
  }

  const requestContext = (connection: Pick<Connection, 'connectionId' | 'connectedAt' | 'sourceIp'>, route: string) => {
    const now = Date.now()
    return {
      routeKey: route,
      eventType: route === '$connect' ? 'CONNECT' : route === '$disconnect' ? 'DISCONNECT' : 'MESSAGE',
      messageId: randomUUID(),
      extendedRequestId: randomUUID(),
      requestTime: new Date(now).toUTCString(),
      messageDirection: 'IN',
      stage: STAGE,
      connectedAt: connection.connectedAt,
      requestTimeEpoch: now,
      requestId: randomUUID(),
      domainName: host,
      connectionId: connection.connectionId,
      apiId: 'local',
      identity: { sourceIp: connection.sourceIp, userAgent: null },
    }
  }

  /** Invokes a route's function; a failure is recorded (API Gateway logs it and goes on). */
  async function route(name: string, routeKey: string, event: unknown): Promise<Record<string, any> | null> {
    try {
      const result = (await invoke(name, event)) as Record<string, any> | null
      if (typeof result?.statusCode === 'number' && result.statusCode >= 500) {
        failures.push({ route: routeKey, error: JSON.stringify(result) })
      }
      return result
    } catch (error) {
      failures.push({ route: routeKey, error: error instanceof Error ? error.message : String(error) })
      return null
    }
  }

  const disconnected = (connection: Connection) => {
    if (!connection.open) return
    connection.open = false
    connections.delete(connection.connectionId)
    void route('ws-disconnect', '$disconnect', {
      requestContext: requestContext(connection, '$disconnect'),
      isBase64Encoded: false,
    })
  }

  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: API_GATEWAY_LIMITS.maxFrameBytes,
    perMessageDeflate: false,
    // The subprotocol `$connect` named in its answer, if the client offered it.
    handleProtocols: (offered, request) => {
      const chosen = (request as IncomingMessage & { chosenProtocol?: string }).chosenProtocol
      return chosen !== undefined && offered.has(chosen) ? chosen : false
    },
  })

  server.on('upgrade', (request: IncomingMessage, socket, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const path = new URL(request.url ?? '/', `http://${host}`).pathname
    if (path !== `/${STAGE}`) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    const pending = {
      connectionId: newConnectionId(),
      connectedAt: Date.now(),
      sourceIp: request.socket.remoteAddress ?? '',
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]),
    )
    void (async () => {
      const answer = await route('ws-connect', '$connect', {
        headers,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
        requestContext: requestContext(pending, '$connect'),
        isBase64Encoded: false,
      })
      const status = typeof answer?.statusCode === 'number' ? answer.statusCode : 500
      if (status !== 200) {
        const body = typeof answer?.body === 'string' ? answer.body : ''
        socket.end(
          `HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        )
        return
      }
      const answerHeaders = (answer?.headers ?? {}) as Record<string, string>
      const protocolHeader = Object.keys(answerHeaders).find((name) => name.toLowerCase() === 'sec-websocket-protocol')
      ;(request as IncomingMessage & { chosenProtocol?: string }).chosenProtocol =
        protocolHeader === undefined ? undefined : answerHeaders[protocolHeader]
      sockets.handleUpgrade(request, socket, head, (ws) => {
        const connection: Connection = {
          ...pending,
          socket: ws,
          remotePort: request.socket.remotePort ?? 0,
          open: true,
        }
        connections.set(connection.connectionId, connection)
        byPort.set(connection.remotePort, connection.connectionId)
        ws.on('message', (data: RawData, isBinary: boolean) => {
          const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)
          // As API Gateway: each message its own invocation, as it comes.
          void route('ws-message', '$default', {
            requestContext: requestContext(connection, '$default'),
            body: isBinary ? bytes.toString('base64') : bytes.toString('utf8'),
            isBase64Encoded: isBinary,
          })
        })
        ws.on('error', () => undefined)
        ws.once('close', () => disconnected(connection))
      })
    })()
  })

  // The management API: `/<stage>/@connections/<id>`.
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const match = new RegExp(`^/${STAGE}/@connections/([^/?]+)$`).exec(request.url ?? '')
      if (!match?.[1]) return managementError(response, 404, 'NotFoundException', 'Not Found')
      const connectionId = decodeURIComponent(match[1])
      const body = await readBody(request)
      const connection = connections.get(connectionId)
      if (!connection?.open) return managementError(response, 410, 'GoneException', 'Gone')
      if (request.method === 'POST') {
        if (body.length > API_GATEWAY_LIMITS.maxPostBytes) {
          return managementError(response, 413, 'PayloadTooLargeException', 'Message too long')
        }
        await new Promise<void>((resolve) => connection.socket.send(body.toString('utf8'), () => resolve()))
        return response.writeHead(200).end()
      }
      if (request.method === 'DELETE') {
        // API Gateway sends no close code of ours: the client sees none (1005).
        connection.socket.close()
        disconnected(connection)
        return response.writeHead(204).end()
      }
      if (request.method === 'GET') {
        return response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            ConnectedAt: new Date(connection.connectedAt).toISOString(),
            Identity: { SourceIp: connection.sourceIp, UserAgent: null },
            LastActiveAt: new Date().toISOString(),
          }),
        )
      }
      return managementError(response, 405, 'MethodNotAllowed', 'Method not allowed')
    })().catch((error: unknown) => {
      if (!response.headersSent) managementError(response, 500, 'InternalServerError', String(error))
    })
  })

  return {
    url: `ws://${host}/${STAGE}`,
    managementEndpoint,
    env,
    connections,
    connectionIdOf: (localPort: number) => byPort.get(localPort),
    failures,
    logs: () => [...logLines],
    invoke,
    repeat(name, event, repeated) {
      let stopped = false
      const runs = (async () => {
        while (!stopped) {
          try {
            await invoke(name, event, repeated)
          } catch (error) {
            failures.push({ route: name, error: error instanceof Error ? error.message : String(error) })
          }
        }
      })()
      return {
        async stop() {
          stopped = true
          await runs
        },
      }
    },
    async stop() {
      for (const connection of connections.values()) connection.socket.terminate()
      await new Promise<void>((resolve) => sockets.close(() => resolve()))
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve())
          child.kill('SIGTERM')
          setTimeout(() => child.kill('SIGKILL'), 2_000).unref()
        })
      }
    },
  }
}
