// `npx tsx bench/ws-fanout.ts`: how much the graphql-ws poller sends per second, and what its polling, its posts and its
// pings cost in DynamoDB units: the BUILT bundle (functions/ws-poller.ts as deployed) against DynamoDB Local through the
// counting proxy (bench/capacity-proxy.ts), the management API answered by a local HTTP server (a process of its own).
// The poller's CPU per post is the figure that scales to Lambda (its CPU share follows its memory). With 2,000 stored
// subscriptions (one connection each, each watching its own consent):
//   - quiet: runs of 1 and of 4 ticks with nothing changed (the units of a run's lease and cursors, and of a tick);
//   - fan-out: 1,000 consents changed at once, then one tick (posts per second; units per post);
//   - pings: every connection's ping due, then one tick (pings per second; units per ping).
// bench/ws-poller.ts times one tick at 0, 1 and 10 changes; docs/cost.md prices these figures and bounds a deployment
// by them. Prints the figures; run it alone, on a quiet machine.
//
//   WS_FANOUT_SUBSCRIPTIONS  (default 2000)   WS_FANOUT_CHANGES  (default 1000)   WS_FANOUT_SAMPLES  (default 3)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { randomUUID } from 'node:crypto'
import { spawn } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { freePort, startDynamoDBLocal } from '../local/dynamodb-local.ts'
import { buildFunction } from '../scripts/build-functions.ts'
import { FEED_SETTLE_MS } from '../service/change-feed.ts'
import { WS_POLLER_DEFAULTS, type WsPollerReport } from '../service/ws-poller.ts'
import { createDocumentClient, createDynamoClient } from '../store/client.ts'
import { ensureTable } from '../store/table-admin.ts'
import { startCapacityProxyProcess, type CapacityCount } from './capacity-proxy.ts'
import { median } from './measure.ts'
import { fixed, renderTable } from './table.ts'
import { seedWatchers } from './ws-stored-watchers.ts'

const SUBSCRIPTIONS = Number(process.env.WS_FANOUT_SUBSCRIPTIONS ?? 2_000)
const CHANGES = Number(process.env.WS_FANOUT_CHANGES ?? 1_000)
const SAMPLES = Number(process.env.WS_FANOUT_SAMPLES ?? 3)
const TENANT_ID = '01JD0BENCHWSFAN0UTTENANT00'
const CLIENT = { clientId: 'bench-ws-fanout', clientSecret: 'bench-ws-fanout-secret-0123456789' }
/** What functions/scheduled-job.ts keeps back of an invocation's remaining time. */
const JOB_MARGIN_MS = 5_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The management API as the poller uses it, in a process of its own (its CPU stays out of the poller's figures):
 * every post taken (200), every close (204), posts counted and told on `GET /count`.
 */
async function startManagementApi() {
  const script = `
    const { createServer } = require('node:http')
    let posts = 0
    const server = createServer((request, response) => {
      request.resume()
      request.on('end', () => {
        if (request.method === 'GET' && request.url === '/count') return response.end(String(posts))
        if (request.method === 'POST' && request.url.startsWith('/@connections/')) posts++
        response.writeHead(request.method === 'DELETE' ? 204 : 200).end()
      })
    })
    server.listen(0, '127.0.0.1', () => console.log(server.address().port))
  `
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve) =>
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  )
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    posts: async () => Number(await (await fetch(`${endpoint}/count`)).text()),
    close: () =>
      new Promise<void>((closed) => {
        child.once('exit', () => closed())
        child.kill()
      }),
  }
}

interface Sample {
  readonly ms: number
  /** This process's CPU during the run: the poller's own work (and the management API stand-in's), not DynamoDB's. */
  readonly cpuMs: number
  readonly report: WsPollerReport
  readonly posts: number
  readonly units: CapacityCount
}

