// `npx tsx bench/fuzz.ts`: hostile requests against the whole local stack (on a DynamoDB Local of its own), optionally
// with the store killed mid-traffic; prints counts by status and category, stack/internal-text answers, hangs, the
// slowest answers and every rule break with the index that replays it, then one line `FUZZ_JSON {...}`.
// Exits 1 when a rule was broken or an acknowledged consent was lost.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { parseArgs } from 'node:util'
import {
  FUZZ_SEED,
  findLostConsents,
  runFuzz,
  runStoreOutage,
  startFuzzSystem,
  type FuzzSystem,
  type StoreOutageResult,
} from '../test/support/hostile/campaign.ts'
import { renderSummary, summarise } from '../test/support/hostile/report.ts'
import { hostileRequest } from '../test/support/hostile/requests.ts'
import type { Verdict } from '../test/support/hostile/verdict.ts'
import { encodeRequest } from '../test/support/hostile/wire.ts'

const EXIT_FAILED = 1
const EXIT_USAGE = 2
const EXIT_INTERRUPTED = 130

const USAGE = `usage: npx tsx bench/fuzz.ts [options]

  --requests N      hostile requests to send               (default 3000)
  --seed N          run seed; request i of seed N is always the same request   (default ${FUZZ_SEED})
  --store-kill      then keep traffic up while DynamoDB Local is stopped and started again, and read back every
                    acknowledged consent
  --concurrency N   requests in flight at once (stalled bodies run beside them)   (default 6)
  --only I[,J...]   replay these request indexes of the seed alone, printing each request and its answer
  --help`

class UsageError extends Error {}

function integer(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${value}"`)
  return parsed
}

function optionsFrom(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      requests: { type: 'string' },
      seed: { type: 'string' },
      'store-kill': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const only = values.only?.split(',').map((index) => integer(index.trim(), 0, 'only', 0))
  return {
    requests: integer(values.requests, 3_000, 'requests', 1),
    seed: integer(values.seed, FUZZ_SEED, 'seed', 0),
    storeKill: values['store-kill'] ?? false,
    concurrency: integer(values.concurrency, 6, 'concurrency', 1),
    only: only ?? null,
  }
}

const started = performance.now()
const progress = (line: string) =>
  process.stderr.write(`[fuzz ${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`)

/** The request as sent, control characters escaped, cut at 2 kB. */
const printable = (bytes: Buffer) => {
  const text = JSON.stringify(bytes.subarray(0, 2_048).toString('utf8')).slice(1, -1)
  return `${text.replace(/\\r\\n/g, '\\r\\n\n  ')}${bytes.length > 2_048 ? `... (${bytes.length} bytes)` : ''}`
}

async function main(): Promise<number> {
  let options: ReturnType<typeof optionsFrom>
  try {
    options = optionsFrom(process.argv.slice(2))
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`)
    return EXIT_USAGE
  }

  progress('starting DynamoDB Local, the sandboxes and the gateway')
  const system: FuzzSystem = await startFuzzSystem()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping`)
      void system.close().finally(() => process.exit(EXIT_INTERRUPTED))
    })
  }
  try {
    if (options.only) {
      for (const verdict of await runFuzz(system, { seed: options.seed, requests: 0, only: options.only })) {
        const request = hostileRequest(options.seed, verdict.index, system.target)
        console.log(`#${verdict.index} ${verdict.variant}\n  ${printable(encodeRequest(request))}`)
        console.log(`-> ${verdict.status ?? verdict.outcome} in ${verdict.ms} ms: ${verdict.excerpt}\n`)
      }
      return 0
    }

    let answered = 0
    const onVerdict = (_verdict: Verdict) => {
      if (++answered % 500 === 0) progress(`${answered} answered`)
    }
    progress(`fuzz: ${options.requests} requests, seed ${options.seed}, ${options.concurrency} at once`)
    const fuzz = await runFuzz(system, { ...options, only: undefined, onVerdict })
    let outage: StoreOutageResult | null = null
    if (options.storeKill) {
      progress('store outage: traffic up, then DynamoDB Local stopped under the gateway and started again')
      outage = await runStoreOutage(system, { seed: options.seed, concurrency: options.concurrency, log: progress })
    }
    const acknowledged = [...fuzz, ...(outage?.verdicts ?? [])].flatMap((v) => (v.acknowledged ? [v.acknowledged] : []))
    const lost = outage ? await findLostConsents(system, acknowledged) : []
    const summary = summarise({ seed: options.seed, fuzz, outage, lost })
    const ok = Object.values(summary.broken).every((count) => count === 0) && lost.length === 0
    console.log(`\n${renderSummary(summary)}\n`)
    console.log(
      `wall time ${((performance.now() - started) / 1000).toFixed(1)} s${ok ? '' : '  (rules broken, see above)'}`,
    )
    console.log(`FUZZ_JSON ${JSON.stringify({ ok, ...summary, failures: summary.failures.slice(0, 50) })}`)
    return ok ? 0 : EXIT_FAILED
  } finally {
    await system.close()
  }
}

const code = await main()
process.exitCode = code
// Sockets a hostile request left half-open must not hold the process once everything is reported.
setTimeout(() => process.exit(code), 2_000).unref()
