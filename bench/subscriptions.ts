// Suite subscriptions: consentUpdated watchers fed by the one poll of the change feed, in one local process (the
// gateway over an in-memory DynamoDB Local, its HTTP server on loopback), at the same rate of consent changes for
// every number of watchers: store reads per tick (from a DynamoDB client that counts commands), process CPU,
// notification latency after each commit (p50, p99), RSS per 1,000 watchers; ratios against the first row.
// Watchers come from a pluggable transport: in-process iterators (the hub alone), SSE and graphql-ws over loopback.
// SSE clients run in the server's process (CPU and RSS include their share); graphql-ws clients in a child process.
// Row sizes: env BENCH_SUBSCRIPTION_WATCHERS (default "10,100,1000,10000" iterator watchers), BENCH_SUBSCRIPTION_SSE
// (default "1000" SSE watchers) and BENCH_SUBSCRIPTION_WS (default "10,100,1000,10000" graphql-ws watchers); changes
// per second: BENCH_SUBSCRIPTION_RATE (default 20).
import { fork, type ChildProcess } from 'node:child_process'
import { request, type ClientRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { monotonicFactory, ulid } from 'ulid'
import { addDays, newConsentEvent, type Consent } from '../domain/consent.ts'
import { encodePublicId } from '../domain/ids.ts'
import { notificationFor } from '../domain/notification.ts'
import { startDynamoDBLocal } from '../local/dynamodb-local.ts'
import { serveGateway, type GatewayHttpServer } from '../local/http-server.ts'
import type { GatewayConfig } from '../service/config.ts'
import { createGateway, type Gateway } from '../composition/gateway.ts'
import { silentLogger } from '../runtime/logging.ts'
import { provisionApiClient } from '../service/tenants.ts'
import { newSigningKey } from '../crypto/token-keys.ts'
import { createDocumentClient, createDynamoClient } from '../store/client.ts'
import { ConsentRepository } from '../store/consent-repository.ts'
import { ensureTable } from '../store/table-admin.ts'
import { BENCH_CLIENT, BENCH_TABLE, BENCH_TENANT_ID, benchConsent } from './consent-fixture.ts'
import type { BenchSettings, Figure, Suite, SuiteResult } from './suite.ts'
import { fixed, renderTable } from './table.ts'

/** The poll interval measured (the gateway's default). The latency goal is this plus 250 ms. */
const POLL_INTERVAL_MS = 1_000
/**
 * Consents watched: each watcher its own up to this many, then several per consent. The changes go round the watched
 * ones, so every change has watchers at every size.
 */
const WATCHED_CONSENTS = 1_000
const READ_COMMANDS = new Set(['QueryCommand', 'BatchGetItemCommand', 'GetItemCommand', 'ScanCommand'])

const listOf = (value: string | undefined, fallback: number[]) =>
  value === undefined
    ? fallback
    : value
        .split(',')
        .map((part) => Number(part.trim()))
        .filter((n) => Number.isInteger(n) && n > 0)

/** What a watcher reports: a consent version it was shown, and when. */
type Seen = (consentId: string, version: number, at: number) => void

/** One open watcher: closing it ends its subscription. */
interface Watcher {
  close(): void
}

/**
 * How watchers subscribe. `open` resolves once the watcher has the consent's current state. A transport added later
 * is one more entry of {@link TRANSPORTS}.
 */
interface WatcherTransport {
  readonly name: string
  open(env: BenchEnv, consent: Consent, seen: Seen): Promise<Watcher>
  /** Ends what the transport started beside the watchers (a process of clients). */
  shutdown?(): void
}

interface BenchEnv {
  readonly gateway: Gateway
  readonly http: GatewayHttpServer
  readonly authorization: string
}

/** The hub alone: `consentUpdated`'s iterator, as the resolver gets it, with no transport. */
const iteratorTransport: WatcherTransport = {
  name: 'iterator',
  open(env, consent, seen) {
    const controller = new AbortController()
    const stream = env.gateway.watcher.watch(consent, { deadline: Date.now() + 3_600_000, signal: controller.signal })
    return new Promise((resolve, reject) => {
      let first = true
      void (async () => {
        for await (const item of stream) {
          seen(item.id, item.version, performance.now())
          if (first) resolve({ close: () => controller.abort() })
          first = false
        }
      })().catch(reject)
    })
  },
}

/** `consentUpdated` over SSE (graphql-sse's distinct-connections mode), one HTTP request per watcher. */
const sseTransport: WatcherTransport = {
  name: 'sse',
  open(env, consent, seen) {
    const body = JSON.stringify({
      query: 'subscription ($id: ID!) { consentUpdated(id: $id) { id version status } }',
      variables: { id: encodePublicId('Consent', consent.id) },
    })
    return new Promise((resolve, reject) => {
      let first = true
      const req: ClientRequest = request(
        `${env.http.url}/graphql`,
        {
          method: 'POST',
          agent: false,
          headers: {
            authorization: env.authorization,
            accept: 'text/event-stream',
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          if (response.statusCode !== 200) return reject(new Error(`SSE subscribe answered ${response.statusCode}`))
          response.setEncoding('utf8')
          let buffer = ''
          response.on('data', (chunk: string) => {
            buffer += chunk
            let end: number
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const message = buffer.slice(0, end)
              buffer = buffer.slice(end + 2)
              const data = message
                .split('\n')
                .filter((line) => line.startsWith('data:'))
                .map((line) => line.slice(5).trim())
                .join('')
              if (!data) continue
              const parsed = JSON.parse(data) as { data?: { consentUpdated?: { version: number } }; errors?: unknown }
              const version = parsed.data?.consentUpdated?.version
              if (version === undefined) return reject(new Error(`SSE event without a consent: ${data}`))
              seen(consent.id, version, performance.now())
              if (first) resolve({ close: () => req.destroy() })
              first = false
            }
          })
          response.on('error', () => undefined)
        },
      )
      req.on('error', (error) => (first ? reject(error) : undefined))
      req.end(body)
    })
  },
}

/**
 * `consentUpdated` over graphql-ws: the `graphql-ws` client (with `ws`) on the same port and path as GraphQL, one
 * WebSocket per watcher as a phone holds one, authenticated by its `connection_init` payload. The clients live in a
 * child process (bench/ws-watchers.ts): the server's figures are its own, and 10,000 sockets' two ends do not have to
 * fit one process's file descriptors.
 */
function graphqlWsTransport(): WatcherTransport & { shutdown(): void } {
  let child: ChildProcess | null = null
  let nextId = 0
  const pending = new Map<number, { resolve: (watcher: Watcher) => void; reject: (error: Error) => void }>()
  const seenBy = new Map<number, { consentId: string; seen: Seen }>()
  const host = () => {
    if (child) return child
    child = fork(fileURLToPath(new URL('./ws-watchers.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    child.on(
      'message',
      (message: {
        opened?: number
        failed?: number
        seen?: number
        version?: number
        at?: number
        message?: string
      }) => {
        if (message.seen !== undefined) {
          const watcher = seenBy.get(message.seen)
          // Epoch ms from the child, onto this process's performance.now() scale.
          watcher?.seen(watcher.consentId, message.version ?? -1, (message.at ?? 0) - performance.timeOrigin)
        } else if (message.opened !== undefined) {
          const id = message.opened
          pending.get(id)?.resolve({ close: () => child?.send({ close: id }) })
          pending.delete(id)
        } else if (message.failed !== undefined) {
          pending.get(message.failed)?.reject(new Error(`graphql-ws watcher: ${message.message ?? 'failed'}`))
          pending.delete(message.failed)
        }
      },
    )
    return child
  }
  return {
    name: 'graphql-ws',
    open(env, consent, seen) {
      const id = nextId++
      seenBy.set(id, { consentId: consent.id, seen })
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        host().send({
          open: id,
          url: `${env.http.url.replace(/^http/, 'ws')}/graphql`,
          authorization: env.authorization,
          consentId: encodePublicId('Consent', consent.id),
        })
      })
    },
    shutdown() {
      child?.kill()
      child = null
    },
  }
}

/** Every transport the suite can measure, by name. */
const TRANSPORTS: Record<string, WatcherTransport> = {
  iterator: iteratorTransport,
  sse: sseTransport,
  'graphql-ws': graphqlWsTransport(),
}

interface Row {
  readonly transport: string
  readonly watchers: number
  readonly ticks: number
  readonly readsPerTick: number
  readonly queriesPerTick: number
  readonly batchGetsPerTick: number
  readonly changes: number
  readonly notifications: number
  readonly cpuPercent: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly rssMbPer1000: number
  readonly missed: number
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN) : NaN

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function measureRow(
  env: BenchEnv,
  repo: ConsentRepository,
  consents: Consent[],
  transport: WatcherTransport,
  watchers: number,
  settings: { durationSec: number; rate: number },
  counts: Map<string, number>,
  signal: AbortSignal,
  progress: (line: string) => void,
): Promise<Row> {
  const newId = monotonicFactory()
  const latencies: number[] = []
  /** When each (consent, version) committed, performance.now() ms. */
  const committed = new Map<string, number>()
  const lastSeen = new Map<Watcher, { consentId: string; version: number }>()
  let measuring = false
  const rssBefore = process.memoryUsage().rss
  const open: Watcher[] = []
  // Open in batches so the server is not flooded with handshakes at once.
  for (let start = 0; start < watchers; start += 100) {
    if (signal.aborted) break
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, watchers - start) }, (_, i) => {
        const consent = consents[(start + i) % consents.length] as Consent
        const mark = { consentId: consent.id, version: consent.version }
        let self: Watcher | null = null
        return transport
          .open(env, consent, (consentId, version, at) => {
            mark.version = Math.max(mark.version, version)
            const at0 = committed.get(`${consentId}#${version}`)
            if (measuring && at0 !== undefined) latencies.push(at - at0)
          })
          .then((watcher) => {
            self = watcher
            lastSeen.set(self, mark)
            return watcher
          })
      }),
    )
    open.push(...batch)
  }
  const rssPer1000 = ((process.memoryUsage().rss - rssBefore) / watchers) * 1000
  progress(`${transport.name} x ${watchers}: open; changing ${settings.rate} consents/s for ${settings.durationSec} s`)

  const ticks0 = env.gateway.watcher.stats.ticks
  counts.clear()
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  measuring = true
  let changes = 0
  const until = wall0 + settings.durationSec * 1000
  for (let next = wall0; next < until && !signal.aborted; next += 1000 / settings.rate) {
    await pause(Math.max(0, next - performance.now()))
    const index = changes % Math.min(watchers, consents.length)
    const current = consents[index] as Consent
    const status = current.status === 'ACTIVE' ? 'SUSPENDED' : 'ACTIVE'
    const updated: Consent = {
      ...current,
      status,
      version: current.version + 1,
      updatedAt: new Date().toISOString(),
    }
    const event = newConsentEvent(updated, current.status, {
      id: newId(),
      source: 'PROVIDER_WEBHOOK',
      initiator: 'provider:finqware',
    })
    await repo.update(updated, current.version, event, notificationFor(event, updated))
    committed.set(`${updated.id}#${updated.version}`, performance.now())
    consents[index] = updated
    changes++
  }
  // The last changes' notifications: one tick and its reads.
  await pause(POLL_INTERVAL_MS + 500)
  const wallMs = performance.now() - wall0
  const cpu = process.cpuUsage(cpu0)
  const ticks = env.gateway.watcher.stats.ticks - ticks0
  measuring = false
  const reads = [...counts].filter(([name]) => READ_COMMANDS.has(name)).reduce((sum, [, n]) => sum + n, 0)
  const finalVersion = new Map(consents.map((consent) => [consent.id, consent.version]))
  const missed = [...lastSeen.values()].filter((mark) => mark.version !== finalVersion.get(mark.consentId)).length

  for (const watcher of open) watcher.close()
  for (let i = 0; i < 100 && env.gateway.watcher.activeStreams > 0; i++) await pause(50)
  latencies.sort((a, b) => a - b)
  return {
    transport: transport.name,
    watchers,
    ticks,
    readsPerTick: reads / Math.max(1, ticks),
    queriesPerTick: (counts.get('QueryCommand') ?? 0) / Math.max(1, ticks),
    batchGetsPerTick: (counts.get('BatchGetItemCommand') ?? 0) / Math.max(1, ticks),
    changes,
    notifications: latencies.length,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    rssMbPer1000: rssPer1000 / 1024 / 1024,
    missed,
  }
}

