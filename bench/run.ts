// `npm run bench`: runs the bench suites one after another, prints each one's table, then one machine-readable
// line `BENCH_JSON {...}`. Exits 1 when any suite saw an error or a wrong answer, 130 when interrupted.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { mkdtemp } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { consentGetSuite } from './consent-get.ts'
import { summariseCpuProfile } from './cpu-profile.ts'
import { lambdaBundlesSuite } from './lambda-bundles.ts'
import { subscriptionsSuite } from './subscriptions.ts'
import type { BenchSettings, Suite, SuiteResult } from './suite.ts'

const SUITES: readonly Suite[] = [consentGetSuite, lambdaBundlesSuite, subscriptionsSuite]

const EXIT_FAILED = 1
const EXIT_USAGE = 2
const EXIT_INTERRUPTED = 130

const USAGE = `usage: npm run bench -- [options]

  --quick              smoke check: 1 round x 2 s, 2 s warm-up (explicit flags still win)
  --rounds N           measured rounds per target            (default 3, env BENCH_ROUNDS)
  --duration S         seconds per round and target          (default 5, env BENCH_DURATION)
  --warmup S           least warm-up seconds per target      (default 6, env BENCH_WARMUP)
  --warmup-max S       most warm-up seconds per target; warm-up stops earlier once req/s levels off
                                                             (default 30, env BENCH_WARMUP_MAX)
  --connections N      concurrent connections                (default 10, env BENCH_CONNECTIONS)
  --suite NAME         run only this suite (repeatable): ${SUITES.map((s) => s.name).join(', ')}
                       subscriptions: --duration is the changing time per row; env BENCH_SUBSCRIPTION_WATCHERS
                       (default 10,100,1000,10000), BENCH_SUBSCRIPTION_SSE (1000), BENCH_SUBSCRIPTION_RATE (20/s)
  --only TARGET        measure one target only, e.g. gateway (to profile it alone)
  --providers P        gateway provider wiring: finqware (default) or none
  --store S            consent-get's store: dynamodb (default, DynamoDB Local) or canned (GetItem answered in process
                       from DynamoDB Local's first answer: the servers' own CPU, without the JVM)
  --node PATH          lambda-bundles: cold-start the bundles with this node binary (default: the one running the
                       bench, env BENCH_NODE), e.g. the Lambda runtime's major version, see docs/architecture.md
  --cpu-prof           write a V8 CPU profile of the servers' process and summarise it
  --cpu-prof-dir DIR   where to write it                     (default: a new directory under ${tmpdir()})
  --help`

class UsageError extends Error {}

function numberOption(value: string | undefined, fallback: number, name: string, min: number, integer: boolean) {
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < min || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${value}"`)
  }
  return parsed
}

async function settingsFrom(argv: readonly string[]): Promise<{ settings: BenchSettings; suites: Suite[] }> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'warmup-max': { type: 'string' },
      connections: { type: 'string' },
      suite: { type: 'string', multiple: true },
      only: { type: 'string' },
      providers: { type: 'string', default: 'finqware' },
      store: { type: 'string', default: 'dynamodb' },
      node: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'cpu-prof-dir': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const env = process.env
  const quick = values.quick ?? false
  if (values.providers !== 'finqware' && values.providers !== 'none') {
    throw new UsageError(`--providers must be finqware or none, got "${values.providers}"`)
  }
  if (values.store !== 'dynamodb' && values.store !== 'canned') {
    throw new UsageError(`--store must be dynamodb or canned, got "${values.store}"`)
  }
  const wanted = values.suite ?? SUITES.map((suite) => suite.name)
  const unknown = wanted.filter((name) => !SUITES.some((suite) => suite.name === name))
  if (unknown.length) throw new UsageError(`unknown suite(s): ${unknown.join(', ')}`)
  const profile = (values['cpu-prof'] ?? false) || values['cpu-prof-dir'] !== undefined
  return {
    suites: SUITES.filter((suite) => wanted.includes(suite.name)),
    settings: {
      rounds: numberOption(values.rounds ?? env.BENCH_ROUNDS, quick ? 1 : 3, 'rounds', 1, true),
      durationSec: numberOption(values.duration ?? env.BENCH_DURATION, quick ? 2 : 5, 'duration', 0.5, false),
      warmupSec: numberOption(values.warmup ?? env.BENCH_WARMUP, quick ? 2 : 6, 'warmup', 0, false),
      warmupMaxSec: numberOption(values['warmup-max'] ?? env.BENCH_WARMUP_MAX, quick ? 2 : 30, 'warmup-max', 0, false),
      connections: numberOption(values.connections ?? env.BENCH_CONNECTIONS, 10, 'connections', 1, true),
      only: values.only ?? null,
      providers: values.providers,
      store: values.store,
      node: values.node ?? env.BENCH_NODE ?? null,
      cpuProfDir: profile
        ? (values['cpu-prof-dir'] ?? (await mkdtemp(join(tmpdir(), 'consent-gateway-bench-prof-'))))
        : null,
    },
  }
}

