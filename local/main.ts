// `npm start`: the whole system on one machine: DynamoDB Local (data under .data/ unless --in-memory), the table,
// the three provider sandboxes (their state beside the gateway's), the GraphQL server with GraphiQL, the provider
// webhook receivers, the jobs on timers, the local controls (gateway clock, "done" page) and a demo tenant with an API
// client. It leaves a runtime file in the data directory, so `npm run admin` finds it. Ctrl-C or SIGTERM stops
// everything, the Java process included.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { createPublicKey } from 'node:crypto'
import { hostname, userInfo } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureTable } from '../store/table-admin.ts'
import { createDynamoClient, createDocumentClient } from '../store/client.ts'
import { startFinqwareSandbox } from '../sandbox/finqware/server.ts'
import { startWorldlineSandbox } from '../sandbox/worldline/server.ts'
import { startYapilySandbox } from '../sandbox/yapily/server.ts'
import { createGateway } from '../composition/gateway.ts'
import { startJobTimers } from './jobs.ts'
import { serveGateway } from './http-server.ts'
import { JavaUnavailableError, startDynamoDBLocal, type DynamoDBLocal } from './dynamodb-local.ts'
import { loadLocalSecrets, demoCredentials } from './local-secrets.ts'
import { printBanner } from './banner.ts'
import { createTenantAdmin } from '../composition/tenant-admin.ts'
import { writeRuntimeFile } from './runtime-file.ts'
import { isOriginList, type GatewayConfig } from '../service/config.ts'
import { loopbackHosts } from './loopback.ts'
import { OffsetClock } from './offset-clock.ts'
import { DONE_PATH, localRoutes } from './local-routes.ts'
import { listenAddresses } from './listen-address.ts'
import { GRAPHIQL_TABS } from './graphiql-tabs.ts'
import { renderGraphiQL } from '@graphql-yoga/render-graphiql'

const EXIT_JAVA_MISSING = 3
const EXIT_START_FAILED = 1

const { values: args } = parseArgs({
  options: {
    'in-memory': { type: 'boolean', default: false },
    port: { type: 'string' },
    'data-dir': { type: 'string', default: '.data' },
  },
})

const port = Number(args.port ?? process.env.PORT ?? 4000)
const finqwarePort = Number(process.env.FINQWARE_SANDBOX_PORT ?? port + 10)
const worldlinePort = Number(process.env.WORLDLINE_SANDBOX_PORT ?? port + 20)
const yapilyPort = Number(process.env.YAPILY_SANDBOX_PORT ?? port + 30)
const inMemory = args['in-memory'] ?? false
const dataDir = args['data-dir'] ?? '.data'
const TABLE_NAME = process.env.TABLE_NAME ?? 'consent-gateway'
const DEMO_TENANT_ID = '01JD0DEM0TENANT000000000000'
const WORLDLINE_CLIENT = { clientId: 'consent-gateway-local', keyId: 'local-key' }
/** The Initiating Party id `npm start` sends (any digits pass the sandbox). */
const WORLDLINE_INITIATING_PARTY = { initiatingPartyId: '433', initiatingPartySubId: '5' }
const YAPILY_APPLICATION = { key: 'consent-gateway-local', id: 'consent-gateway-local' }
/**
 * Yapily's webhook signature header and consent event type, both our guesses (docs/providers.md, Yapily): the sandbox
 * and the gateway are given the same, from the gateway's own variables when set.
 * @default { signatureHeader: 'X-Yapily-Signature', consentEventType: 'consent.status' }
 */
const YAPILY_WEBHOOKS = {
  signatureHeader: process.env.YAPILY_WEBHOOK_SIGNATURE_HEADER || 'X-Yapily-Signature',
  consentEventType: process.env.YAPILY_WEBHOOK_EVENT_TYPE || 'consent.status',
}

const stops: (() => Promise<void>)[] = []
let stopping = false

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true
    for (const stop of stops.reverse()) await stop().catch(() => undefined)
  }
  process.exit(code)
}

/** Where a sandbox keeps its state: beside the gateway's table, or nowhere with --in-memory. */
const stateFileOf = (name: string) => (inMemory ? {} : { stateFile: join(dataDir, 'sandboxes', `${name}.json`) })

