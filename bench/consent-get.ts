// Suite consent-get: the GraphQL query consent(id) through the real gateway, with the partner's HTTP Basic credentials
// and with its bearer token from /oauth/token, against two baselines doing the same GetItem: a raw node:http handler,
// and a minimal yoga + Pothos server (so the cost of our own features shows apart from yoga's), all served by one child
// process from one in-memory DynamoDB Local; alternating rounds, medians, ratios.
import { startDynamoDBLocal } from '../local/dynamodb-local.ts'
import { BENCH_TABLE, CONSENT_REQUEST_BODY, EXPECTED_ANSWER, EXPECTED_GATEWAY_ANSWER } from './consent-fixture.ts'
import { measure, median, type HttpTarget, type Measurement } from './measure.ts'
import { startServers, type ServersProcess } from './server-process.ts'
import type { BenchSettings, Figure, Suite, SuiteResult } from './suite.ts'
import { fixed, renderTable } from './table.ts'

/**
 * `raw` and `minimal` are the baselines; `gateway` is the partner's HTTP Basic credentials, `gatewayBearer` its access
 * token (verified from its signature); `gatewayYogaOnly` is `gateway` with the GraphQL fast path off, every request
 * through yoga's pipeline (schema/fast-path.ts), so what the fast path saves shows within one run.
 */
const TARGETS = ['raw', 'minimal', 'gateway', 'gatewayBearer', 'gatewayYogaOnly'] as const
type TargetName = (typeof TARGETS)[number]
type Baseline = 'raw' | 'minimal'

/** The ratios gateway req/s / baseline req/s the gateway should reach (issue 13). */
const GOALS: Record<Baseline, number> = { raw: 0.85, minimal: 0.95 }

export interface RoundFigures extends Measurement {
  readonly round: number
  /** CPU the servers' process spent per answered request during the round (user + system). */
  readonly cpuMicrosPerReq: number
}

function targetsOf(servers: ServersProcess): Record<TargetName, HttpTarget> {
  // Identical requests: the raw server gets the same headers and body, so request parsing costs the same.
  const request = {
    method: 'POST' as const,
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: servers.authorization,
    },
    body: CONSENT_REQUEST_BODY,
    expectBody: EXPECTED_ANSWER,
  }
  const gateway = { ...request, expectBody: EXPECTED_GATEWAY_ANSWER }
  const bearer = { ...gateway, headers: { ...request.headers, authorization: servers.bearerAuthorization } }
  return {
    raw: { name: 'raw', url: servers.rawUrl, ...request },
    minimal: { name: 'minimal', url: servers.minimalUrl, ...request },
    gateway: { name: 'gateway', url: servers.gatewayUrl, ...gateway },
    gatewayBearer: { name: 'gatewayBearer', url: servers.gatewayUrl, ...bearer },
    gatewayYogaOnly: { name: 'gatewayYogaOnly', url: servers.yogaOnlyUrl, ...gateway },
  }
}

/** One request before any load, so a wiring mistake fails fast with the answer that shows it. */
async function probe(target: HttpTarget, signal: AbortSignal): Promise<void> {
  const response = await fetch(target.url, {
    method: target.method,
    headers: target.headers,
    ...(target.body === undefined ? {} : { body: target.body }),
    signal,
  })
  const text = await response.text()
  if (response.status !== 200 || text !== target.expectBody) {
    throw new Error(
      `${target.name} (${target.url}) answered ${response.status} ${text.slice(0, 500)}\n  expected 200 ${target.expectBody}`,
    )
  }
}

/** Failures of one measurement, as report lines (none when every answer was a 200 with the expected body). */
function failuresOf(phase: string, m: Measurement): string[] {
  const bad = m.non2xx + m.errors + m.mismatches
  if (bad === 0 && m.requests > 0) return []
  if (m.requests === 0) return [`${phase} ${m.target}: no answers at all`]
  return [
    `${phase} ${m.target}: ${m.non2xx} non-2xx, ${m.errors} connection errors (${m.timeouts} timeouts), ` +
      `${m.mismatches} wrong bodies out of ${m.requests} answers`,
  ]
}

interface Summary {
  readonly reqPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly cpuMicrosPerReq: number
  readonly requests: number
  readonly non2xx: number
  readonly errors: number
  readonly mismatches: number
}

