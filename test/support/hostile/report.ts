// Turns the verdicts of a hostile-traffic campaign into the figures the issue asks for (counts by status and by
// category, stack or internal-text answers, hangs, the slowest answers, lost writes) and the list of rule breaks, each
// with the seed and index that replay it.
import { renderTable } from '../../../bench/table.ts'
import type { StoreOutageResult } from './campaign.ts'
import { CATEGORIES, type Category } from './hostile-request.ts'
import type { Phase, Verdict } from './verdict.ts'

/** The rules every answer is held to; each broken one is listed with what replays it. */
export const RULES = {
  serverError: '5xx other than 503, or 503 outside the store outage',
  internalText: 'stack or internal text in the answer',
  hang: `no complete answer within the deadline`,
  codeless: 'GraphQL error without extensions.code',
  internalError: 'INTERNAL_SERVER_ERROR while the store is up',
  leak: "tenant B's data shown to someone else",
  urlAccepted: 'partner URL into our own network accepted',
} as const
export type Rule = keyof typeof RULES

export interface Failure {
  readonly rule: Rule
  readonly seed: number
  readonly index: number
  readonly phase: Phase
  readonly variant: string
  readonly status: number | null
  readonly outcome: Verdict['outcome']
  readonly ms: number
  readonly detail: string
}

interface CategoryCounts {
  total: number
  '2xx': number
  '3xx': number
  '4xx': number
  '5xx': number
  hang: number
  dropped: number
  internalText: number
  codeless: number
  internalError: number
  medianMs: number
  maxMs: number
}

export interface FuzzSummary {
  readonly seed: number
  readonly requests: number
  /** Answers by status ('hang' and 'dropped' besides numbers), for the fuzz and for each outage phase. */
  readonly byStatus: Readonly<Record<string, Readonly<Record<string, number>>>>
  readonly byCategory: Readonly<Partial<Record<Category, Readonly<CategoryCounts>>>>
  /** How many answers broke each rule. */
  readonly broken: Readonly<Record<Rule, number>>
  /** Answers that ended without any HTTP response (connection closed or reset): counted, not a rule. */
  readonly dropped: number
  /**
   * Partner URLs accepted that the rules leave to the gateway: names only DNS can judge, loopback ports that are not
   * ours (allowed in local mode), redirect targets (the gateway never calls them).
   */
  readonly unjudgedUrlsAccepted: number
  readonly outage: {
    readonly answers: number
    readonly stopToRestartMs: number
    /** From the restart until a store-backed read succeeded again; null when it never did. */
    readonly recoveryMs: number | null
  } | null
  readonly acknowledged: number
  readonly lost: readonly string[]
  readonly slowest: readonly Pick<Verdict, 'index' | 'phase' | 'variant' | 'status' | 'outcome' | 'ms'>[]
  /** Every rule break, in order (the first 2,000). */
  readonly failures: readonly Failure[]
}

const statusKey = (verdict: Verdict) => (verdict.outcome === 'answered' ? String(verdict.status) : verdict.outcome)

/** The rules `verdict` breaks; `outage` says when the store was down (503 is allowed for a request in that window). */
export function brokenRules(verdict: Verdict, outage: StoreOutageResult | null): Rule[] {
  const inOutage =
    outage !== null &&
    verdict.answeredAt >= outage.stoppedAt &&
    verdict.sentAt < (outage.recoveredAt ?? Number.POSITIVE_INFINITY)
  const rules: Rule[] = []
  const status = verdict.status ?? 0
  if (status >= 500 && !(status === 503 && inOutage)) rules.push('serverError')
  if (verdict.internalText.length > 0) rules.push('internalText')
  if (verdict.outcome === 'hang') rules.push('hang')
  if (verdict.codelessErrors > 0) rules.push('codeless')
  if (verdict.internalErrors > 0 && !inOutage) rules.push('internalError')
  if (verdict.leak) rules.push('leak')
  if (verdict.urlAccepted && verdict.url?.mustRefuse) rules.push('urlAccepted')
  return rules
}