async function main(): Promise<void> {
  const listen = listenAddresses(process.env.HOST)
  let dynamo: DynamoDBLocal
  try {
    dynamo = await startDynamoDBLocal({ dbPath: inMemory ? null : `${dataDir}/dynamodb` })
  } catch (error) {
    if (error instanceof JavaUnavailableError) {
      console.error(`\nconsent-gateway cannot start: ${error.message}\n`)
      process.exit(EXIT_JAVA_MISSING)
    }
    throw error
  }
  stops.push(() => dynamo.stop())

  const dynamoClient = createDynamoClient({ endpoint: dynamo.endpoint })
  await ensureTable(dynamoClient, TABLE_NAME)

  const secrets = await loadLocalSecrets(inMemory ? null : dataDir)
  const sandboxCommon = { host: listen.host, publicHost: listen.publicHost, controlSecret: secrets.controlSecret }
  // Bearer mode, as Finqware's production runs (the body secret is its test-only mode), so npm start exercises the
  // token fetch, cache and renewal the deployed gateway depends on.
  const finqware = await startFinqwareSandbox({
    port: finqwarePort,
    ...sandboxCommon,
    ...stateFileOf('finqware'),
    authMode: 'oauth2',
  })
  stops.push(() => finqware.close())

  // Worldline authenticates token requests with our key's HTTP signature; the key is kept with the local secrets.
  const worldline = await startWorldlineSandbox({
    port: worldlinePort,
    ...sandboxCommon,
    ...stateFileOf('worldline'),
    clients: [
      {
        ...WORLDLINE_CLIENT,
        publicKeyPem: createPublicKey(secrets.worldlinePrivateKeyPem)
          .export({ type: 'spki', format: 'pem' })
          .toString(),
      },
    ],
    notificationToken: secrets.worldlineNotificationToken,
  })
  stops.push(() => worldline.close())

  const publicBaseUrl = `http://${listen.publicHost}:${port}`
  // Yapily sends the browser to our per-consent callbacks (registered as one trailing-slash entry) and, once our
  // webhook is registered, its consent events to us.
  const yapilyApp = { ...YAPILY_APPLICATION, secret: secrets.yapilyApplicationSecret }
  const yapily = await startYapilySandbox({
    port: yapilyPort,
    ...sandboxCommon,
    ...stateFileOf('yapily'),
    applications: [yapilyApp],
    callbacks: [`${publicBaseUrl}/callbacks/yapily/`],
    webhookSignatureHeader: YAPILY_WEBHOOKS.signatureHeader,
    consentEventType: YAPILY_WEBHOOKS.consentEventType,
  })
  stops.push(() => yapily.close())
  const yapilyWebhookSecret = await registerYapilyWebhook(yapily.url, yapilyApp, `${publicBaseUrl}/webhooks/yapily`)

  const clock = OffsetClock.load(inMemory ? null : join(dataDir, 'gateway-clock.json'))
  const config: GatewayConfig = {
    tableName: TABLE_NAME,
    dynamoEndpoint: dynamo.endpoint,
    publicBaseUrl,
    cursorSecret: secrets.cursorSecret,
    userReferenceKey: secrets.userReferenceKey,
    localMode: true,
    // No partner webhook may reach the stack's own servers (the gateway's port is added from publicBaseUrl).
    ownPorts: [finqware.url, worldline.url, yapily.url, dynamo.endpoint].map((url) => Number(new URL(url).port)),
    subscriptionPollIntervalMs: 500,
    subscriptionMaxSeconds: 900,
    authCacheTtlMs: 60_000,
    tokenEncryptionKeys: secrets.tokenEncryptionKeys,
    tokenSigningKeys: secrets.tokenSigningKeys,
    providers: {
      finqware: {
        baseUrl: finqware.url,
        pathPrefix: '/v2',
        clientId: 'sandbox-client',
        clientSecret: 'sandbox-secret',
        authMode: 'oauth2',
      },
      worldline: {
        baseUrl: worldline.url,
        ...WORLDLINE_CLIENT,
        ...WORLDLINE_INITIATING_PARTY,
        privateKeyPem: secrets.worldlinePrivateKeyPem,
        notificationToken: secrets.worldlineNotificationToken,
      },
      yapily: {
        baseUrl: yapily.url,
        applicationKey: yapilyApp.key,
        applicationSecret: yapilyApp.secret,
        webhookSecret: yapilyWebhookSecret,
        webhookSignatureHeader: YAPILY_WEBHOOKS.signatureHeader,
        webhookConsentEventType: YAPILY_WEBHOOKS.consentEventType,
      },
    },
  }
  const gateway = createGateway(config, { db: createDocumentClient(dynamoClient), clock: clock.now })

  // Through administration, as an operator would: logged when it changes something (the first run, a new secret).
  const demo = demoCredentials(secrets, process.env)
  await createTenantAdmin(gateway.db, TABLE_NAME).provisionClient(
    { tenantId: DEMO_TENANT_ID, tenantName: 'Demo partner', clientId: demo.clientId, clientSecret: demo.clientSecret },
    `npm start (${localOperator()})`,
  )
  const authorization = `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`

  const doneUrl = `${publicBaseUrl}${DONE_PATH}`
  const jobs = startJobTimers(gateway)
  const http = await serveGateway(gateway, {
    port,
    host: listen.host,
    graphiql: {
      defaultHeaders: { Authorization: authorization },
      // Only a browser on this machine, asking by our loopback name, gets the page with the demo credentials.
      trustedHosts: listen.loopback ? loopbackHosts(port) : [],
      tabs: GRAPHIQL_TABS(doneUrl),
      render: renderGraphiQL,
    },
    corsAllowedOrigins: corsOrigins(process.env.CORS_ALLOWED_ORIGINS),
    ...(process.env.MAX_CONNECTIONS_PER_ADDRESS
      ? {
          maxConnectionsPerAddress: positiveInteger(
            'MAX_CONNECTIONS_PER_ADDRESS',
            process.env.MAX_CONNECTIONS_PER_ADDRESS,
          ),
        }
      : {}),
    extraRoutes: localRoutes({
      clock,
      controlSecret: secrets.controlSecret,
      sandboxes: [
        { name: 'finqware', advance: (ms) => finqware.clock.advance(ms) },
        { name: 'worldline', advance: (ms) => worldline.clock.advance(ms) },
        { name: 'yapily', advance: (ms) => yapily.clock.advance(ms) },
      ],
      sweepNow: () => gateway.jobs.sweepDeadlines(),
      runJobsNow: () => jobs.runNow(),
    }),
  })
  // Stopped in reverse: the jobs first (their runs finish), then the server.
  stops.push(() => http.close())
  stops.push(() => jobs.stop())

  const localUrl = `http://${listen.loopback ? '127.0.0.1' : listen.publicHost}:${port}`
  const removeRuntimeFile = writeRuntimeFile(dataDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dynamoEndpoint: dynamo.endpoint,
    tableName: TABLE_NAME,
    graphqlUrl: `${localUrl}/graphql`,
    inMemory,
  })
  stops.push(async () => removeRuntimeFile())
  printBanner({
    graphqlUrl: `${localUrl}/graphql`,
    networkUrl: listen.exposed ? `${publicBaseUrl}/graphql` : null,
    doneUrl,
    clockUrl: `${localUrl}/local/clock`,
    clientId: demo.clientId,
    clientSecret: demo.clientSecret,
    controlSecret: secrets.controlSecret,
    finqwareUrl: finqware.url,
    worldlineUrl: worldline.url,
    yapilyUrl: yapily.url,
    dynamoEndpoint: dynamo.endpoint,
    dataLocation: inMemory ? 'in memory (gone when stopped)' : `${dataDir}/ (table, sandboxes, gateway clock)`,
    clockOffsetMs: clock.offsetMs,
    credentialsPrefilled: listen.loopback,
  })
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping consent-gateway...`)
    void stopAll(0)
  })
}

/** Who runs this: the OS user at this host (what the admin log records for the demo tenant's seeding). */
function localOperator(): string {
  let user = process.env.USER ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // No passwd entry for this uid (some containers): the environment's USER stands in.
  }
  return `${user}@${hostname()}`
}

function positiveInteger(name: string, value: string): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name}: expected a positive integer, got ${value}`)
  return parsed
}

