// `npx tsx bench/ws-handlers.ts`: what graphql-ws on AWS costs per watcher, measured on the BUILT bundles of the
// WebSocket API's three route functions (scripts/build-functions.ts, as deployed) against DynamoDB Local, with the
// management API (PostToConnection, DeleteConnection) answered by a local HTTP server, the only stand-in. For each
// step of a watcher's life ($connect, connection_init, subscribe, ping, complete, $disconnect): milliseconds per warm
// invocation (p50, p99; wall, and the CPU the handler itself used), the DynamoDB read and write units it consumed
// (DynamoDB Local's own count, indexes included, through bench/capacity-proxy.ts) and the messages it posted; and each
// bundle's cold start (a fresh node process importing it and answering its first event). docs/cost.md prices these.
//
// The watchers run in a child process of their own (this file with `--pass`), twice: once straight at DynamoDB Local
// for the times, once through the counting proxy for the units (its extra hop stays out of the times).
//
//   WS_BENCH_WATCHERS  watchers measured per credential, one after another   (default 300)
//   WS_BENCH_WARMUP    watchers run first, unmeasured                         (default 50)
//   WS_BENCH_COLD      cold starts per bundle                                 (default 5)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { freePort, startDynamoDBLocal } from '../local/dynamodb-local.ts'
import { buildFunction, type BuiltFunction } from '../scripts/build-functions.ts'
import { benchBearerToken, benchFunctionEnv, seedBenchTable } from './bench-table.ts'
import { startCapacityProxy, type CapacityCount } from './capacity-proxy.ts'
import { BENCH_CLIENT, BENCH_CONSENT_PUBLIC_ID } from './consent-fixture.ts'
import { median, percentile } from './measure.ts'
import { fixed, renderTable } from './table.ts'

const WATCHERS = Number(process.env.WS_BENCH_WATCHERS ?? 300)
const WARMUP = Number(process.env.WS_BENCH_WARMUP ?? 50)
const COLD_RUNS = Number(process.env.WS_BENCH_COLD ?? 5)

const BUNDLES = {
  connect: 'functions/ws-connect.ts',
  message: 'functions/ws-message.ts',
  disconnect: 'functions/ws-disconnect.ts',
} as const
type BundleName = keyof typeof BUNDLES

const SUBSCRIPTION = 'subscription Watch($id: ID!) { consentUpdated(id: $id) { id status version } }'

/** The watcher's steps, in order. */
const STEPS = ['connect', 'connection_init', 'subscribe', 'ping', 'complete', 'disconnect'] as const
type Step = (typeof STEPS)[number]
const CREDENTIALS = ['basic', 'bearer'] as const
type Credential = (typeof CREDENTIALS)[number]

/** One invocation, as a pass measured it. */
interface StepMeasure {
  readonly wallMs: number
  /** The process's CPU (user + system) while the handler ran: the handler's own work, not DynamoDB Local's. */
  readonly cpuMs: number
  readonly posts: number
  /** Only in the capacity pass. */
  readonly capacity: CapacityCount | null
}

type PassResult = { readonly measures: Record<Credential, Record<Step, StepMeasure[]>>; readonly failures: string[] }

/** A Lambda handler as the runtime calls it. */
type Handler = (event: object, context: object) => Promise<{ statusCode?: number; headers?: Record<string, string> }>

// ----- the management API: what API Gateway answers the functions that post -----

interface Posted {
  readonly connectionId: string
  readonly message: Record<string, unknown>
}

/** PostToConnection and DeleteConnection, answered and recorded; any connection id exists. */
async function startManagementApi() {
  const posted: Posted[] = []
  const read = (request: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = ''
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
      request.on('end', () => resolve(text))
    })
  const server = createServer((request, response) => {
    void read(request).then((text) => {
      const match = /\/@connections\/([^/?]+)/.exec(request.url ?? '')
      if (!match) return response.writeHead(404).end()
      if (request.method === 'POST') {
        posted.push({
          connectionId: decodeURIComponent(match[1] ?? ''),
          message: JSON.parse(text) as Record<string, unknown>,
        })
        return response.writeHead(200).end()
      }
      return response.writeHead(request.method === 'DELETE' ? 204 : 200).end()
    })
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posted,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections()
        server.close(() => closed())
      }),
  }
}

// ----- API Gateway's events (APIGatewayProxyWebsocketEventV2; $connect with its headers) -----

const DOMAIN = 'bench.execute-api.eu-west-1.amazonaws.com'
let requestSequence = 0

