// Child process of the consent-get suite (forked by server-process.ts): the real gateway HTTP server (and the same
// gateway with its GraphQL fast path off) and two baselines, a raw node:http handler and a minimal yoga + Pothos server,
// in one process against one DynamoDB Local, so subject and baselines share everything but the code between the socket
// and GetItem.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { getRequestListener } from '@hono/node-server'
import { decodePublicId, encodePublicId } from '../domain/ids.ts'
import { notificationFor } from '../domain/notification.ts'
import { serveGateway } from '../local/http-server.ts'
import { startFinqwareSandbox, type FinqwareSandbox } from '../sandbox/finqware/server.ts'
import type { GatewayConfig } from '../service/config.ts'
import { createGateway } from '../composition/gateway.ts'
import { silentLogger } from '../runtime/logging.ts'
import { newSigningKey } from '../crypto/token-keys.ts'
import { provisionApiClient } from '../service/tenants.ts'
import { createDocumentClient, createDynamoClient } from '../store/client.ts'
import { ConsentRepository } from '../store/consent-repository.ts'
import { keys } from '../store/keys.ts'
import { ensureTable } from '../store/table-admin.ts'
import { cannedStore, type CannedStore } from './canned-store.ts'
import { minimalConsentYoga } from './fixtures/minimal-consent-yoga.ts'
import { BENCH_CLIENT, BENCH_TENANT_ID, benchConsent, benchConsentCreated } from './consent-fixture.ts'
import { SETUP_ENV, type ChildMessage, type ParentMessage, type ServersSetup } from './server-process.ts'

const MAX_BODY_BYTES = 65_536

const stops: (() => Promise<unknown>)[] = []
let stopping: Promise<never> | null = null
/** With `--store canned`: how many requests it answered and passed on, told at exit (a run can see the mode worked). */
let canned: CannedStore | null = null

function tell(message: ChildMessage): void {
  process.send?.(message)
}

/** Closes everything in reverse start order, then exits (which also writes a --cpu-prof profile). */
function stopAndExit(code: number): Promise<never> {
  stopping ??= (async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined)
    const counts = canned?.counts()
    if (counts) console.error(`canned store: ${counts.canned} GetItem answered in process, ${counts.passed} passed on`)
    process.exit(code)
  })()
  return stopping
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  })
}

function sendJson(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'application/graphql-response+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}

/**
 * The baseline: read the body, take the id from its variables, one eventually consistent GetItem with the
 * document client, answer the same JSON the gateway gives. No auth, no GraphQL: the least a server must do.
 */
function rawHandler(db: DynamoDBDocumentClient, tableName: string) {
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_BODY_BYTES) return sendJson(response, 413, '{"error":"payload_too_large"}')
      chunks.push(chunk)
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables?: { id?: unknown } }
    const decoded = decodePublicId(String(body.variables?.id))
    if (!decoded || decoded.type !== 'Consent') return sendJson(response, 400, '{"error":"bad_id"}')
    const { Item } = await db.send(
      new GetCommand({ TableName: tableName, Key: keys.consent(BENCH_TENANT_ID, decoded.id), ConsistentRead: false }),
    )
    if (!Item) return sendJson(response, 404, '{"error":"not_found"}')
    const consent = { id: encodePublicId('Consent', String(Item.id)), status: Item.status, version: Item.version }
    sendJson(response, 200, JSON.stringify({ data: { consent } }))
  }
  return (request: IncomingMessage, response: ServerResponse): void => {
    answer(request, response).catch(() => {
      if (!response.headersSent) sendJson(response, 500, '{"error":"internal_error"}')
      else response.destroy()
    })
  }
}