async function run(
  settings: BenchSettings,
  signal: AbortSignal,
  progress: (line: string) => void,
): Promise<SuiteResult> {
  const env = process.env
  const iteratorSizes = listOf(env.BENCH_SUBSCRIPTION_WATCHERS, [10, 100, 1_000, 10_000])
  const sseSizes = listOf(env.BENCH_SUBSCRIPTION_SSE, [1_000])
  const wsSizes = listOf(env.BENCH_SUBSCRIPTION_WS, [10, 100, 1_000, 10_000])
  const rate = listOf(env.BENCH_SUBSCRIPTION_RATE, [20])[0] ?? 20
  const plan = [
    ...iteratorSizes.map((n) => ({ transport: 'iterator', watchers: n })),
    ...sseSizes.map((n) => ({ transport: 'sse', watchers: n })),
    ...wsSizes.map((n) => ({ transport: 'graphql-ws', watchers: n })),
  ]

  const dynamo = await startDynamoDBLocal({ dbPath: null })
  const counts = new Map<string, number>()
  const client = createDynamoClient({ endpoint: dynamo.endpoint })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName)
      counts.set(name, (counts.get(name) ?? 0) + 1)
      return next(args)
    },
    { step: 'initialize' },
  )
  let http: GatewayHttpServer | null = null
  try {
    await ensureTable(client, BENCH_TABLE)
    const db = createDocumentClient(client)
    const config: GatewayConfig = {
      tableName: BENCH_TABLE,
      dynamoEndpoint: dynamo.endpoint,
      publicBaseUrl: 'http://127.0.0.1:1',
      cursorSecret: 'bench-cursor-secret-0123456789abcdef',
      userReferenceKey: 'bench-user-reference-key-0123456789abcdef',
      localMode: true,
      subscriptionPollIntervalMs: POLL_INTERVAL_MS,
      subscriptionMaxSeconds: 3_600,
      authCacheTtlMs: 3_600_000,
      tokenSigningKeys: JSON.stringify([newSigningKey()]),
      providers: {},
    }
    const gateway = createGateway(config, { db, logger: silentLogger })
    await provisionApiClient(
      gateway.access,
      { ...BENCH_CLIENT, tenantId: BENCH_TENANT_ID, tenantName: 'Bench' },
      new Date(),
    )
    http = await serveGateway(gateway, { maxConnectionsPerAddress: 50_000 })
    const benchEnv: BenchEnv = {
      gateway,
      http,
      authorization: `Basic ${Buffer.from(`${BENCH_CLIENT.clientId}:${BENCH_CLIENT.clientSecret}`).toString('base64')}`,
    }
    const repo = new ConsentRepository(db, BENCH_TABLE)
    const now = new Date()
    const consents: Consent[] = []
    for (let start = 0; start < WATCHED_CONSENTS; start += 50) {
      const batch = Array.from({ length: Math.min(50, WATCHED_CONSENTS - start) }, (_, i): Consent => ({
        ...benchConsent(now),
        id: ulid(),
        providerConsentId: `fq-bench-sub-${start + i}`,
        status: 'ACTIVE',
        linkExpiresAt: null,
        validUntil: addDays(now, 90),
      }))
      await Promise.all(
        batch.map((consent) => {
          const created = newConsentEvent(consent, null, { id: ulid(), source: 'API', initiator: 'api-client:bench' })
          return repo.create(consent, created, notificationFor(created, consent))
        }),
      )
      consents.push(...batch)
    }
    // Unmeasured: the first poll, JIT and connection pools warm before the first row.
    progress(`warm-up: ${settings.warmupSec} s`)
    await measureRow(
      benchEnv,
      repo,
      consents,
      iteratorTransport,
      10,
      { durationSec: settings.warmupSec, rate },
      counts,
      signal,
      () => undefined,
    )

    const rows: Row[] = []
    for (const step of plan) {
      if (signal.aborted) break
      const transport = TRANSPORTS[step.transport]
      if (!transport) throw new Error(`no transport ${step.transport}`)
      rows.push(
        await measureRow(
          benchEnv,
          repo,
          consents,
          transport,
          step.watchers,
          { durationSec: settings.durationSec, rate },
          counts,
          signal,
          progress,
        ),
      )
    }

    const base = rows[0]
    const failures: string[] = []
    const figures: Record<string, Figure> = { pollIntervalMs: POLL_INTERVAL_MS, changesPerSec: rate }
    for (const row of rows) {
      const key = `${row.transport}${row.watchers}`
      figures[`${key}ReadsPerTick`] = Number(row.readsPerTick.toFixed(2))
      figures[`${key}CpuPercent`] = Number(row.cpuPercent.toFixed(1))
      figures[`${key}P50Ms`] = Math.round(row.p50Ms)
      figures[`${key}P99Ms`] = Math.round(row.p99Ms)
      figures[`${key}RssMbPer1000`] = Number(row.rssMbPer1000.toFixed(1))
      if (row.missed > 0) failures.push(`${key}: ${row.missed} watchers did not end on their consent's last version`)
      if (row.notifications === 0) failures.push(`${key}: no notification arrived`)
    }
    const table = renderTable(
      [
        'transport',
        'watchers',
        'ticks',
        'reads/tick',
        'x base',
        'Query/tick',
        'BatchGet/tick',
        'changes',
        'notified',
        'CPU %',
        'p50 ms',
        'p99 ms',
        'p99 goal',
        'RSS MB/1k',
      ],
      rows.map((row) => [
        row.transport,
        String(row.watchers),
        String(row.ticks),
        fixed(row.readsPerTick, 2),
        base ? `${fixed(row.readsPerTick / base.readsPerTick, 2)}x` : 'n/a',
        fixed(row.queriesPerTick, 2),
        fixed(row.batchGetsPerTick, 2),
        String(row.changes),
        String(row.notifications),
        fixed(row.cpuPercent, 1),
        fixed(row.p50Ms, 0),
        fixed(row.p99Ms, 0),
        row.p99Ms <= POLL_INTERVAL_MS + 250 ? 'met' : 'missed',
        fixed(row.rssMbPer1000, 1),
      ]),
    )
    return {
      figures,
      failures,
      table:
        `${table}\n\npoll every ${POLL_INTERVAL_MS} ms; ${rate} consent changes/s, round the watched consents (one ` +
        `per watcher, at most ${WATCHED_CONSENTS}); ` +
        `reads/tick = store reads (Query, BatchGetItem, GetItem) per poll; x base = against the first row; CPU and ` +
        `RSS are the server process's (gateway, DynamoDB client and, for sse, the watchers' HTTP clients; the ` +
        `graphql-ws watchers run in a process of their own, DynamoDB Local apart); p99 goal = poll interval + 250 ms.`,
      details: { rows },
    }
  } finally {
    for (const transport of Object.values(TRANSPORTS)) transport.shutdown?.()
    await http?.close()
    client.destroy()
    await dynamo.stop()
  }
}

export const subscriptionsSuite: Suite = {
  name: 'subscriptions',
  title: 'consentUpdated watchers from one poll of the change feed: reads per tick, CPU, latency, memory',
  run,
}