function requestContext(connectionId: string, routeKey: string, eventType: string) {
  const now = Date.now()
  requestSequence += 1
  return {
    routeKey,
    eventType,
    messageDirection: 'IN',
    stage: '$default',
    domainName: DOMAIN,
    apiId: 'bench',
    connectionId,
    connectedAt: now,
    requestId: `bench-request-${requestSequence}`,
    extendedRequestId: `bench-request-${requestSequence}`,
    ...(eventType === 'MESSAGE' ? { messageId: `bench-message-${requestSequence}` } : {}),
    requestTime: new Date(now).toUTCString(),
    requestTimeEpoch: now,
    identity: { sourceIp: '198.51.100.7', userAgent: 'bench' },
  }
}

const connectEvent = (connectionId: string) => ({
  requestContext: requestContext(connectionId, '$connect', 'CONNECT'),
  headers: {
    Host: DOMAIN,
    'Sec-WebSocket-Protocol': 'graphql-transport-ws',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'X-Forwarded-For': '198.51.100.7',
  },
  multiValueHeaders: { 'Sec-WebSocket-Protocol': ['graphql-transport-ws'] },
  isBase64Encoded: false,
})

const messageEvent = (connectionId: string, message: object) => ({
  requestContext: requestContext(connectionId, '$default', 'MESSAGE'),
  body: JSON.stringify(message),
  isBase64Encoded: false,
})

const disconnectEvent = (connectionId: string) => ({
  requestContext: {
    ...requestContext(connectionId, '$disconnect', 'DISCONNECT'),
    disconnectStatusCode: 1000,
    disconnectReason: 'Client closed',
  },
  headers: { Host: DOMAIN },
  isBase64Encoded: false,
})

const lambdaContext = () => ({
  awsRequestId: `bench-${requestSequence}`,
  getRemainingTimeInMillis: () => 30_000,
})

// ----- a pass: the bundles imported once, as a warm container keeps them; watchers one after another -----

async function pass(kind: 'timing' | 'capacity', bundles: Record<BundleName, string>): Promise<PassResult> {
  const authorization: Record<Credential, string> = {
    basic: process.env.BENCH_BASIC ?? '',
    bearer: process.env.BENCH_BEARER ?? '',
  }
  const management = await startManagementApi()
  const proxy = kind === 'capacity' ? await startCapacityProxy(process.env.DYNAMODB_ENDPOINT ?? '') : null
  if (proxy) process.env.DYNAMODB_ENDPOINT = proxy.endpoint
  process.env.WS_MANAGEMENT_ENDPOINT = management.endpoint
  const handlers = {} as Record<BundleName, Handler>
  for (const name of Object.keys(BUNDLES) as BundleName[]) {
    handlers[name] = ((await import(pathToFileURL(bundles[name]).href)) as { handler: Handler }).handler
  }
  const failures: string[] = []

  const timed = async (
    name: BundleName,
    event: object,
    check: (result: Awaited<ReturnType<Handler>>, posts: readonly Posted[]) => string | null,
  ): Promise<StepMeasure> => {
    const before = management.posted.length
    proxy?.take()
    const cpu = process.cpuUsage()
    const started = performance.now()
    const result = await handlers[name](event, lambdaContext())
    const wallMs = performance.now() - started
    const { user, system } = process.cpuUsage(cpu)
    const capacity = proxy?.take() ?? null
    const posts = management.posted.slice(before)
    const failure = check(result, posts)
    if (failure) failures.push(failure)
    return { wallMs, cpuMs: (user + system) / 1000, posts: posts.length, capacity }
  }

  const watcher = async (id: string, credential: string): Promise<Record<Step, StepMeasure>> => {
    const connectionId = `${kind}-${id}`
    const ok = (result: Awaited<ReturnType<Handler>>) => result?.statusCode === 200
    const posted = (type: string) => (result: Awaited<ReturnType<Handler>>, posts: readonly Posted[]) =>
      ok(result) && posts.some((post) => post.connectionId === connectionId && post.message.type === type)
        ? null
        : `${connectionId}: expected a ${type}, got ${JSON.stringify(result)} and ${JSON.stringify(posts)}`
    return {
      connect: await timed('connect', connectEvent(connectionId), (result) =>
        ok(result) && result.headers?.['Sec-WebSocket-Protocol'] === 'graphql-transport-ws'
          ? null
          : `${connectionId}: $connect answered ${JSON.stringify(result)}`,
      ),
      connection_init: await timed(
        'message',
        messageEvent(connectionId, { type: 'connection_init', payload: { authorization: credential } }),
        posted('connection_ack'),
      ),
      subscribe: await timed(
        'message',
        messageEvent(connectionId, {
          type: 'subscribe',
          id: 'watch',
          payload: { query: SUBSCRIPTION, variables: { id: BENCH_CONSENT_PUBLIC_ID } },
        }),
        (result, posts) => {
          const next = posts.find((post) => post.message.type === 'next')
          const payload = next?.message.payload as
            { data?: { consentUpdated?: { id?: string } }; extensions?: { cost?: unknown } } | undefined
          return ok(result) && payload?.data?.consentUpdated?.id === BENCH_CONSENT_PUBLIC_ID && payload.extensions?.cost
            ? null
            : `${connectionId}: subscribe answered ${JSON.stringify(result)} and ${JSON.stringify(posts)}`
        },
      ),
      ping: await timed('message', messageEvent(connectionId, { type: 'ping' }), posted('pong')),
      complete: await timed('message', messageEvent(connectionId, { type: 'complete', id: 'watch' }), (result) =>
        ok(result) ? null : `${connectionId}: complete answered ${JSON.stringify(result)}`,
      ),
      disconnect: await timed('disconnect', disconnectEvent(connectionId), (result) =>
        ok(result) ? null : `${connectionId}: $disconnect answered ${JSON.stringify(result)}`,
      ),
    }
  }

  const measures = Object.fromEntries(
    CREDENTIALS.map((credential) => [credential, Object.fromEntries(STEPS.map((step) => [step, []]))]),
  ) as unknown as PassResult['measures']
  try {
    for (const credential of CREDENTIALS) {
      for (let i = 0; i < WARMUP; i++) await watcher(`${credential}-warmup-${i}`, authorization[credential])
      for (let i = 0; i < WATCHERS; i++) {
        const measured = await watcher(`${credential}-${i}`, authorization[credential])
        for (const step of STEPS) measures[credential][step].push(measured[step])
      }
    }
  } finally {
    await management.close()
    await proxy?.close()
  }
  return { measures, failures }
}