const detailOf = (rule: Rule, verdict: Verdict): string => {
  switch (rule) {
    case 'internalText':
      return `${verdict.internalText.join(', ')}: ${verdict.excerpt}`
    case 'urlAccepted':
      return `${verdict.url?.field} = ${JSON.stringify(verdict.url?.value)}`
    case 'hang':
      return `nothing complete after ${verdict.ms} ms`
    default:
      return verdict.excerpt
  }
}

export function summarise(input: {
  readonly seed: number
  readonly fuzz: readonly Verdict[]
  readonly outage: StoreOutageResult | null
  readonly lost: readonly string[]
}): FuzzSummary {
  const all = [...input.fuzz, ...(input.outage?.verdicts ?? [])]
  const byStatus: Record<string, Record<string, number>> = {}
  const byCategory: Partial<Record<Category, CategoryCounts>> = {}
  const broken = Object.fromEntries(Object.keys(RULES).map((rule) => [rule, 0])) as Record<Rule, number>
  const failures: Failure[] = []
  const times = new Map<Category, number[]>()
  for (const verdict of all) {
    const phase = (byStatus[verdict.phase] ??= {})
    phase[statusKey(verdict)] = (phase[statusKey(verdict)] ?? 0) + 1
    const counts = (byCategory[verdict.category] ??= {
      total: 0,
      '2xx': 0,
      '3xx': 0,
      '4xx': 0,
      '5xx': 0,
      hang: 0,
      dropped: 0,
      internalText: 0,
      codeless: 0,
      internalError: 0,
      medianMs: 0,
      maxMs: 0,
    })
    counts.total++
    if (verdict.outcome === 'answered') {
      const family = `${Math.floor((verdict.status ?? 0) / 100)}xx`
      if (family === '2xx' || family === '3xx' || family === '4xx' || family === '5xx') counts[family]++
    } else {
      counts[verdict.outcome]++
    }
    if (verdict.internalText.length > 0) counts.internalText++
    if (verdict.codelessErrors > 0) counts.codeless++
    if (verdict.internalErrors > 0) counts.internalError++
    counts.maxMs = Math.max(counts.maxMs, verdict.ms)
    times.set(verdict.category, [...(times.get(verdict.category) ?? []), verdict.ms])
    for (const rule of brokenRules(verdict, input.outage)) {
      broken[rule]++
      if (failures.length < 2_000) {
        failures.push({
          rule,
          seed: verdict.seed,
          index: verdict.index,
          phase: verdict.phase,
          variant: verdict.variant,
          status: verdict.status,
          outcome: verdict.outcome,
          ms: verdict.ms,
          detail: detailOf(rule, verdict).replace(/\s+/g, ' ').slice(0, 240),
        })
      }
    }
  }
  for (const [category, ms] of times) {
    const sorted = ms.sort((a, b) => a - b)
    byCategory[category]!.medianMs = sorted[Math.floor(sorted.length / 2)] ?? 0
  }
  const outage = input.outage
  return {
    seed: input.seed,
    requests: input.fuzz.length,
    byStatus,
    byCategory,
    broken,
    dropped: all.filter((verdict) => verdict.outcome === 'dropped').length,
    unjudgedUrlsAccepted: all.filter((verdict) => verdict.urlAccepted && !verdict.url?.mustRefuse).length,
    outage: outage && {
      answers: outage.verdicts.length,
      stopToRestartMs: Math.round(outage.restartedAt - outage.stoppedAt),
      recoveryMs: outage.recoveredAt === null ? null : Math.round(outage.recoveredAt - outage.restartedAt),
    },
    acknowledged: all.filter((verdict) => verdict.acknowledged).length,
    lost: input.lost,
    slowest: [...all]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 10)
      .map(({ index, phase, variant, status, outcome, ms }) => ({ index, phase, variant, status, outcome, ms })),
    failures,
  }
}