async function main() {
  const dynamo = await startDynamoDBLocal({ port: await freePort() })
  const proxy = await startCapacityProxyProcess(dynamo.endpoint)
  const management = await startManagementApi()
  try {
    const built = await buildFunction('ws-poller', 'functions/ws-poller.ts', 'dist/functions-bench-ws')
    const tableName = `bench-ws-fanout-${Date.now()}`
    await ensureTable(createDynamoClient({ endpoint: dynamo.endpoint }), tableName)
    const env = {
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: proxy.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      CURSOR_SECRET: 'bench-ws-fanout-cursor-secret-0123456789',
      USER_REFERENCE_KEY: 'bench-ws-fanout-user-reference-key-0123456789',
      WS_MANAGEMENT_ENDPOINT: management.endpoint,
      LOG_LEVEL: 'SILENT',
    }
    Object.assign(process.env, env)

    console.log(`seeding ${SUBSCRIPTIONS.toLocaleString('en')} consents, connections and subscriptions`)
    const db = createDocumentClient(createDynamoClient({ endpoint: dynamo.endpoint }))
    const { ws, connections, change } = await seedWatchers({
      db,
      tableName,
      tenantId: TENANT_ID,
      client: CLIENT,
      subscriptions: SUBSCRIPTIONS,
    })

    const { handler } = (await import(pathToFileURL(built.entry).href)) as {
      handler: (event: unknown, context: object) => Promise<WsPollerReport>
    }
    /** One run of the poller whose window leaves room for `ticks` ticks. */
    const run = async (ticks: number): Promise<Sample> => {
      const postsBefore = await management.posts()
      await proxy.take()
      const cpu = process.cpuUsage()
      const started = performance.now()
      const report = await handler(
        {},
        {
          awsRequestId: randomUUID(),
          getRemainingTimeInMillis: () => JOB_MARGIN_MS + (ticks - 1) * WS_POLLER_DEFAULTS.pollIntervalMs + 300,
        },
      )
      const ms = performance.now() - started
      const { user, system } = process.cpuUsage(cpu)
      const posts = (await management.posts()) - postsBefore
      return { ms, cpuMs: (user + system) / 1000, report, posts, units: await proxy.take() }
    }
    /** What earlier samples changed settles and is taken off the shards' cursors. */
    const drain = async () => {
      await sleep(FEED_SETTLE_MS + 500)
      await run(1)
    }

    await drain()
    const quiet1: Sample[] = []
    const quiet4: Sample[] = []
    const fanout: Sample[] = []
    const pings: Sample[] = []
    const failures: string[] = []
    for (let sample = 0; sample < SAMPLES; sample++) {
      console.log(`sample ${sample + 1}/${SAMPLES}: quiet runs, ${CHANGES} changes, every ping due`)
      await drain()
      quiet1.push(await run(1))
      quiet4.push(await run(4))

      await drain()
      await change(CHANGES)
      const sent = await run(1)
      if (sent.report.sent !== CHANGES || sent.posts !== CHANGES || sent.report.ticks !== 1) {
        failures.push(`fan-out: ${JSON.stringify({ posts: sent.posts, report: sent.report })}`)
      }
      fanout.push(sent)

      await drain()
      const due = new Date(Date.now() - 1_000)
      for (let i = 0; i < connections.length; i += 50) {
        await Promise.all(connections.slice(i, i + 50).map((connectionId) => ws.schedulePing(connectionId, due)))
      }
      const pinged = await run(1)
      if (pinged.report.pinged === 0 || pinged.posts !== pinged.report.pinged) {
        failures.push(`pings: ${JSON.stringify({ posts: pinged.posts, report: pinged.report })}`)
      }
      pings.push(pinged)
      // The rest of the due pings, sent before the next sample.
      for (let left = connections.length - pinged.report.pinged; left > 0;) {
        const more = await run(1)
        if (more.report.pinged === 0) break
        left -= more.report.pinged
      }
    }

    const med = (samples: Sample[], value: (sample: Sample) => number) => median(samples.map(value))
    const perTick = (samples1: Sample[], samples4: Sample[], units: (count: CapacityCount) => number) =>
      (med(samples4, (sample) => units(sample.units)) - med(samples1, (sample) => units(sample.units))) /
      (med(samples4, (sample) => sample.report.ticks) - med(samples1, (sample) => sample.report.ticks))
    const cpuPerPost = (samples: Sample[]) =>
      fixed(
        med(samples, (sample) => sample.cpuMs / sample.posts),
        2,
      )
    const ticksOf = (samples: Sample[]) => med(samples, (sample) => sample.report.ticks)
    const furtherTicks = ticksOf(quiet4) - ticksOf(quiet1)
    const sending = (name: string, samples: Sample[]) => [
      name,
      fixed(
        med(samples, (sample) => sample.report.slowestTickMs),
        1,
      ),
      fixed(
        med(samples, (sample) => sample.cpuMs),
        1,
      ),
      fixed(
        med(samples, (sample) => sample.posts),
        0,
      ),
      fixed(
        med(samples, (sample) => (sample.posts / sample.report.slowestTickMs) * 1000),
        0,
      ),
      cpuPerPost(samples),
      fixed(
        med(samples, (sample) => sample.units.readUnits),
        1,
      ),
      fixed(
        med(samples, (sample) => sample.units.writeUnits),
        1,
      ),
    ]
    const rows = [
      [
        'quiet run, 1 tick (lease, cursors, one poll)',
        fixed(
          med(quiet1, (sample) => sample.report.slowestTickMs),
          1,
        ),
        fixed(
          med(quiet1, (sample) => sample.cpuMs),
          1,
        ),
        '0',
        'n/a',
        'n/a',
        fixed(
          med(quiet1, (sample) => sample.units.readUnits),
          1,
        ),
        fixed(
          med(quiet1, (sample) => sample.units.writeUnits),
          1,
        ),
      ],
      [
        'each further quiet tick',
        fixed(
          med(quiet4, (sample) => sample.report.meanTickMs),
          1,
        ),
        fixed((med(quiet4, (sample) => sample.cpuMs) - med(quiet1, (sample) => sample.cpuMs)) / furtherTicks, 1),
        '0',
        'n/a',
        'n/a',
        fixed(
          perTick(quiet1, quiet4, (units) => units.readUnits),
          2,
        ),
        fixed(
          perTick(quiet1, quiet4, (units) => units.writeUnits),
          2,
        ),
      ],
      sending(`${CHANGES.toLocaleString('en')} changes, 1 tick`, fanout),
      sending('every ping due, 1 tick', pings),
    ]
    console.log('')
    console.log(
      `graphql-ws poller, built bundle, ${SUBSCRIPTIONS.toLocaleString('en')} subscriptions (one connection each), ` +
        `DynamoDB Local through the counting proxy; medians of ${SAMPLES} samples. One invocation polls the 4 shards ` +
        'side by side; each connection posted to is read once per run (its credential check). CPU: this process ' +
        '(the poller alone: the management API stand-in, the counting proxy and DynamoDB Local run in processes of their own).',
    )
    console.log(renderTable(['run', 'tick ms', 'CPU ms', 'posts', 'posts/s', 'CPU ms/post', 'RRU', 'WRU'], rows))
    const perPost = (samples: Sample[], units: (count: CapacityCount) => number) =>
      med(samples, (sample) => units(sample.units) / Math.max(1, sample.posts))
    console.log(
      `per post of a change: ${fixed(
        perPost(fanout, (units) => units.readUnits),
        2,
      )} RRU, ` +
        `${fixed(
          perPost(fanout, (units) => units.writeUnits),
          2,
        )} WRU; per ping: ` +
        `${fixed(
          perPost(pings, (units) => units.readUnits),
          2,
        )} RRU, ${fixed(
          perPost(pings, (units) => units.writeUnits),
          2,
        )} WRU`,
    )
    console.log(
      `WS_FANOUT_JSON ${JSON.stringify({ quiet1, quiet4, fanout, pings, failures: failures.slice(0, 10) }, (key, value: unknown) => (key === 'calls' ? undefined : value))}`,
    )
    if (failures.length) {
      console.error(`${failures.length} samples went wrong, e.g. ${failures[0]}`)
      process.exitCode = 1
    }
  } finally {
    await management.close()
    await proxy.close()
    await dynamo.stop()
  }
}

await main()
process.exit()