/** Runs one pass in a child process (this file, `--pass`), straight at DynamoDB Local or through the proxy. */
function childPass(
  kind: 'timing' | 'capacity',
  bundles: Record<BundleName, BuiltFunction>,
  env: Record<string, string>,
): Promise<PassResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        import.meta.filename,
        '--pass',
        kind,
        ...Object.values(bundles).flatMap((bundle) => ['--bundle', bundle.entry]),
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.once('exit', (code) => {
      const line = out.split('\n').find((text) => text.startsWith('PASS_JSON '))
      if (code !== 0 || !line) return reject(new Error(`the ${kind} pass failed (${code}):\n${out.slice(-2000)}`))
      resolve(JSON.parse(line.slice('PASS_JSON '.length)) as PassResult)
    })
  })
}

/** A fresh node process imports `bundle` and answers `event`: how long the import and the first answer took. */
function coldStart(
  bundle: BuiltFunction,
  event: object,
  env: Record<string, string>,
): Promise<{ importMs: number; firstMs: number }> {
  const driver = `
    const started = performance.now()
    const { handler } = await import(${JSON.stringify(pathToFileURL(bundle.entry).href)})
    const importMs = performance.now() - started
    const result = await handler(JSON.parse(process.env.BENCH_EVENT), {
      awsRequestId: 'cold',
      getRemainingTimeInMillis: () => 30000,
    })
    console.log(JSON.stringify({ importMs, firstMs: performance.now() - started, statusCode: result?.statusCode }))
  `
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', driver], {
      env: { PATH: process.env.PATH ?? '', ...env, BENCH_EVENT: JSON.stringify(event) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.once('exit', (code) => {
      const line = out.split('\n').find((text) => text.startsWith('{"importMs"'))
      if (code !== 0 || !line) return reject(new Error(`cold start of ${bundle.name} failed (${code}):\n${out}`))
      const parsed = JSON.parse(line) as { importMs: number; firstMs: number; statusCode?: number }
      if (parsed.statusCode !== 200) return reject(new Error(`cold start of ${bundle.name} answered ${line}`))
      resolve({ importMs: parsed.importMs, firstMs: parsed.firstMs })
    })
  })
}

