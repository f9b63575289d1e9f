// Bench: how long one tick of the graphql-ws poller takes, the BUILT bundle (functions/ws-poller.ts as SST bundles it)
// against DynamoDB Local, with 1,000 stored subscriptions (one per connection, each watching its own consent) and 0, 1
// and 10 changes in the tick, each to a watched consent; the management API answered by a local HTTP server. The cost
// of the WebSocket path is computed from these figures. Each sample is one invocation polling one tick (its window
// set by the invocation's remaining time); before it, a run has drained what earlier samples left to settle, so the
// tick reads only its own changes, as a tick inside a run does. Every connection is read once per run for its
// credential check, so each sample pays that for every connection it posts to: a tick of a run's first second.
// Prints the figures; run it alone (`npx tsx bench/ws-poller.ts`), on a quiet machine.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { startDynamoDBLocal } from '../local/dynamodb-local.ts'
import { buildFunction } from '../scripts/build-functions.ts'
import { FEED_SETTLE_MS } from '../service/change-feed.ts'
import type { WsPollerReport } from '../service/ws-poller.ts'
import { createDocumentClient, createDynamoClient } from '../store/client.ts'
import { ensureTable } from '../store/table-admin.ts'
import { percentile } from './measure.ts'
import { fixed, renderTable } from './table.ts'
import { seedWatchers } from './ws-stored-watchers.ts'

const SUBSCRIPTIONS = 1_000
const CHANGES = [0, 1, 10] as const
const SAMPLES = 10
const WARMUP_SAMPLES = 3
const TENANT_ID = '01JD0BENCHWSP0LLERTENANT00'
const CLIENT = { clientId: 'bench-ws-poller', clientSecret: 'bench-ws-poller-secret-0123456789' }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** API Gateway's management API as far as the poller uses it: every post taken (200), every close (204). */
async function startManagementApi() {
  let posts = 0
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      if (request.method === 'POST' && request.url?.startsWith('/@connections/')) posts++
      response.writeHead(request.method === 'DELETE' ? 204 : 200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts: () => posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function main() {
  const dynamo = await startDynamoDBLocal()
  const management = await startManagementApi()
  try {
    const built = await buildFunction('ws-poller', 'functions/ws-poller.ts', 'dist/functions-bench')
    const tableName = `bench-ws-poller-${Date.now()}`
    await ensureTable(createDynamoClient({ endpoint: dynamo.endpoint }), tableName)
    const env = {
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      PUBLIC_BASE_URL: 'http://127.0.0.1:1',
      CURSOR_SECRET: 'bench-ws-poller-cursor-secret-0123456789',
      USER_REFERENCE_KEY: 'bench-ws-poller-user-reference-key-0123456789',
      WS_MANAGEMENT_ENDPOINT: management.endpoint,
      SUBSCRIPTION_POLL_INTERVAL_MS: '1000',
      LOG_LEVEL: 'SILENT',
    }
    Object.assign(process.env, env)

    // Seed: the tenant's client, 1,000 consents, a connection with one subscription to each.
    const db = createDocumentClient(createDynamoClient({ endpoint: dynamo.endpoint }))
    const { change } = await seedWatchers({
      db,
      tableName,
      tenantId: TENANT_ID,
      client: CLIENT,
      subscriptions: SUBSCRIPTIONS,
    })

    const { handler } = (await import(pathToFileURL(built.entry).href)) as {
      handler: (event: unknown, context: object) => Promise<WsPollerReport>
    }
    /** One invocation whose remaining time leaves room for one tick (the job keeps 5 s back). */
    const oneTick = () => handler({}, { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 5_000 })
    /** Lets what earlier samples changed settle, and a run take it off the shards' cursors. */
    const drain = async () => {
      await sleep(FEED_SETTLE_MS + 500)
      await oneTick()
    }

    await oneTick()
    const rows: string[][] = []
    for (const changes of CHANGES) {
      const ticks: number[] = []
      const runs: number[] = []
      for (let sample = 0; sample < WARMUP_SAMPLES + SAMPLES; sample++) {
        await drain()
        await change(changes)
        const postsBefore = management.posts()
        const started = performance.now()
        const report = await oneTick()
        const runMs = performance.now() - started
        const posted = management.posts() - postsBefore
        if (report.ticks !== 1 || report.sent !== changes || posted !== changes || report.failedTicks > 0) {
          throw new Error(`a sample went wrong: ${JSON.stringify({ changes, posted, report })}`)
        }
        if (sample < WARMUP_SAMPLES) continue
        ticks.push(report.slowestTickMs)
        runs.push(runMs)
      }
      rows.push([
        String(changes),
        fixed(percentile(ticks, 50), 1),
        fixed(percentile(ticks, 90), 1),
        fixed(Math.min(...ticks), 1),
        fixed(Math.max(...ticks), 1),
        fixed(percentile(runs, 50), 1),
      ])
    }
    console.log(
      `graphql-ws poller, built bundle (${built.entry}) against DynamoDB Local: one tick with ${SUBSCRIPTIONS.toLocaleString('en')} subscriptions, ${SAMPLES} samples per row`,
    )
    console.log(
      renderTable(
        ['changes in the tick', 'tick p50 ms', 'tick p90 ms', 'tick min ms', 'tick max ms', 'one-tick run p50 ms'],
        rows,
      ),
    )
    console.log(
      'tick: every shard read, due pings, watchers, consents, posts; one-tick run: the invocation with its leases and cursors',
    )
  } finally {
    await management.close()
    await dynamo.stop()
  }
}

await main()
