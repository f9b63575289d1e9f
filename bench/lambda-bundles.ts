// Suite lambda-bundles: the size of each deployable function bundle, and the GraphQL bundle's cold start (a fresh
// node process importing it and answering consent(id), with the partner's HTTP Basic credentials, generated or chosen,
// and with its bearer token) against two baselines built the same way: a minimal yoga + Pothos bundle, and the same
// reading one DynamoDB item. Alternating runs, medians.
import { execFileSync, spawn } from 'node:child_process'
import { freePort, startDynamoDBLocal } from '../local/dynamodb-local.ts'
import { buildAllFunctions, buildFunction, kilobytes } from '../scripts/build-functions.ts'
import { hashSecret, issueSecret, verifySecret } from '../crypto/secret-hash.ts'
import { AccessRepository } from '../store/access-repository.ts'
import { benchBearerToken, benchFunctionEnv, seedBenchTable } from './bench-table.ts'
import {
  BENCH_CLIENT,
  BENCH_TABLE,
  BENCH_TENANT_ID,
  CONSENT_REQUEST_BODY,
  EXPECTED_ANSWER,
  EXPECTED_GATEWAY_ANSWER,
} from './consent-fixture.ts'
import { median } from './measure.ts'
import type { Suite, SuiteResult } from './suite.ts'
import { fixed, renderTable } from './table.ts'

/**
 * Goals of the issue: cold init at most 1.2 x the minimal bundle doing the same DynamoDB read (issue 13); the GraphQL
 * bundle at most 1.5 MB (10^6 bytes).
 */
const RATIO_GOAL = 1.2
const SIZE_GOAL_BYTES = 1_500_000
const COLD_RUNS = 7
/** The bench's second API client, with a generated secret. */
const GENERATED_CLIENT_ID = 'bench-generated-client'

interface ColdRun {
  /** Spawn to exit, as the parent sees it (node start, import, first answer). */
  readonly wallMs: number
  /**
   * The process's own CPU time (user + system) from start to exit. On a shared machine wall time swings with what else
   * runs; CPU time is the work the bundle itself makes, so its ratios hold still where the wall-time ones wander.
   */
  readonly cpuMs: number
  /** Inside the process: importing the bundle, and import plus the first answer. */
  readonly importMs: number
  readonly answerMs: number
}

interface ColdRequest {
  readonly request: object
  /** The answer the bundle must give, byte for byte: a wrong answer fails the suite. */
  readonly expected: string
}

/**
 * Preloaded into every cold-started process (the same for every bundle): prints the process's CPU time when it exits,
 * after the runtime's own line.
 */
const CPU_REPORTER = `data:text/javascript,process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\n{"cpuMs":' + (u.user + u.system) / 1000 + '}\\n') })`

function coldStart(
  node: string,
  bundle: string,
  { request, expected }: ColdRequest,
  env: Record<string, string>,
): Promise<ColdRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(
      node,
      [
        '--import',
        CPU_REPORTER,
        'scripts/lambda-runtime.mjs',
        '--once',
        '--bundle',
        bundle,
        '--request',
        JSON.stringify(request),
      ],
      { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.once('exit', (code) => {
      const wallMs = performance.now() - started
      const line = out.split('\n').find((l) => l.startsWith('{"status"'))
      const cpuLine = out.split('\n').find((l) => l.startsWith('{"cpuMs"'))
      if (code !== 0 || !line || !cpuLine) {
        return reject(new Error(`cold start of ${bundle} failed (${code}):\n${out}`))
      }
      const result = JSON.parse(line) as { status: number; body: string; importMs: number; totalMs: number }
      if (result.status !== 200 || result.body !== expected) {
        return reject(new Error(`cold start of ${bundle} answered ${result.status}: ${result.body}`))
      }
      const { cpuMs } = JSON.parse(cpuLine) as { cpuMs: number }
      resolve({ wallMs, cpuMs, importMs: result.importMs, answerMs: result.totalMs })
    })
  })
}

