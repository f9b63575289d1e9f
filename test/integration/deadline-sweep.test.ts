// connected: the deadline sweep over DynamoDB Local. It reads only what is due (the sparse index), applies each
// deadline once however often or concurrently it runs, and schedules what comes next.
import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb'
import { monotonicFactory } from 'ulid'
import { describe, expect, it } from 'vitest'
import type { Consent } from '../../domain/consent.ts'
import { deriveState } from '../../domain/derived.ts'
import { lifecycleSettings } from '../../service/config.ts'
import { scheduled } from '../../service/consent-recorder.ts'
import { createGateway, type Gateway } from '../../composition/gateway.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { consentItem } from '../../store/consent-repository.ts'
import { aConsent, aGatewayConfig, T0 } from '../support/fixtures.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'

const newId = monotonicFactory()
const DAY = 86_400_000
const iso = (days: number) => new Date(T0.getTime() + days * DAY).toISOString()
const TENANT = '01JD0TENANTSWEEP00000000000'.slice(0, 26)
const LIFECYCLE = lifecycleSettings({})

/** A gateway over `table` whose clock reads `now()`. */
function gatewayOver(table: TestTable, now: () => Date): Gateway {
  return createGateway(aGatewayConfig(table), { db: table.db, logger: silentLogger, clock: now })
}

const pending = (linkExpiresInDays: number) =>
  aConsent({ id: newId(), tenantId: TENANT, providerConsentId: `fq-${newId()}`, linkExpiresAt: iso(linkExpiresInDays) })
const active = (validForDays: number) =>
  aConsent({
    id: newId(),
    tenantId: TENANT,
    providerConsentId: `fq-${newId()}`,
    status: 'ACTIVE',
    providerStatus: 'active',
    authorizationUrl: null,
    linkExpiresAt: null,
    validUntil: iso(validForDays),
  })

/** Writes the consents as the store would (index keys included), 25 per batch, a few batches at a time. */
async function seed(table: TestTable, consents: Consent[]) {
  const items = consents.map((consent) => consentItem(scheduled(consent, T0, LIFECYCLE)))
  const batches: Record<string, unknown>[][] = []
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25))
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      let requests: unknown[] | undefined = batch.map((Item) => ({ PutRequest: { Item } }))
      while (requests && requests.length > 0) {
        const result: BatchWriteCommandOutput = await table.db.send(
          new BatchWriteCommand({ RequestItems: { [table.tableName]: requests as never } }),
        )
        requests = result.UnprocessedItems?.[table.tableName]
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

describe('the deadline sweep', () => {
  it('with 10,000 consents of which 120 are due, reads 120 index items and changes those 120', async () => {
    // Prepare: at day 10, 40 links lapsed (day 5), 40 consents reach their 7-day warning (valid to day 15), 40
    // consents ended (valid to day 9); 9,880 others have nothing due (links to day 30, validity to day 120).
    const table = await createTestTable()
    const now = new Date(T0.getTime() + 10 * DAY)
    const due = [
      ...Array.from({ length: 40 }, () => pending(5)),
      ...Array.from({ length: 40 }, () => active(15)),
      ...Array.from({ length: 40 }, () => active(9)),
    ]
    const notDue = Array.from({ length: 9_880 }, (_, i) => (i % 2 === 0 ? pending(30) : active(120)))
    await seed(table, [...notDue, ...due])
    const gateway = gatewayOver(table, () => now)
    // Act
    const first = await gateway.jobs.sweepDeadlines()
    const second = await gateway.jobs.sweepDeadlines()
    // Assess
    console.log(
      `deadline sweep: ${notDue.length + due.length} consents, ${due.length} due; ` +
        `first run read ${first.read} and changed ${first.changed}; second run read ${second.read}`,
    )
    expect(first).toEqual({ read: 120, changed: 120, skipped: 0 })
    expect(second).toEqual({ read: 0, changed: 0, skipped: 0 })
    const after = await gateway.consents.getMany(
      { tenantId: TENANT },
      due.map((consent) => consent.id),
    )
    expect(after.slice(0, 40).map((c) => c?.status)).toEqual(Array(40).fill('LINK_EXPIRED'))
    expect(after.slice(40, 80).map((c) => [c?.status, c?.nextDeadline?.kind, c?.nextDeadline?.at])).toEqual(
      Array(40).fill(['ACTIVE', 'EXPIRY_WARNING', iso(14)]),
    )
    expect(after.slice(80).map((c) => [c?.status, c?.statusReason, c?.nextDeadline])).toEqual(
      Array(40).fill(['EXPIRED', 'VALIDITY_ENDED', null]),
    )
    const warned = await gateway.consents.history({ tenantId: TENANT }, due[40]?.id ?? '')
    expect(warned.map((event) => [event.kind, event.from, event.to, event.source, event.deadline])).toEqual([
      ['EXPIRY_WARNING', 'ACTIVE', 'ACTIVE', 'SCHEDULER', iso(15)],
    ])
  }, 120_000)

  it('records a lapsed UK reconfirmation: data access stops, the status stays, the next deadline follows', async () => {
    // Prepare: a UK consent that had to be reconfirmed by day 9, valid to day 80
    const table = await createTestTable()
    const now = new Date(T0.getTime() + 10 * DAY)
    const consent = { ...active(80), region: 'UK' as const, reconfirmBy: iso(9), lastConfirmedAt: iso(-81) }
    await seed(table, [consent])
    const gateway = gatewayOver(table, () => now)
    // Act
    expect(await gateway.jobs.sweepDeadlines()).toEqual({ read: 1, changed: 1, skipped: 0 })
    // Assess
    const [after] = await gateway.consents.getMany({ tenantId: TENANT }, [consent.id])
    expect(after).toMatchObject({ status: 'ACTIVE', nextDeadline: { kind: 'EXPIRY_WARNING', at: iso(73) } })
    const derived = deriveState(after as Consent, now, { canReauthorize: false })
    expect(derived).toMatchObject({ canAccessData: false, nextAction: 'RECONFIRM' })
    const history = await gateway.consents.history({ tenantId: TENANT }, consent.id)
    expect(history.map((event) => [event.kind, event.to, event.deadline])).toEqual([
      ['RECONFIRMATION_LAPSED', 'ACTIVE', iso(9)],
    ])
  })

  it('run twice at once, applies each deadline once', async () => {
    // Prepare: 60 consents past their end of validity, two runners (two gateways, one table)
    const table = await createTestTable()
    const now = new Date(T0.getTime() + 10 * DAY)
    const consents = Array.from({ length: 60 }, () => active(9))
    await seed(table, consents)
    const [a, b] = [gatewayOver(table, () => now), gatewayOver(table, () => now)]
    // Act
    const [runA, runB] = await Promise.all([a.jobs.sweepDeadlines(), b.jobs.sweepDeadlines()])
    // Assess: every consent changed by exactly one of them, with exactly one event
    expect(runA.changed + runB.changed).toBe(60)
    expect(runA.changed + runA.skipped).toBe(runA.read)
    for (const consent of consents.slice(0, 10)) {
      const history = await a.consents.history({ tenantId: TENANT }, consent.id)
      expect(history.map((event) => [event.version, event.to])).toEqual([[2, 'EXPIRED']])
    }
    expect(await a.jobs.sweepDeadlines()).toEqual({ read: 0, changed: 0, skipped: 0 })
    // Two sweeps racing over 60 consents on one DynamoDB Local: more than the default 20 s on a loaded machine.
  }, 60_000)
})
