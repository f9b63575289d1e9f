// e2e: the proof harness for hostile input. 3,000 hostile requests (bad JSON, huge and stalled bodies, deep and wide
// queries, bad variables, unicode and control characters, credential garbage, another tenant's ids, URLs into our own
// network, the other routes) against the whole stack on a DynamoDB Local of its own; then traffic kept up while that
// store is killed and started again on the same data. Every answer is held to the rules of test/support/hostile/
// report.ts, and every consent acknowledged along the way must still be there. A failure names the seed and index
// that replay it: `npx tsx bench/fuzz.ts --only INDEX`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  findLostConsents,
  FUZZ_SEED,
  HANG_MS,
  runFuzz,
  runStoreOutage,
  startFuzzSystem,
  type FuzzSystem,
} from '../support/hostile/campaign.ts'
import { renderSummary, summarise, type FuzzSummary, type Rule } from '../support/hostile/report.ts'
import { CATEGORIES } from '../support/hostile/hostile-request.ts'

const REQUESTS = 3_000

let system: FuzzSystem | undefined
let summary: FuzzSummary

beforeAll(async () => {
  system = await startFuzzSystem()
  const fuzz = await runFuzz(system, { seed: FUZZ_SEED, requests: REQUESTS })
  const outage = await runStoreOutage(system, { seed: FUZZ_SEED })
  const acknowledged = [...fuzz, ...outage.verdicts].flatMap((verdict) =>
    verdict.acknowledged ? [verdict.acknowledged] : [],
  )
  const lost = await findLostConsents(system, acknowledged)
  summary = summarise({ seed: FUZZ_SEED, fuzz, outage, lost })
  console.log(renderSummary(summary))
}, 600_000)

afterAll(async () => {
  await system?.close()
})

/** How many answers broke `rule`, and the first ten of them (seed, index, variant, status, what was wrong). */
const broken = (rule: Rule) => ({
  count: summary.broken[rule],
  first: summary.failures.filter((failure) => failure.rule === rule).slice(0, 10),
})
const NONE = { count: 0, first: [] }

describe('hostile traffic against the whole stack', () => {
  it('sends at least 3,000 requests of every kind, then keeps traffic up through a store outage', () => {
    expect(summary.requests).toBeGreaterThanOrEqual(3_000)
    for (const category of CATEGORIES) {
      expect(summary.byCategory[category]?.total ?? 0, category).toBeGreaterThan(0)
    }
    expect(Object.values(summary.byStatus['store-down'] ?? {}).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0)
    expect(summary.outage?.recoveryMs, 'the gateway answered again once the store was back').not.toBeNull()
  })

  it('answers no 5xx but 503, and 503 only while the store is down', () => {
    expect(broken('serverError')).toEqual(NONE)
  })

  it('never answers with a stack trace or internal text', () => {
    expect(broken('internalText')).toEqual(NONE)
  })

  it(`answers or cuts every request within ${HANG_MS / 1000} s, stalled bodies included`, () => {
    expect(broken('hang')).toEqual(NONE)
  })

  it('gives every GraphQL error an extensions.code', () => {
    expect(broken('codeless')).toEqual(NONE)
  })

  it('never answers INTERNAL_SERVER_ERROR to what a client sent while the store is up', () => {
    expect(broken('internalError')).toEqual(NONE)
  })

  it("never shows tenant B's data to anyone else", () => {
    expect(broken('leak')).toEqual(NONE)
  })

  it('refuses partner URLs that reach our own ports or private addresses, however spelled', () => {
    expect(broken('urlAccepted')).toEqual(NONE)
  })

  it('loses no acknowledged consent when the store is killed mid-traffic', () => {
    expect(summary.acknowledged).toBeGreaterThan(0)
    expect(summary.lost).toEqual([])
  })
})