/** The web origins CORS_ALLOWED_ORIGINS names, good for every tenant (tenants register their own); none by default. */
function corsOrigins(value: string | undefined): string[] {
  if (!value) return []
  if (!isOriginList(value)) {
    throw new Error(`CORS_ALLOWED_ORIGINS: expected origins (scheme://host[:port]), comma-separated`)
  }
  return value.split(',')
}

/**
 * Registers our webhook at the Yapily sandbox the way a partner does once in Yapily's console: the secret comes back
 * once. A sandbox that kept its state since the last run still has our old registration (whose secret we do not
 * keep): it is replaced, so events go to one endpoint, signed with the secret we hold.
 */
async function registerYapilyWebhook(baseUrl: string, app: { key: string; secret: string; id: string }, url: string) {
  const headers = {
    authorization: `Basic ${Buffer.from(`${app.key}:${app.secret}`).toString('base64')}`,
    'content-type': 'application/json',
  }
  const listed = await fetch(`${baseUrl}/webhook/events`, { headers })
  if (!listed.ok) throw new Error(`Yapily sandbox refused to list our webhooks (${listed.status})`)
  for (const old of ((await listed.json()) as { data: { active: { id: string }[] } }).data.active) {
    await fetch(`${baseUrl}/webhook/events/${encodeURIComponent(old.id)}`, { method: 'DELETE', headers })
  }
  const response = await fetch(`${baseUrl}/webhook/events`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      applicationId: app.id,
      categories: [YAPILY_WEBHOOKS.consentEventType],
      callbackUrl: { main: { url } },
    }),
  })
  if (!response.ok) throw new Error(`Yapily sandbox refused our webhook (${response.status})`)
  return ((await response.json()) as { data: { webhookSecret: string } }).data.webhookSecret
}

main().catch(async (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error)
  const inUse = (error as { code?: string } | null)?.code === 'EADDRINUSE'
  console.error(`\nconsent-gateway failed to start: ${inUse ? `${message} (set PORT to another port)` : message}\n`)
  await stopAll(EXIT_START_FAILED)
})