async function main() {
  console.log(`building the WebSocket route bundles (${Object.values(BUNDLES).join(', ')})`)
  const built = {} as Record<BundleName, BuiltFunction>
  for (const [name, entry] of Object.entries(BUNDLES) as [BundleName, string][]) {
    built[name] = await buildFunction(`ws-${name}`, entry, 'dist/functions-bench-ws')
  }

  const dynamo = await startDynamoDBLocal({ port: await freePort() })
  const management = await startManagementApi()
  try {
    const { client, db } = await seedBenchTable(dynamo.endpoint)

    const env: Record<string, string> = {
      ...benchFunctionEnv(dynamo.endpoint),
      // The management API client signs its calls (SigV4): any credentials do for the stand-in.
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      WS_MANAGEMENT_ENDPOINT: management.endpoint,
    }
    const accessToken = await benchBearerToken(env, db)
    client.destroy()
    env.BENCH_BASIC = `Basic ${Buffer.from(`${BENCH_CLIENT.clientId}:${BENCH_CLIENT.clientSecret}`).toString('base64')}`
    env.BENCH_BEARER = `Bearer ${accessToken}`

    console.log(`cold starts: ${COLD_RUNS} per bundle`)
    const cold: Record<BundleName, { importMs: number; firstMs: number }[]> = {
      connect: [],
      message: [],
      disconnect: [],
    }
    for (let run = 0; run < COLD_RUNS; run++) {
      const connectionId = `cold-${run}`
      cold.connect.push(await coldStart(built.connect, connectEvent(connectionId), env))
      cold.message.push(
        await coldStart(
          built.message,
          messageEvent(connectionId, { type: 'connection_init', payload: { authorization: env.BENCH_BEARER } }),
          env,
        ),
      )
      cold.disconnect.push(await coldStart(built.disconnect, disconnectEvent(connectionId), env))
    }

    console.log(`timing pass: ${WARMUP} watchers unmeasured, then ${WATCHERS} measured, per credential`)
    const timing = await childPass('timing', built, env)
    console.log('capacity pass (through the counting proxy)')
    const capacity = await childPass('capacity', built, env)
    const failures = [...timing.failures, ...capacity.failures]

    const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length
    const rows = CREDENTIALS.flatMap((credential) =>
      STEPS.map((step) => {
        const times = timing.measures[credential][step]
        const units = capacity.measures[credential][step]
        const wall = times.map((measure) => measure.wallMs)
        const cpu = times.map((measure) => measure.cpuMs)
        const last = units[units.length - 1]?.capacity?.calls ?? {}
        return [
          credential,
          step,
          fixed(percentile(wall, 50), 1),
          fixed(percentile(wall, 99), 1),
          fixed(percentile(cpu, 50), 1),
          fixed(mean(units.map((measure) => measure.capacity?.readUnits ?? 0)), 2),
          fixed(mean(units.map((measure) => measure.capacity?.writeUnits ?? 0)), 2),
          fixed(mean(times.map((measure) => measure.posts)), 1),
          Object.entries(last)
            .map(([operation, calls]) => `${operation} ${calls}`)
            .join(', '),
        ]
      }),
    )
    console.log('')
    console.log(
      `warm invocations of the built bundles, ${WATCHERS} watchers per credential one after another (each: $connect, ` +
        'connection_init, subscribe consentUpdated, ping, complete, $disconnect):',
    )
    console.log(
      renderTable(
        ['credential', 'step', 'wall p50 ms', 'wall p99 ms', 'CPU p50 ms', 'RRU', 'WRU', 'posts', 'DynamoDB calls'],
        rows,
      ),
    )
    console.log('')
    console.log(`cold starts, median of ${COLD_RUNS} (a fresh node process imports the bundle, answers one event):`)
    console.log(
      renderTable(
        ['bundle', 'first event', 'import ms', 'import + first event ms'],
        (Object.keys(cold) as BundleName[]).map((name) => [
          name,
          name === 'connect' ? '$connect' : name === 'message' ? 'connection_init (bearer)' : '$disconnect',
          fixed(median(cold[name].map((run) => run.importMs)), 0),
          fixed(median(cold[name].map((run) => run.firstMs)), 0),
        ]),
      ),
    )
    const figures = Object.fromEntries(
      CREDENTIALS.flatMap((credential) =>
        STEPS.flatMap((step) => {
          const wall = timing.measures[credential][step].map((measure) => measure.wallMs)
          return [
            [`${credential}.${step}.p50Ms`, Number(fixed(percentile(wall, 50), 2))],
            [`${credential}.${step}.p99Ms`, Number(fixed(percentile(wall, 99), 2))],
          ]
        }),
      ),
    )
    console.log(`WS_BENCH_JSON ${JSON.stringify({ figures, cold, failures: failures.slice(0, 20) })}`)
    if (failures.length) {
      console.error(`${failures.length} wrong answers, e.g. ${failures[0]}`)
      process.exitCode = 1
    }
  } finally {
    await management.close()
    await dynamo.stop()
  }
}

const { values } = parseArgs({
  options: { pass: { type: 'string' }, bundle: { type: 'string', multiple: true } },
  strict: true,
})
if (values.pass === 'timing' || values.pass === 'capacity') {
  const [connect = '', message = '', disconnect = ''] = values.bundle ?? []
  const result = await pass(values.pass, { connect, message, disconnect })
  // The bundles' clients keep sockets open: exit once the (large) line is written, not before.
  process.stdout.write(`PASS_JSON ${JSON.stringify(result)}\n`, () => process.exit(0))
} else {
  await main()
}
