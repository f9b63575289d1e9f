// Brute force against API client authentication, end to end over loopback HTTP: how long one wrong secret takes for a
// known and for an unknown client id (can timing tell client ids apart?), how many wrong secrets per second the
// gateway checks during a 15 s flood against one known client id and against made-up ones, and what a legitimate
// client sharing the attacker's address (the attacked client itself, with its real secret, verified before the flood)
// sees meanwhile. Runs alone, bounded (about 50 s): `npx tsx bench/brute-force.ts`. The gateway runs in a child
// process of its own (this file, forked) with its own in-memory DynamoDB Local; both are stopped at the end.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Agent, request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { startDynamoDBLocal } from '../local/dynamodb-local.ts'
import { serveGateway } from '../local/http-server.ts'
import type { GatewayConfig } from '../service/config.ts'
import { createGateway } from '../composition/gateway.ts'
import { provisionApiClient } from '../service/tenants.ts'
import { createDocumentClient, createDynamoClient } from '../store/client.ts'
import { ensureTable } from '../store/table-admin.ts'
import { median, percentile } from './measure.ts'
import type { Logger } from '../runtime/logging.ts'

const ROLE_ENV = 'BRUTE_FORCE_BENCH_ROLE'
/** Seconds per flood; `BRUTE_FORCE_FLOOD_SECONDS` shortens it for a smoke run (the figures of record use 15). */
const FLOOD_SECONDS = Math.min(60, Math.max(1, Number(process.env.BRUTE_FORCE_FLOOD_SECONDS ?? 15) || 15))
const BASELINE_SECONDS = Math.min(5, FLOOD_SECONDS)
const FLOOD_CONNECTIONS = 8
/** Sequential wrong secrets per kind of client id for the timing comparison (fewer than any failure limit). */
const TIMING_SAMPLES = 8
/** The legitimate client asks this often (one request at a time). */
const LEGIT_EVERY_MS = 25
const TENANT_A = '01JD0BRUTEF0RCETENANTA0000'
const TENANT_B = '01JD0BRUTEF0RCETENANTB0000'
const VICTIM = { clientId: 'victim-client', clientSecret: 'victim-secret-0123456789abcdef' }
const TIMING = { clientId: 'timing-client', clientSecret: 'timing-secret-0123456789abcdef' }

type ChildMessage =
  { readonly type: 'ready'; readonly url: string } | { readonly type: 'logs'; readonly lines: Record<string, number> }
type ParentMessage = { readonly type: 'logs' } | { readonly type: 'stop' }

// The gateway (child) ----------------------------------------------------------------------------------------------

async function serve(): Promise<void> {
  const dynamo = await startDynamoDBLocal()
  const client = createDynamoClient({ endpoint: dynamo.endpoint })
  const tableName = 'brute-force-bench'
  await ensureTable(client, tableName)
  const config: GatewayConfig = {
    tableName,
    dynamoEndpoint: dynamo.endpoint,
    publicBaseUrl: 'http://127.0.0.1:1',
    cursorSecret: 'bench-cursor-secret-0123456789abcdef',
    userReferenceKey: 'bench-user-reference-key-0123456789abcdef',
    localMode: true,
    subscriptionPollIntervalMs: 1_000,
    subscriptionMaxSeconds: 900,
    authCacheTtlMs: 60_000,
    providers: {},
  }
  // Counts what the gateway logs, by message (the failed-login lines among them), writes nothing.
  const lines: Record<string, number> = {}
  const count = (message: string) => void (lines[message] = (lines[message] ?? 0) + 1)
  const logger: Logger = { debug: count, info: count, warn: count, error: count }
  const gateway = createGateway(config, { db: createDocumentClient(client), logger })
  const now = new Date()
  await provisionApiClient(gateway.access, { ...VICTIM, tenantId: TENANT_A, tenantName: 'Victim' }, now)
  await provisionApiClient(gateway.access, { ...TIMING, tenantId: TENANT_B, tenantName: 'Timing' }, now)
  const http = await serveGateway(gateway)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await http.close().catch(() => undefined)
    client.destroy()
    await dynamo.stop()
    process.exit(0)
  }
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'logs') process.send?.({ type: 'logs', lines: { ...lines } } satisfies ChildMessage)
    else void stop()
  })
  process.on('disconnect', () => void stop())
  process.send?.({ type: 'ready', url: http.url } satisfies ChildMessage)
}