async function main(setup: ServersSetup): Promise<void> {
  const dynamoClient = createDynamoClient({ endpoint: setup.dynamoEndpoint })
  if (setup.store === 'canned') canned = cannedStore(dynamoClient)
  stops.push(async () => dynamoClient.destroy())
  await ensureTable(dynamoClient, setup.tableName)
  // One document client for both servers: same connection pool, same marshalling settings.
  const db = createDocumentClient(dynamoClient)

  let finqware: FinqwareSandbox | null = null
  if (setup.providers === 'finqware') {
    finqware = await startFinqwareSandbox()
    const sandbox = finqware
    stops.push(() => sandbox.close())
  }

  const config: GatewayConfig = {
    tableName: setup.tableName,
    dynamoEndpoint: setup.dynamoEndpoint,
    publicBaseUrl: 'http://127.0.0.1:1',
    cursorSecret: 'bench-cursor-secret-0123456789abcdef',
    userReferenceKey: 'bench-user-reference-key-0123456789abcdef',
    localMode: true,
    subscriptionPollIntervalMs: 1_000,
    subscriptionMaxSeconds: 900,
    authCacheTtlMs: 60_000,
    tokenSigningKeys: JSON.stringify([newSigningKey()]),
    // One token serves the whole run, however long its warm-up: an hour, rather than the default 15 minutes.
    tokens: { clientTokenTtlSeconds: 3_600 },
    providers: finqware
      ? {
          finqware: {
            baseUrl: finqware.url,
            pathPrefix: '/v2',
            clientId: 'sandbox-client',
            clientSecret: 'sandbox-secret',
          },
        }
      : {},
  }
  const gateway = createGateway(config, { db, logger: silentLogger })

  const now = new Date()
  await provisionApiClient(gateway.access, { ...BENCH_CLIENT, tenantId: BENCH_TENANT_ID, tenantName: 'Bench' }, now)
  const consent = benchConsent(now)
  const created = benchConsentCreated(consent)
  await new ConsentRepository(db, setup.tableName).create(consent, created, notificationFor(created, consent))

  // Wired as local/main.ts and test/support/stack.ts wire it.
  const http = await serveGateway(gateway)
  stops.push(() => http.close())
  // The same gateway with its GraphQL fast path off: what the fast path saves shows within one run.
  const yogaOnly = await serveGateway(gateway, { graphqlFastPath: false })
  stops.push(() => yogaOnly.close())

  const raw = createServer(rawHandler(db, setup.tableName))
  const rawUrl = await listen(raw)
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        raw.close(() => resolve())
        raw.closeAllConnections()
      }),
  )

  // The same GetItem through yoga + Pothos alone: no authentication, limits or plugins. Served as the gateway is, through
  // @hono/node-server with yoga's answer re-made from its text (http/graphql.ts), so the two differ only in our features:
  // yoga's own node:http adapter writes its answer's stream chunk by chunk and would make the baseline slower.
  const minimalYoga = minimalConsentYoga(db, setup.tableName)
  const minimalListener = getRequestListener(async (request) => {
    const answer = await minimalYoga.fetch(request)
    // Its headers copied: yoga's own Headers class is not one @hono/node-server's Response can take.
    return new Response(await answer.text(), { status: answer.status, headers: Object.fromEntries(answer.headers) })
  })
  const minimal = createServer((request, response) => void minimalListener(request, response))
  const minimalUrl = await listen(minimal)
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        minimal.close(() => resolve())
        minimal.closeAllConnections()
      }),
  )

  const authorization = `Basic ${Buffer.from(`${BENCH_CLIENT.clientId}:${BENCH_CLIENT.clientSecret}`).toString('base64')}`
  // The bearer token as a partner gets it: client credentials at the gateway's token endpoint.
  const answer = await fetch(`${http.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  })
  const token = (await answer.json()) as { access_token?: string }
  if (answer.status !== 200 || !token.access_token) {
    throw new Error(`the token endpoint answered ${answer.status}: ${JSON.stringify(token)}`)
  }
  tell({
    type: 'ready',
    gatewayUrl: `${http.url}/graphql`,
    rawUrl: `${rawUrl}/consent`,
    minimalUrl: `${minimalUrl}/graphql`,
    yogaOnlyUrl: `${yogaOnly.url}/graphql`,
    authorization,
    bearerAuthorization: `Bearer ${token.access_token}`,
  })
}

if (!process.send) {
  console.error('bench/servers.ts is started by bench/run.ts (it needs an IPC channel)')
  process.exit(2)
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage()
    tell({ type: 'cpu', id: message.id, userMicros: user, systemMicros: system })
  } else if (message.type === 'stop') {
    void stopAndExit(0)
  }
})
// The parent went away (crash, kill -9): nobody will ask us to stop.
process.on('disconnect', () => void stopAndExit(0))
// Ctrl-C reaches the whole process group; the parent orders the shutdown (it is mid-measurement and must see it).
process.on('SIGINT', () => undefined)
process.on('SIGTERM', () => void stopAndExit(0))

const setup = JSON.parse(process.env[SETUP_ENV] ?? 'null') as ServersSetup | null
if (!setup) {
  tell({ type: 'failed', message: `${SETUP_ENV} is not set` })
  process.exit(2)
}
main(setup).catch(async (error: unknown) => {
  tell({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  await stopAndExit(1)
})
