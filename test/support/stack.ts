// The whole system for end-to-end tests: the Finqware sandbox, the gateway on node:http and a fresh table in the
// run's DynamoDB Local, wired exactly as `npm start` wires them (local/http-server.ts `serveGateway`), talking over real
// HTTP. Two tenants, so isolation
// can be tested.
import { createClient as createHttpClient, type Client as HttpClient } from 'graphql-http'
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse'
import {
  serveGateway,
  type GatewayHttpServer,
  type HttpLimits,
  type LocalGatewayOptions,
} from '../../local/http-server.ts'
import type { TokenSettings } from '../../service/access-tokens.ts'
import { newSigningKey, type PrivateJwk } from '../../crypto/token-keys.ts'
import type { WebOriginSettings } from '../../service/web-origins.ts'
import { loopbackHosts } from '../../local/loopback.ts'
import { reservePort } from './reserved-port.ts'
import {
  startFinqwareSandbox,
  type FinqwareSandbox,
  type FinqwareSandboxOptions,
} from '../../sandbox/finqware/server.ts'
import type { WorldlineSandbox, WorldlineSandboxOptions } from '../../sandbox/worldline/server.ts'
import type { GatewayConfig } from '../../service/config.ts'
import { createGateway, type Gateway } from '../../composition/gateway.ts'
import { createLogger, silentLogger, type Logger } from '../../runtime/logging.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { createTestTable, type TestTable } from './dynamo.ts'
import { vi } from 'vitest'
import {
  SANDBOX_CONTROL_SECRET,
  startWorldlineHarness,
  startYapilyHarness,
  submitBankDecision,
} from './provider-drivers.ts'
import type { YapilySandbox } from '../../sandbox/yapily/server.ts'
import { randomBytes } from 'node:crypto'

export interface Credentials {
  readonly tenantId: string
  readonly clientId: string
  readonly clientSecret: string
}

export interface Stack {
  readonly table: TestTable
  readonly finqware: FinqwareSandbox
  readonly worldline: WorldlineSandbox
  readonly yapily: YapilySandbox
  readonly gateway: Gateway
  readonly http: GatewayHttpServer
  readonly graphqlUrl: string
  /** GraphQL over WebSocket: the same path, `ws:`. */
  readonly wsUrl: string
  /** `/oauth/token`. */
  readonly tokenUrl: string
  /** `/.well-known/jwks.json`. */
  readonly jwksUrl: string
  /** The private keys the gateway signs tokens with (signing key first), for tests that forge or rotate. */
  readonly signingKeys: readonly PrivateJwk[]
  readonly tenantA: Credentials
  readonly tenantB: Credentials
  /** `Authorization` header value for a tenant. */
  authorization(credentials: Credentials): string
  /** A GraphQL-over-HTTP client (graphql-http) acting as the tenant. */
  client(credentials: Credentials): HttpClient
  /** A GraphQL-over-SSE client (graphql-sse, distinct connections) acting as the tenant. */
  sse(credentials: Credentials): SseClient
  /**
   * Another gateway server over the same table, sandboxes and public base URL (so its tokens have the same issuer
   * and audience), with some configuration changed: a key rotation's next step, other token settings.
   */
  sibling(overrides: Partial<GatewayConfig>): Promise<{ gateway: Gateway; url: string; close(): Promise<void> }>
  close(): Promise<void>
}

export interface StackOptions {
  readonly finqware?: FinqwareSandboxOptions
  readonly worldline?: WorldlineSandboxOptions
  readonly subscriptionPollIntervalMs?: number
  readonly subscriptionMaxSeconds?: number
  /** How long a verified API credential is trusted before it is checked again (default 60 s). */
  readonly authCacheTtlMs?: number
  /** The gateway's logger (tests that read what was logged pass a recording one). */
  readonly logger?: Logger
  /** The gateway's clock (the sandboxes keep their own); tests of deadlines move it. */
  readonly clock?: () => Date
  /** Deadlines, re-checks and delivery settings (defaults: LIFECYCLE_DEFAULTS). */
  readonly lifecycle?: GatewayConfig['lifecycle']
  /** Serve GraphiQL (offline page), pre-filled with tenant A's credentials for our own loopback host:port. */
  readonly graphiql?: boolean
  /**
   * The DynamoDB Local to make the table in: one of the caller's own, to stop and restart under the gateway, or to run
   * outside vitest (bench/).
   * @default the test run's shared DynamoDB Local
   */
  readonly dynamoEndpoint?: string
  /** The gateway server's timeouts and connection cap (defaults: local/http-server.ts). */
  readonly http?: Partial<HttpLimits>
  /** Web origins whose scripts may read the API's answers (CORS); none unless given. */
  readonly corsAllowedOrigins?: readonly string[]
  /** Token lifetimes and caches (defaults: TOKEN_DEFAULTS). */
  readonly tokens?: Partial<TokenSettings>
  /** How long tenants' registered web origins are cached (defaults: WEB_ORIGIN_DEFAULTS). */
  readonly webOrigins?: WebOriginSettings
  /** Local mode's in-process request limits (defaults: service/rate-limiter.ts). */
  readonly rateLimits?: GatewayConfig['rateLimits']
  /** GraphQL over WebSocket's limits (defaults: local/graphql-ws-server.ts). */
  readonly webSocket?: LocalGatewayOptions['webSocket']
  /** Apollo's multipart subscriptions (heartbeat; defaults: schema/apollo-multipart.ts). */
  readonly apolloMultipart?: LocalGatewayOptions['apolloMultipart']
}