// The attacker and the legitimate client (parent) --------------------------------------------------------------------

interface Answer {
  readonly status: number
  readonly ms: number
}

const BODY = JSON.stringify({ query: '{ __typename }' })
const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`
const wrongSecret = () => randomBytes(24).toString('base64url')

/** Keep-alive connections from one loopback address (127.0.0.0/8 is all loopback): the gateway sees it as the source. */
const agentFrom = (localAddress: string, sockets: number) =>
  new Agent({ keepAlive: true, maxSockets: sockets, localAddress })

function post(url: string, agent: Agent, authorization: string): Promise<Answer> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}/graphql`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization,
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          'content-length': Buffer.byteLength(BODY),
        },
      },
      (response) => {
        response.resume()
        response.on('end', () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - started }))
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(BODY)
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The legitimate client: one request every LEGIT_EVERY_MS until `until`, latencies of its answers. */
async function legitimate(url: string, agent: Agent, until: number) {
  const latencies: number[] = []
  let failures = 0
  const authorization = basic(VICTIM.clientId, VICTIM.clientSecret)
  while (performance.now() < until) {
    const next = performance.now() + LEGIT_EVERY_MS
    const answer = await post(url, agent, authorization).catch(() => ({ status: 0, ms: 0 }))
    if (answer.status === 200) latencies.push(answer.ms)
    else failures++
    await sleep(Math.max(0, next - performance.now()))
  }
  return { latencies, failures }
}

interface FloodResult {
  readonly tried: number
  readonly byStatus: Record<string, number>
  readonly legitP50Ms: number
  readonly legitP99Ms: number
  readonly legitRequests: number
  readonly legitFailures: number
}

/** FLOOD_CONNECTIONS attackers sending wrong secrets as fast as answered, beside the legitimate client. */
async function flood(url: string, source: string, attempt: () => string): Promise<FloodResult> {
  const attackers = agentFrom(source, FLOOD_CONNECTIONS)
  const legitAgent = agentFrom(source, 1)
  // The legitimate client is verified (and cached) before the flood starts.
  const warm = await post(url, legitAgent, basic(VICTIM.clientId, VICTIM.clientSecret))
  if (warm.status !== 200) throw new Error(`the legitimate client got ${warm.status} before the flood`)
  const until = performance.now() + FLOOD_SECONDS * 1000
  const byStatus: Record<string, number> = {}
  let tried = 0
  const attacker = async () => {
    while (performance.now() < until) {
      const answer = await post(url, attackers, attempt()).catch(() => ({ status: 0, ms: 0 }))
      tried++
      byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1
    }
  }
  const [legit] = await Promise.all([
    legitimate(url, legitAgent, until),
    ...Array.from({ length: FLOOD_CONNECTIONS }, attacker),
  ])
  attackers.destroy()
  legitAgent.destroy()
  return {
    tried,
    byStatus,
    legitP50Ms: percentile(legit.latencies, 50),
    legitP99Ms: percentile(legit.latencies, 99),
    legitRequests: legit.latencies.length + legit.failures,
    legitFailures: legit.failures,
  }
}

/** Sequential wrong secrets, alternating a known and an unknown client id, after one warm-up of each. */
async function timing(url: string) {
  const agent = agentFrom('127.0.0.4', 1)
  const known: number[] = []
  const unknown: number[] = []
  await post(url, agent, basic(TIMING.clientId, TIMING.clientSecret))
  await post(url, agent, basic(`nobody-${randomBytes(6).toString('hex')}`, wrongSecret()))
  for (let i = 0; i < TIMING_SAMPLES; i++) {
    const a = await post(url, agent, basic(TIMING.clientId, wrongSecret()))
    const b = await post(url, agent, basic(`nobody-${randomBytes(6).toString('hex')}`, wrongSecret()))
    if (a.status !== 401 || b.status !== 401) throw new Error(`timing attempts answered ${a.status} / ${b.status}`)
    known.push(a.ms)
    unknown.push(b.ms)
  }
  agent.destroy()
  return { known, unknown }
}

async function baseline(url: string) {
  const agent = agentFrom('127.0.0.5', 1)
  await post(url, agent, basic(VICTIM.clientId, VICTIM.clientSecret))
  const result = await legitimate(url, agent, performance.now() + BASELINE_SECONDS * 1000)
  agent.destroy()
  return result
}