function summarise(rounds: readonly RoundFigures[]): Summary | null {
  if (rounds.length === 0) return null
  const sum = (pick: (r: RoundFigures) => number) => rounds.reduce((total, r) => total + pick(r), 0)
  return {
    reqPerSec: median(rounds.map((r) => r.reqPerSec)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    cpuMicrosPerReq: median(rounds.map((r) => r.cpuMicrosPerReq)),
    requests: sum((r) => r.requests),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    mismatches: sum((r) => r.mismatches),
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10
const round3 = (value: number) => Math.round(value * 1000) / 1000

function figuresOf(name: TargetName, summary: Summary | null): Record<string, Figure> {
  return {
    [`${name}ReqPerSec`]: summary ? round1(summary.reqPerSec) : null,
    [`${name}P50Ms`]: summary ? round3(summary.p50Ms) : null,
    [`${name}P99Ms`]: summary ? round3(summary.p99Ms) : null,
    [`${name}CpuMicrosPerReq`]: summary ? round1(summary.cpuMicrosPerReq) : null,
    [`${name}Requests`]: summary ? summary.requests : null,
  }
}

/** Warm-up slices (alternating between targets) last this long at most. */
const WARMUP_SLICE_SEC = 2
/** A slice this much faster than the best before it means the target is still warming up. */
const STILL_RISING = 1.05

/** What the warm-up did: req/s of each slice per target, and whether every target levelled off. */
interface Warmup {
  readonly slices: Partial<Record<TargetName, number[]>>
  secondsPerTarget: number
  /** Null when the warm-up was too short to tell (fewer than 3 slices). */
  levelledOff: boolean | null
}

/**
 * A target has levelled off when its last two slices are no faster than the best slice before them (JIT in the
 * servers' process and in DynamoDB Local's JVM takes a good 15 s of load on this kind of machine).
 */
function levelledOff(slices: readonly number[]): boolean {
  if (slices.length < 3) return false
  const best = Math.max(...slices.slice(0, -2))
  return slices.slice(-2).every((rps) => rps <= best * STILL_RISING)
}

function report(
  settings: BenchSettings,
  warmup: Warmup,
  rounds: readonly RoundFigures[],
  failures: readonly string[],
): Omit<SuiteResult, 'failures'> {
  const summaries = Object.fromEntries(
    TARGETS.map((target) => [target, summarise(rounds.filter((r) => r.target === target))]),
  ) as Record<TargetName, Summary | null>
  const { gateway, gatewayBearer } = summaries
  const reqRatio = (subject: Summary | null, base: Summary | null) =>
    subject && base ? subject.reqPerSec / base.reqPerSec : null
  // CPU per request does not depend on what else the machine runs: a steadier view of the same cost gap.
  const cpuRatio = (base: Summary | null) => (gateway && base ? base.cpuMicrosPerReq / gateway.cpuMicrosPerReq : null)
  const overhead = (base: Summary | null) => (gateway && base ? gateway.cpuMicrosPerReq - base.cpuMicrosPerReq : null)
  const ratios = {
    raw: reqRatio(gateway, summaries.raw),
    minimal: reqRatio(gateway, summaries.minimal),
    bearerRaw: reqRatio(gatewayBearer, summaries.raw),
    bearerMinimal: reqRatio(gatewayBearer, summaries.minimal),
    bearerVsBasic: reqRatio(gatewayBearer, gateway),
    fastVsYogaOnly: reqRatio(gateway, summaries.gatewayYogaOnly),
  }
  const roundOrNull = (value: number | null) => (value === null ? null : round3(value))
  const metOrNull = (value: number | null, goal: number) => (value === null ? null : value >= goal)
  const total = (pick: (s: Summary) => number) =>
    TARGETS.reduce((sum, t) => sum + (summaries[t] ? pick(summaries[t]) : 0), 0)

  const figures: Record<string, Figure> = {
    ...figuresOf('raw', summaries.raw),
    ...figuresOf('gateway', gateway),
    ...figuresOf('gatewayBearer', gatewayBearer),
    ...figuresOf('minimal', summaries.minimal),
    ...figuresOf('gatewayYogaOnly', summaries.gatewayYogaOnly),
    ratio: roundOrNull(ratios.raw),
    ratioGoal: GOALS.raw,
    ratioMet: metOrNull(ratios.raw, GOALS.raw),
    minimalRatio: roundOrNull(ratios.minimal),
    minimalRatioGoal: GOALS.minimal,
    minimalRatioMet: metOrNull(ratios.minimal, GOALS.minimal),
    bearerRatio: roundOrNull(ratios.bearerRaw),
    bearerRatioMet: metOrNull(ratios.bearerRaw, GOALS.raw),
    bearerMinimalRatio: roundOrNull(ratios.bearerMinimal),
    bearerMinimalRatioMet: metOrNull(ratios.bearerMinimal, GOALS.minimal),
    bearerVsBasicRatio: roundOrNull(ratios.bearerVsBasic),
    fastPathVsYogaOnlyRatio: roundOrNull(ratios.fastVsYogaOnly),
    fastPathCpuSavedMicrosPerReq: (() => {
      const [yogaOnly, fast] = [summaries.gatewayYogaOnly, gateway]
      return yogaOnly && fast ? round1(yogaOnly.cpuMicrosPerReq - fast.cpuMicrosPerReq) : null
    })(),
    cpuRatio: roundOrNull(cpuRatio(summaries.raw)),
    minimalCpuRatio: roundOrNull(cpuRatio(summaries.minimal)),
    gatewayCpuOverheadMicrosPerReq: (() => {
      const value = overhead(summaries.raw)
      return value === null ? null : round1(value)
    })(),
    gatewayCpuOverMinimalMicrosPerReq: (() => {
      const value = overhead(summaries.minimal)
      return value === null ? null : round1(value)
    })(),
    warmupSecPerTarget: warmup.secondsPerTarget,
    warmupLevelledOff: warmup.levelledOff,
    non2xx: total((s) => s.non2xx),
    errors: total((s) => s.errors),
    mismatches: total((s) => s.mismatches),
    failures: failures.length,
  }

  const method = [
    `DynamoDB Local in memory; ${settings.connections} connections; median of ${settings.rounds} round(s) x ` +
      `${settings.durationSec} s per target, alternating, after ${fixed(warmup.secondsPerTarget, 0)} s warm-up ` +
      `per target; providers: ${settings.providers}; store: ${settings.store}`,
    "server CPU = user + system CPU of the servers' process (both servers share it) per answered request",
  ].join('\n')
  const summaryTable = renderTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'answers', 'non-2xx', 'errors', 'wrong body'],
    TARGETS.flatMap((target) => {
      const s = summaries[target]
      return s
        ? [
            [
              target,
              fixed(s.reqPerSec, 0),
              fixed(s.p50Ms, 2),
              fixed(s.p99Ms, 2),
              fixed(s.cpuMicrosPerReq, 0),
              String(s.requests),
              String(s.non2xx),
              String(s.errors),
              String(s.mismatches),
            ],
          ]
        : []
    }),
  )
  const ratioOfRound = (round: number, target: TargetName, base: Baseline) => {
    const pick = (name: TargetName) => rounds.find((r) => r.round === round && r.target === name)
    const [b, g] = [pick(base), pick(target)]
    return target !== base && b && g ? fixed(g.reqPerSec / b.reqPerSec, 3) : ''
  }
  const roundsTable = renderTable(
    ['round', 'target', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'answers', 'vs raw', 'vs minimal'],
    rounds.map((r) => [
      String(r.round),
      r.target,
      fixed(r.reqPerSec, 0),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
      fixed(r.cpuMicrosPerReq, 0),
      String(r.requests),
      ratioOfRound(r.round, r.target as TargetName, 'raw'),
      r.target === 'raw' ? '' : ratioOfRound(r.round, r.target as TargetName, 'minimal'),
    ]),
  )
  const met = (value: number, goal: number) => (value >= goal ? 'met' : 'NOT MET')
  const ratioLine = (label: string, value: number | null, base: Baseline) =>
    value === null
      ? `ratio ${label}/${base}: n/a`
      : `ratio ${label}/${base} req/s (medians): ${fixed(value, 3)}  (goal >= ${GOALS[base]}: ${met(value, GOALS[base])})`
  const cpuLine = (base: Baseline) => {
    const [ratio, extra] = [cpuRatio(summaries[base]), overhead(summaries[base])]
    return ratio === null || extra === null
      ? ''
      : `ratio ${base}/gateway (Basic) server CPU per request: ${fixed(ratio, 3)}; ` +
          `the gateway spends ${fixed(extra, 0)} µs more per request than ${base}`
  }
  const verdict = [
    ratioLine('gateway (Basic)', ratios.minimal, 'minimal'),
    ratioLine('gateway (Basic)', ratios.raw, 'raw'),
    ratioLine('gateway (bearer)', ratios.bearerMinimal, 'minimal'),
    ratioLine('gateway (bearer)', ratios.bearerRaw, 'raw'),
    ratios.bearerVsBasic === null
      ? ''
      : `ratio gateway bearer/Basic req/s (medians): ${fixed(ratios.bearerVsBasic, 3)}`,
    ratios.fastVsYogaOnly === null || !gateway || !summaries.gatewayYogaOnly
      ? ''
      : `ratio gateway (Basic) fast path/yoga only req/s (medians): ${fixed(ratios.fastVsYogaOnly, 3)}; ` +
        `the fast path saves ${fixed(summaries.gatewayYogaOnly.cpuMicrosPerReq - gateway.cpuMicrosPerReq, 0)} µs of ` +
        'server CPU per request',
    cpuLine('minimal'),
    cpuLine('raw'),
  ]
    .filter(Boolean)
    .join('\n')
  const warmupLines = TARGETS.flatMap((target) => {
    const slices = warmup.slices[target]
    return slices?.length ? [`  ${target.padEnd(15)} ${slices.map((rps) => fixed(rps, 0)).join(' -> ')}`] : []
  })
  const warmupSeconds = `warm-up: ${fixed(warmup.secondsPerTarget, 0)} s per target`
  const warmupVerdict =
    warmup.levelledOff === null
      ? `${warmupSeconds}, too short to tell whether req/s levelled off; req/s per slice:`
      : warmup.levelledOff
        ? `${warmupSeconds}, levelled off; req/s per slice:`
        : `${warmupSeconds}, STILL RISING at the end (raise --warmup-max); req/s per slice:`

  return {
    figures,
    table: [
      method,
      '',
      summaryTable,
      '',
      verdict,
      '',
      'per round:',
      roundsTable,
      ...(warmupLines.length ? ['', warmupVerdict, ...warmupLines] : []),
    ].join('\n'),
    details: {
      rounds: rounds.map((r) => ({ ...r, reqPerSec: round1(r.reqPerSec) })),
      warmupReqPerSec: Object.fromEntries(
        Object.entries(warmup.slices).map(([target, slices]) => [target, slices.map(round1)]),
      ),
    },
  }
}

async function measureRound(
  servers: ServersProcess,
  target: HttpTarget,
  round: number,
  settings: BenchSettings,
  signal: AbortSignal,
): Promise<RoundFigures> {
  const cpuBefore = await servers.cpuMicros()
  const m = await measure(target, { durationSec: settings.durationSec, connections: settings.connections, signal })
  const cpuAfter = await servers.cpuMicros()
  return { round, ...m, cpuMicrosPerReq: m.requests > 0 ? (cpuAfter - cpuBefore) / m.requests : Number.NaN }
}

async function run(
  settings: BenchSettings,
  signal: AbortSignal,
  progress: (line: string) => void,
): Promise<SuiteResult> {
  const measured = TARGETS.filter((target) => settings.only === null || settings.only === target)
  if (measured.length === 0) throw new Error(`--only ${settings.only}: consent-get has targets ${TARGETS.join(', ')}`)

  progress('starting DynamoDB Local (in memory)')
  const dynamo = await startDynamoDBLocal({ dbPath: null, startTimeoutMs: 180_000 })
  const warmup: Warmup = { slices: {}, secondsPerTarget: 0, levelledOff: null }
  const rounds: RoundFigures[] = []
  const failures: string[] = []
  let cpuProfile: string | null = null
  try {
    signal.throwIfAborted()
    progress('starting the gateway and raw servers (child process)')
    const servers = await startServers(
      {
        dynamoEndpoint: dynamo.endpoint,
        tableName: BENCH_TABLE,
        providers: settings.providers,
        store: settings.store,
      },
      { cpuProfDir: settings.cpuProfDir },
    )
    try {
      const targets = targetsOf(servers)
      for (const name of measured) await probe(targets[name], signal)

      // Targets alternate in short slices, so both warm the shared JVM and neither goes cold; the warm-up ends once
      // no target is still getting faster (after the minimum, before the maximum).
      const maxSec = Math.max(settings.warmupSec, settings.warmupMaxSec)
      while (warmup.secondsPerTarget < maxSec) {
        const durationSec = Math.min(WARMUP_SLICE_SEC, maxSec - warmup.secondsPerTarget)
        for (const name of measured) {
          progress(`warm-up ${fixed(warmup.secondsPerTarget, 0)}/${fixed(maxSec, 0)} s ${name}`)
          const m = await measure(targets[name], { durationSec, connections: settings.connections, signal })
          failures.push(...failuresOf(`warm-up at ${fixed(warmup.secondsPerTarget, 0)} s`, m))
          ;(warmup.slices[name] ??= []).push(m.reqPerSec)
        }
        warmup.secondsPerTarget += durationSec
        const traces = measured.map((name) => warmup.slices[name] ?? [])
        warmup.levelledOff = traces.some((slices) => slices.length < 3) ? null : traces.every(levelledOff)
        if (warmup.secondsPerTarget >= settings.warmupSec && warmup.levelledOff) break
      }
      for (let round = 1; round <= settings.rounds; round++) {
        for (const name of measured) {
          progress(`round ${round}/${settings.rounds} ${name} ${settings.durationSec} s`)
          const figures = await measureRound(servers, targets[name], round, settings, signal)
          failures.push(...failuresOf(`round ${round}`, figures))
          rounds.push(figures)
        }
      }
    } finally {
      cpuProfile = await servers.stop()
    }
  } finally {
    await dynamo.stop()
  }
  return { ...report(settings, warmup, rounds, failures), failures, cpuProfile }
}

export const consentGetSuite: Suite = {
  name: 'consent-get',
  title: 'consent(id): gateway GraphQL with Basic and with a bearer token vs minimal yoga + Pothos and raw node:http',
  run,
}