const portOf = (url: string) => Number(new URL(url).port)

const tenant = (name: string): Credentials => ({
  tenantId: `01JD0TENANT${name.padEnd(15, '0')}`.slice(0, 26),
  clientId: `client-${name.toLowerCase()}`,
  clientSecret: `secret-${name.toLowerCase()}-0123456789abcdef`,
})

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const table = await createTestTable(options.dynamoEndpoint)
  const finqware = await startFinqwareSandbox({
    activationDelayMs: 50,
    webhookRetry: { baseDelayMs: 50, maxDelayMs: 500 },
    controlSecret: SANDBOX_CONTROL_SECRET,
    ...options.finqware,
  })
  const worldline = await startWorldlineHarness({ sandbox: options.worldline ?? {} })
  const reserved = await reservePort()
  const port = reserved.port
  const publicBaseUrl = `http://127.0.0.1:${port}`
  // Yapily sends the browser to our per-consent callbacks and its webhooks to our endpoint.
  const signingKeys = [newSigningKey()]
  const yapily = await startYapilyHarness({
    callbackPrefix: `${publicBaseUrl}/callbacks/yapily/`,
    webhookUrl: `${publicBaseUrl}/webhooks/yapily`,
  })
  const config: GatewayConfig = {
    tableName: table.tableName,
    dynamoEndpoint: table.endpoint,
    publicBaseUrl,
    cursorSecret: 'test-cursor-secret-0123456789abcdef',
    userReferenceKey: 'test-user-reference-key-0123456789abcdef',
    localMode: true,
    subscriptionPollIntervalMs: options.subscriptionPollIntervalMs ?? 100,
    subscriptionMaxSeconds: options.subscriptionMaxSeconds ?? 30,
    authCacheTtlMs: options.authCacheTtlMs ?? 60_000,
    tokenEncryptionKeys: `test-key:${randomBytes(32).toString('base64')}`,
    tokenSigningKeys: JSON.stringify(signingKeys),
    tokens: options.tokens,
    webOrigins: options.webOrigins,
    rateLimits: options.rateLimits,
    lifecycle: options.lifecycle,
    // As npm start: no partner webhook may reach the stack's own servers (the gateway's port comes from its URL).
    ownPorts: [finqware.url, worldline.sandbox.url, yapily.sandbox.url, table.endpoint ?? ''].map(portOf),
    providers: {
      finqware: {
        baseUrl: finqware.url,
        pathPrefix: '/v2',
        clientId: 'sandbox-client',
        clientSecret: 'sandbox-secret',
      },
      worldline: worldline.adapterConfig,
      yapily: yapily.adapterConfig,
    },
  }
  const gateway = createGateway(config, {
    db: table.db,
    logger: options.logger ?? (process.env.STACK_LOG ? createLogger() : silentLogger),
    ...(options.clock ? { clock: options.clock } : {}),
  })
  const tenantA = tenant('ALPHA')
  const tenantB = tenant('BRAVO')
  for (const [credentials, name] of [
    [tenantA, 'Alpha'],
    [tenantB, 'Bravo'],
  ] as const) {
    await provisionApiClient(gateway.access, { ...credentials, tenantName: name }, new Date())
  }
  const authorization = (credentials: Credentials) =>
    `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`
  const serve = async (served: Gateway, port?: number) =>
    serveGateway(served, {
      port,
      ...options.http,
      ...(options.webSocket ? { webSocket: options.webSocket } : {}),
      ...(options.apolloMultipart ? { apolloMultipart: options.apolloMultipart } : {}),
      corsAllowedOrigins: options.corsAllowedOrigins ?? [],
      graphiql:
        options.graphiql && port !== undefined
          ? {
              defaultHeaders: { Authorization: authorization(tenantA) },
              trustedHosts: loopbackHosts(port),
              render: (await import('@graphql-yoga/render-graphiql')).renderGraphiQL,
            }
          : false,
    })
  await reserved.release()
  const http = await serve(gateway, port)
  const graphqlUrl = `${http.url}/graphql`
  const siblings: GatewayHttpServer[] = []

  return {
    table,
    finqware,
    worldline: worldline.sandbox,
    yapily: yapily.sandbox,
    gateway,
    http,
    graphqlUrl,
    wsUrl: graphqlUrl.replace(/^http/, 'ws'),
    tokenUrl: `${http.url}/oauth/token`,
    jwksUrl: `${http.url}/.well-known/jwks.json`,
    signingKeys,
    tenantA,
    tenantB,
    authorization,
    client: (credentials) =>
      createHttpClient({ url: graphqlUrl, headers: { authorization: authorization(credentials) } }),
    sse: (credentials) =>
      createSseClient({
        url: graphqlUrl,
        singleConnection: false,
        headers: { authorization: authorization(credentials) },
        retryAttempts: 0,
      }),
    async sibling(overrides) {
      const served = createGateway(
        { ...config, ...overrides },
        { db: table.db, logger: gateway.logger, ...(options.clock ? { clock: options.clock } : {}) },
      )
      const server = await serve(served)
      siblings.push(server)
      return { gateway: served, url: server.url, close: () => server.close() }
    },
    async close() {
      for (const sibling of siblings) await sibling.close()
      await http.close()
      await finqware.close()
      await worldline.teardown()
      await yapily.teardown()
    },
  }
}