/**
 * Seeds the bench table on the DynamoDB at `endpoint` for cold starts (the consent, the chosen-secret API client and
 * one with a generated secret) and returns the environment every cold-started bundle gets and the request each
 * subject sends: also used by bench/cold-profile.ts, which profiles the same cold starts.
 */
export async function coldStartSeed(endpoint: string) {
  const { client, db } = await seedBenchTable(endpoint)
  const env = benchFunctionEnv(endpoint)
  // The partner's bearer token, minted by the gateway built from the same environment.
  const accessToken = await benchBearerToken(env, db)
  // A partner's client as `npm run admin create-client` makes it: a generated secret under the keyed hash. The
  // seeded BENCH_CLIENT has a chosen secret, so scrypt: both are measured.
  const generated = issueSecret()
  await new AccessRepository(db, BENCH_TABLE).putApiClient({
    clientId: GENERATED_CLIENT_ID,
    tenantId: BENCH_TENANT_ID,
    name: GENERATED_CLIENT_ID,
    secretHash: generated.secretHash,
    disabled: false,
    createdAt: new Date().toISOString(),
  })
  client.destroy()
  const post = (body: string, authorization: string | null) => ({
    method: 'POST',
    path: '/graphql',
    headers: {
      host: 'bench.lambda-url.local',
      'content-type': 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body,
  })
  const basicOf = (clientId: string, secret: string) =>
    `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`
  return {
    env,
    requests: {
      graphql: post(CONSENT_REQUEST_BODY, basicOf(GENERATED_CLIENT_ID, generated.secret)),
      graphqlChosen: post(CONSENT_REQUEST_BODY, basicOf(BENCH_CLIENT.clientId, BENCH_CLIENT.clientSecret)),
      graphqlBearer: post(CONSENT_REQUEST_BODY, `Bearer ${accessToken}`),
      minimal: post('{"query":"{ hello }"}', null),
      minimalDynamodb: post(CONSENT_REQUEST_BODY, null),
    },
  }
}

export const lambdaBundlesSuite: Suite = {
  name: 'lambda-bundles',
  title: 'Lambda bundles: sizes, and the GraphQL cold start (Basic, bearer) against a minimal yoga + Pothos bundle',
  async run(settings, signal, progress): Promise<SuiteResult> {
    // The node the bundles cold-start on: this one, or another (`--node`), e.g. of the Lambda runtime's major version.
    const node = settings.node ?? process.execPath
    const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
    progress('building the function bundles and the two baselines')
    const functions = await buildAllFunctions('dist/functions-bench')
    const minimal = await buildFunction('minimal-graphql', 'bench/fixtures/minimal-graphql.ts', 'dist/functions-bench')
    const minimalDynamo = await buildFunction(
      'minimal-dynamodb-graphql',
      'bench/fixtures/minimal-dynamodb-graphql.ts',
      'dist/functions-bench',
    )
    const graphql = functions.find((fn) => fn.name === 'graphql')
    if (!graphql) throw new Error('no graphql bundle')

    progress('starting DynamoDB Local, seeding the API client and the consent both DynamoDB bundles read')
    const dynamo = await startDynamoDBLocal({ port: await freePort(), startTimeoutMs: 180_000 })
    try {
      const { env, requests } = await coldStartSeed(dynamo.endpoint)
      const subjects = {
        // The consent query of the consent-get suite, as a partner sends it: authenticated, one consent read.
        graphql: { entry: graphql.entry, ask: { request: requests.graphql, expected: EXPECTED_GATEWAY_ANSWER } },
        // The same with a secret an operator chose (seeded): one scrypt verification on the first request.
        graphqlChosen: {
          entry: graphql.entry,
          ask: { request: requests.graphqlChosen, expected: EXPECTED_GATEWAY_ANSWER },
        },
        // The same with the bearer token: verified from its signature (jose, loaded then), no table read, no scrypt.
        graphqlBearer: {
          entry: graphql.entry,
          ask: { request: requests.graphqlBearer, expected: EXPECTED_GATEWAY_ANSWER },
        },
        minimal: { entry: minimal.entry, ask: { request: requests.minimal, expected: '{"data":{"hello":"world"}}' } },
        'minimal-dynamodb': {
          entry: minimalDynamo.entry,
          ask: { request: requests.minimalDynamodb, expected: EXPECTED_ANSWER },
        },
      } as const
      const names = Object.keys(subjects) as (keyof typeof subjects)[]
      const runs = Object.fromEntries(names.map((name) => [name, [] as ColdRun[]])) as Record<
        keyof typeof subjects,
        ColdRun[]
      >
      // One unmeasured run each warms the OS file cache; then alternate, so drift hits all alike.
      for (const name of names) await coldStart(node, subjects[name].entry, subjects[name].ask, env)
      for (let round = 0; round < COLD_RUNS && !signal.aborted; round++) {
        progress(`cold start round ${round + 1}/${COLD_RUNS}`)
        for (const name of names) runs[name].push(await coldStart(node, subjects[name].entry, subjects[name].ask, env))
      }
      // What the first request's authentication costs by itself: one scrypt verification (later requests hit the
      // verified-credentials cache).
      const stored = await hashSecret(BENCH_CLIENT.clientSecret)
      const scryptMs: number[] = []
      for (let i = 0; i < 5; i++) {
        const started = performance.now()
        await verifySecret(BENCH_CLIENT.clientSecret, stored)
        scryptMs.push(performance.now() - started)
      }
      const med = (list: ColdRun[], key: keyof ColdRun) => median(list.map((run) => run[key]))
      const ratio = med(runs.graphql, 'wallMs') / med(runs.minimal, 'wallMs')
      const ratioDynamo = med(runs.graphql, 'wallMs') / med(runs['minimal-dynamodb'], 'wallMs')
      const ratioChosenDynamo = med(runs.graphqlChosen, 'wallMs') / med(runs['minimal-dynamodb'], 'wallMs')
      const ratioBearer = med(runs.graphqlBearer, 'wallMs') / med(runs.minimal, 'wallMs')
      const ratioBearerDynamo = med(runs.graphqlBearer, 'wallMs') / med(runs['minimal-dynamodb'], 'wallMs')
      const cpuRatioDynamo = med(runs.graphql, 'cpuMs') / med(runs['minimal-dynamodb'], 'cpuMs')
      const cpuRatioBearerDynamo = med(runs.graphqlBearer, 'cpuMs') / med(runs['minimal-dynamodb'], 'cpuMs')
      const MB = (bytes: number) => (bytes / 1_000_000).toFixed(2)
      const kB = kilobytes
      const verdict = (met: boolean) => (met ? 'met' : 'NOT MET')
      const table = [
        renderTable(
          ['bundle', 'entry kB', 'loaded at cold start kB', 'all kB (lazy chunks included)'],
          [...functions, minimal, minimalDynamo].map((fn) => [
            fn.name,
            kB(fn.entryBytes),
            kB(fn.staticBytes),
            kB(fn.totalBytes),
          ]),
        ),
        '',
        `cold start on node ${nodeVersion}, median of ${COLD_RUNS} alternating runs (a fresh node process imports the bundle and answers one query):`,
        renderTable(
          ['bundle', 'query', 'spawn to exit ms', 'CPU ms', 'import ms', 'import + first answer ms'],
          names.map((name) => [
            name,
            name === 'minimal'
              ? '{ hello }'
              : 'consent(id), one GetItem' +
                (name === 'graphql'
                  ? ' + Basic, generated secret'
                  : name === 'graphqlChosen'
                    ? ' + Basic, chosen secret'
                    : name === 'graphqlBearer'
                      ? ' + bearer token'
                      : ''),
            fixed(med(runs[name], 'wallMs'), 0),
            fixed(med(runs[name], 'cpuMs'), 0),
            fixed(med(runs[name], 'importMs'), 0),
            fixed(med(runs[name], 'answerMs'), 0),
          ]),
        ),
        `the first request's authentication: API client read + one keyed SHA-256 (generated secret) or one scrypt verification (chosen secret): scrypt alone ${fixed(median(scryptMs), 0)} ms`,
        '',
        `cold start ratio graphql (Basic, generated secret) / minimal yoga + Pothos reading DynamoDB: ${ratioDynamo.toFixed(2)}  (goal <= ${RATIO_GOAL}: ${verdict(ratioDynamo <= RATIO_GOAL)})`,
        `cold start ratio graphql (Basic, chosen secret: scrypt) / minimal yoga + Pothos reading DynamoDB: ${ratioChosenDynamo.toFixed(2)}`,
        `cold start ratio graphql (bearer) / minimal yoga + Pothos reading DynamoDB: ${ratioBearerDynamo.toFixed(2)}  (goal <= ${RATIO_GOAL}: ${verdict(ratioBearerDynamo <= RATIO_GOAL)})`,
        `CPU time ratio (the same runs; steadier on a shared machine) graphql (Basic, generated secret) / minimal reading DynamoDB: ${cpuRatioDynamo.toFixed(2)}, graphql (bearer) / minimal reading DynamoDB: ${cpuRatioBearerDynamo.toFixed(2)}`,
        `cold start ratio graphql (Basic, generated secret) / minimal yoga + Pothos { hello }: ${ratio.toFixed(2)}`,
        `cold start ratio graphql (bearer) / minimal yoga + Pothos { hello }: ${ratioBearer.toFixed(2)}`,
        `GraphQL bundle: ${MB(graphql.totalBytes)} MB in all (goal <= ${MB(SIZE_GOAL_BYTES)} MB: ${verdict(graphql.totalBytes <= SIZE_GOAL_BYTES)})`,
      ].join('\n')
      return {
        figures: {
          coldStartNode: nodeVersion,
          ...Object.fromEntries(
            [...functions, minimal, minimalDynamo].flatMap((fn) => [
              [`${fn.name}EntryBytes`, fn.entryBytes],
              [`${fn.name}StaticBytes`, fn.staticBytes],
              [`${fn.name}TotalBytes`, fn.totalBytes],
            ]),
          ),
          ...Object.fromEntries(
            names.flatMap((name) => [
              [`${name}ColdMs`, Number(fixed(med(runs[name], 'wallMs'), 1))],
              [`${name}CpuMs`, Number(fixed(med(runs[name], 'cpuMs'), 1))],
              [`${name}ImportMs`, Number(fixed(med(runs[name], 'importMs'), 1))],
              [`${name}AnswerMs`, Number(fixed(med(runs[name], 'answerMs'), 1))],
            ]),
          ),
          scryptVerifyMs: Number(fixed(median(scryptMs), 1)),
          coldRatio: Number(ratio.toFixed(3)),
          coldRatioVsDynamo: Number(ratioDynamo.toFixed(3)),
          coldRatioVsDynamoMet: ratioDynamo <= RATIO_GOAL,
          coldRatioChosenVsDynamo: Number(ratioChosenDynamo.toFixed(3)),
          cpuRatioVsDynamo: Number(cpuRatioDynamo.toFixed(3)),
          cpuRatioBearerVsDynamo: Number(cpuRatioBearerDynamo.toFixed(3)),
          coldRatioBearer: Number(ratioBearer.toFixed(3)),
          coldRatioBearerVsDynamo: Number(ratioBearerDynamo.toFixed(3)),
          coldRatioBearerVsDynamoMet: ratioBearerDynamo <= RATIO_GOAL,
          sizeGoalMet: graphql.totalBytes <= SIZE_GOAL_BYTES,
        },
        table,
        failures: [],
        details: { runs, scryptMs },
      }
    } finally {
      await dynamo.stop()
    }
  },
}