const ms = (value: number) => `${value.toFixed(1)} ms`
const perSecond = (count: number) => (count / FLOOD_SECONDS).toFixed(1)

function startGateway(): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [ROLE_ENV]: 'gateway' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  })
  process.once('exit', () => child.kill('SIGKILL'))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the gateway did not start within 90 s')), 90_000)
    child.on('message', (message: ChildMessage) => {
      if (message.type !== 'ready') return
      clearTimeout(timer)
      resolve({ child, url: message.url })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the gateway exited (${code})`))
    })
  })
}

function logsOf(child: ChildProcess): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'logs') resolve(message.lines)
    })
    child.send({ type: 'logs' } satisfies ParentMessage)
  })
}

async function main(): Promise<void> {
  const { child, url } = await startGateway()
  try {
    const times = await timing(url)
    const calm = await baseline(url)
    const logsBefore = await logsOf(child)
    // Each flood from an address of its own, the legitimate client beside the attacker on the same address.
    const known = await flood(url, '127.0.0.2', () => basic(VICTIM.clientId, wrongSecret()))
    const unknown = await flood(url, '127.0.0.3', () => basic(`guess-${randomBytes(8).toString('hex')}`, wrongSecret()))
    const logsAfter = await logsOf(child)
    const logged = Object.fromEntries(
      Object.entries(logsAfter)
        .map(([message, count]) => [message, count - (logsBefore[message] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    )

    const knownMedian = median(times.known)
    const unknownMedian = median(times.unknown)
    const spread = (values: number[]) => `${ms(Math.min(...values))}-${ms(Math.max(...values))}`
    console.log(`brute force against ${url}/graphql (loopback; ${FLOOD_CONNECTIONS} connections per flood)`)
    console.log(
      `one wrong secret, median of ${TIMING_SAMPLES} sequential: known client id ${ms(knownMedian)} (${spread(times.known)}), ` +
        `unknown client id ${ms(unknownMedian)} (${spread(times.unknown)}), difference ${ms(knownMedian - unknownMedian)}`,
    )
    console.log(
      `legitimate client, no flood (${BASELINE_SECONDS} s): p50 ${ms(percentile(calm.latencies, 50))}, ` +
        `p99 ${ms(percentile(calm.latencies, 99))}, ${calm.failures} not 200 of ${calm.latencies.length + calm.failures}`,
    )
    for (const [name, result] of [
      ['known client id', known],
      ['unknown client ids', unknown],
    ] as const) {
      const checked = result.byStatus['401'] ?? 0
      const limited = result.byStatus['429'] ?? 0
      const other = result.tried - checked - limited
      console.log(
        `flood of wrong secrets for ${FLOOD_SECONDS} s, ${name}: ${result.tried} tried, ${checked} checked and refused ` +
          `(${perSecond(checked)}/s accepted as attempts), ${limited} rate limited (429), ${other} other; ` +
          `legitimate client p50 ${ms(result.legitP50Ms)}, p99 ${ms(result.legitP99Ms)}, ` +
          `${result.legitFailures} not 200 of ${result.legitRequests}`,
      )
    }
    console.log(`gateway log lines during the floods: ${JSON.stringify(logged)}`)
    console.log(
      `BENCH_JSON ${JSON.stringify({
        timing: {
          knownMedianMs: knownMedian,
          unknownMedianMs: unknownMedian,
          known: times.known,
          unknown: times.unknown,
        },
        baseline: { p50Ms: percentile(calm.latencies, 50), p99Ms: percentile(calm.latencies, 99) },
        floods: {
          known: { ...known, acceptedPerSecond: (known.byStatus['401'] ?? 0) / FLOOD_SECONDS },
          unknown: { ...unknown, acceptedPerSecond: (unknown.byStatus['401'] ?? 0) / FLOOD_SECONDS },
        },
        logged,
      })}`,
    )
  } finally {
    child.send({ type: 'stop' } satisfies ParentMessage)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve()
      }, 10_000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}

if (process.env[ROLE_ENV] === 'gateway') {
  serve().catch((error: unknown) => {
    console.error('brute-force bench gateway failed:', error)
    process.exit(1)
  })
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}