/** Runs one operation with a graphql-http client and returns its result (errors included, never thrown). */
export function execute<T = Record<string, any>>(
  client: HttpClient,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: T | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }> {
  return new Promise((resolve, reject) => {
    let result:
      { data?: T | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] } | undefined
    client.subscribe(
      { query, ...(variables ? { variables } : {}) },
      {
        next: (value) => (result = value as typeof result),
        error: (error) => {
          // graphql-http reports a non-2xx answer (a request error, 400) as a NetworkError holding the Response:
          // its body is still the GraphQL result.
          const response = (error as { response?: Response } | undefined)?.response
          if (response instanceof Response) {
            response.json().then((body) => resolve(body as typeof result & object), reject)
          } else {
            reject(error instanceof Error ? error : new Error(JSON.stringify(error)))
          }
        },
        complete: () => resolve(result ?? {}),
      },
    )
  })
}

/** Opens the sandbox's hosted bank page, as the user arriving at the bank does. */
export async function openBankPage(url: string): Promise<string> {
  const page = await fetch(url)
  if (page.status !== 200) throw new Error(`bank page answered ${page.status}`)
  return page.text()
}

/** Presses Approve or Deny on the bank page, as a browser form post does; the redirect back is not followed. */
export const decideAtBank = (url: string, decision: 'approve' | 'deny', typed: Record<string, string> = {}) =>
  submitBankDecision(url, decision, typed)

/** Where the browser went next: a redirect's status and target (null when the answer was a page). */
export interface BrowserHop {
  readonly status: number
  readonly location: string | null
  readonly headers: Headers
}

/**
 * Follows one redirect as the browser does (e.g. the bank's, to the gateway's callback) and reports where the answer
 * sends the browser next, without following that.
 */
export async function follow(location: string | null): Promise<BrowserHop> {
  if (!location) throw new Error('there is no redirect to follow')
  const response = await fetch(location, { redirect: 'manual' })
  await response.arrayBuffer()
  return { status: response.status, location: response.headers.get('location'), headers: response.headers }
}

/** The query of a redirect target, as a plain object (to compare exactly what a partner page receives). */
export const queryOf = (location: string | null): Record<string, string> =>
  Object.fromEntries(new URL(location ?? 'invalid:').searchParams)

/** Polls `probe` (vitest's `vi.waitFor`) until it returns a truthy value (end-to-end flows settle asynchronously). */
export async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await probe()
      if (!value) throw new Error(`condition not met within ${timeoutMs} ms`)
      return value
    },
    { timeout: timeoutMs, interval: 50 },
  )
}
