// connected: receipts of provider notifications against DynamoDB Local: one processing per delivery id, a claim given
// back or abandoned is claimable again, and a receipt lapses with the replay window.
import { beforeAll, describe, expect, it } from 'vitest'
import { NotificationReceiptRepository } from '../../store/notification-receipt-repository.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'

let table: TestTable
let receipts: NotificationReceiptRepository
const now = new Date('2026-06-01T12:00:00.000Z')
const later = (ms: number) => new Date(now.getTime() + ms)

beforeAll(async () => {
  table = await createTestTable()
  receipts = new NotificationReceiptRepository(table.db, table.tableName, { leaseMs: 60_000, retentionMs: 3_600_000 })
})

describe('notification receipts', () => {
  it('let one request process a delivery; a copy meanwhile is in progress, and after it a processed replay', async () => {
    const first = await receipts.claim('WORLDLINE', 'req-1', now)
    const concurrent = await receipts.claim('WORLDLINE', 'req-1', later(1_000))
    if (first.kind !== 'claimed') throw new Error('expected a claim')
    await receipts.complete('WORLDLINE', 'req-1', first.leaseToken, later(2_000))
    const replay = await receipts.claim('WORLDLINE', 'req-1', later(3_000))
    // The same id at another provider is another delivery
    const elsewhere = await receipts.claim('YAPILY', 'req-1', later(3_000))

    expect(concurrent).toEqual({ kind: 'in_progress' })
    expect(replay).toEqual({ kind: 'processed' })
    expect(elsewhere.kind).toBe('claimed')
    const [item] = (await table.scanAll()).filter((i) => i.pk === 'PROVIDER#WORLDLINE#RECEIPT#req-1')
    expect(item).toMatchObject({ entityType: 'NOTIFICATION_RECEIPT', state: 'PROCESSED', sk: 'RECEIPT' })
    expect(item?.leaseToken).toBeUndefined()
    expect(Number(item?.expiresAt)).toBe(Math.ceil(later(3_600_000).getTime() / 1000))
  })

  it('make a delivery claimable again once given back, or once its holder died (lease lapsed)', async () => {
    const given = await receipts.claim('WORLDLINE', 'req-2', now)
    if (given.kind !== 'claimed') throw new Error('expected a claim')
    await receipts.release('WORLDLINE', 'req-2', given.leaseToken)
    const retried = await receipts.claim('WORLDLINE', 'req-2', later(1_000))
    const whileHeld = await receipts.claim('WORLDLINE', 'req-2', later(59_000))
    const afterLapse = await receipts.claim('WORLDLINE', 'req-2', later(62_000))

    expect(retried.kind).toBe('claimed')
    expect(whileHeld).toEqual({ kind: 'in_progress' })
    expect(afterLapse.kind).toBe('claimed')
    // The dead holder's late completion or release cannot touch the new claim
    if (retried.kind !== 'claimed' || afterLapse.kind !== 'claimed') throw new Error('expected claims')
    await receipts.release('WORLDLINE', 'req-2', retried.leaseToken)
    await receipts.complete('WORLDLINE', 'req-2', retried.leaseToken, later(63_000))
    expect(await receipts.claim('WORLDLINE', 'req-2', later(64_000))).toEqual({ kind: 'in_progress' })
  })

  it('forget a processed delivery after the replay window (TTL deletion is lazy: an expired receipt is absent)', async () => {
    const claim = await receipts.claim('YAPILY', 'digest-3', now)
    if (claim.kind !== 'claimed') throw new Error('expected a claim')
    await receipts.complete('YAPILY', 'digest-3', claim.leaseToken, now)

    expect(await receipts.claim('YAPILY', 'digest-3', later(3_599_000))).toEqual({ kind: 'processed' })
    expect((await receipts.claim('YAPILY', 'digest-3', later(3_601_000))).kind).toBe('claimed')
  })
})