/** The human half of the output: tables, then the first rule breaks with what replays them. */
export function renderSummary(summary: FuzzSummary, maxGroups = 40): string {
  const phases = Object.keys(summary.byStatus)
  const statuses = [...new Set(phases.flatMap((phase) => Object.keys(summary.byStatus[phase] ?? {})))].sort()
  const statusTable = renderTable(
    ['status', ...phases],
    statuses.map((status) => [status, ...phases.map((phase) => String(summary.byStatus[phase]?.[status] ?? 0))]),
  )
  const categoryTable = renderTable(
    [
      'category',
      'total',
      '2xx',
      '3xx',
      '4xx',
      '5xx',
      'hang',
      'dropped',
      'internal',
      'no code',
      'ISE',
      'p50 ms',
      'max ms',
    ],
    CATEGORIES.filter((category) => summary.byCategory[category]).map((category) => {
      const c = summary.byCategory[category]!
      return [
        category,
        ...[c.total, c['2xx'], c['3xx'], c['4xx'], c['5xx'], c.hang, c.dropped, c.internalText, c.codeless].map(String),
        String(c.internalError),
        String(c.medianMs),
        String(c.maxMs),
      ]
    }),
  )
  const rulesTable = renderTable(
    ['rule', 'answers'],
    (Object.keys(RULES) as Rule[]).map((rule) => [RULES[rule], String(summary.broken[rule])]),
  )
  const slowestTable = renderTable(
    ['index', 'phase', 'variant', 'status', 'ms'],
    summary.slowest.map((v) => [
      String(v.index),
      v.phase,
      v.variant,
      v.status === null ? v.outcome : String(v.status),
      String(v.ms),
    ]),
  )
  const outage = summary.outage
  const lines = [
    `hostile fuzz: seed ${summary.seed}, ${summary.requests} requests${outage ? `, then ${outage.answers} with the store killed mid-traffic` : ''}`,
    '',
    'answers by HTTP status (hang: nothing complete in 10 s; dropped: closed without an answer)',
    statusTable,
    '',
    'by category (internal: stack or internal text; no code: a GraphQL error without extensions.code; ISE: INTERNAL_SERVER_ERROR)',
    categoryTable,
    '',
    'rules',
    rulesTable,
    '',
    `answers dropped without a response: ${summary.dropped}`,
    `partner URLs accepted that the rules leave to the gateway (DNS names, loopback ports not ours, redirect targets): ${summary.unjudgedUrlsAccepted}`,
    ...(outage
      ? [
          `store outage: stop to restart ${outage.stopToRestartMs} ms; gateway answering again ${outage.recoveryMs === null ? 'NEVER (30 s)' : `${outage.recoveryMs} ms after the restart`}`,
        ]
      : []),
    `acknowledged consents read back: ${summary.acknowledged - summary.lost.length} of ${summary.acknowledged}${summary.lost.length ? ` (LOST: ${summary.lost.join(', ')})` : ''}`,
    '',
    'slowest answers',
    slowestTable,
  ]
  if (summary.failures.length > 0) {
    lines.push(
      '',
      'rule breaks by kind of request (#: fuzz index, replay one: npx tsx bench/fuzz.ts --only INDEX; o#: store-outage index)',
    )
    const groups = new Map<string, Failure[]>()
    for (const failure of summary.failures) {
      const key = `[${failure.rule}] ${failure.variant}`
      groups.set(key, [...(groups.get(key) ?? []), failure])
    }
    for (const [key, failures] of [...groups].slice(0, maxGroups)) {
      const first = failures[0]!
      const indexes = failures
        .slice(0, 5)
        .map((f) => `${f.phase === 'fuzz' ? '#' : 'o#'}${f.index}`)
        .join(' ')
      lines.push(
        `  ${key} x${failures.length} (${indexes}${failures.length > 5 ? ' ...' : ''}) -> ${first.status ?? first.outcome}: ${first.detail}`,
      )
    }
  }
  return lines.join('\n')
}