const started = performance.now()
const elapsed = () => (performance.now() - started) / 1000
const progress = (line: string) => process.stderr.write(`[bench ${elapsed().toFixed(1)} s] ${line}\n`)

async function main(): Promise<number> {
  let parsed: Awaited<ReturnType<typeof settingsFrom>>
  try {
    parsed = await settingsFrom(process.argv.slice(2))
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`)
    return EXIT_USAGE
  }
  const { settings, suites } = parsed

  const controller = new AbortController()
  let firstSignalAt = 0
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) {
        // One Ctrl-C arrives more than once (from the terminal, and relayed by npm): only a later one means "now".
        // The exit handlers still SIGKILL the child processes.
        if (performance.now() - firstSignalAt > 1_000) process.exit(EXIT_INTERRUPTED)
        return
      }
      firstSignalAt = performance.now()
      progress(`${signal}: stopping (again to force)`)
      controller.abort(new Error(`interrupted by ${signal}`))
    })
  }

  const results: Record<string, { ok: boolean; result: SuiteResult | null; error: string | null }> = {}
  for (const suite of suites) {
    if (controller.signal.aborted) break
    progress(`suite ${suite.name}: ${suite.title}`)
    try {
      const result = await suite.run(settings, controller.signal, (line) => progress(`${suite.name}: ${line}`))
      results[suite.name] = { ok: result.failures.length === 0, result, error: null }
    } catch (error) {
      if (controller.signal.aborted) break
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
      results[suite.name] = { ok: false, result: null, error: message }
    }
  }
  if (controller.signal.aborted) {
    progress('interrupted; everything stopped')
    return EXIT_INTERRUPTED
  }

  const ok = Object.values(results).every((r) => r.ok)
  for (const suite of suites) {
    const outcome = results[suite.name]
    if (!outcome) continue
    console.log(`\n=== ${suite.name}: ${suite.title} ===\n`)
    if (outcome.result) console.log(outcome.result.table)
    const problems = outcome.error ? [outcome.error] : (outcome.result?.failures ?? [])
    if (problems.length) {
      const block = `\n!!! ${suite.name} FAILED: its figures are not valid !!!\n${problems.map((p) => `  - ${p}`).join('\n')}\n`
      console.log(block)
      console.error(block)
    }
    if (outcome.result?.cpuProfile) console.log(`\n${await summariseCpuProfile(outcome.result.cpuProfile)}`)
  }

  const json = {
    ok,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: availableParallelism(),
    settings,
    wallTimeSec: Math.round(elapsed() * 10) / 10,
    suites: Object.fromEntries(
      Object.entries(results).map(([name, { ok, result, error }]) => [
        name,
        {
          ok,
          figures: result?.figures ?? null,
          failures: error ? [error] : (result?.failures ?? []),
          ...(result?.details ?? {}),
          ...(result?.cpuProfile ? { cpuProfile: result.cpuProfile } : {}),
        },
      ]),
    ),
  }
  console.log(`\nwall time ${elapsed().toFixed(1)} s${ok ? '' : '  (FAILED, see above)'}`)
  console.log(`BENCH_JSON ${JSON.stringify(json)}`)
  return ok ? 0 : EXIT_FAILED
}

const code = await main()
process.exitCode = code
// Stray keep-alive sockets must not hold the process open once everything is reported.
setTimeout(() => process.exit(code), 2_000).unref()
