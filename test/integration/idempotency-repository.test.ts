// connected: idempotency records against DynamoDB Local.
import { beforeAll, describe, expect, it } from 'vitest'
import { monotonicFactory } from 'ulid'
import { newConsentEvent } from '../../domain/consent.ts'
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from '../../domain/errors.ts'
import { notificationFor } from '../../domain/notification.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { IdempotencyRepository } from '../../store/idempotency-repository.ts'
import { createTestTable } from '../support/dynamo.ts'
import { aConsent } from '../support/fixtures.ts'

const newId = monotonicFactory()
let idempotency: IdempotencyRepository
let consents: ConsentRepository
const T = 'TENANT_IDEM'
const now = new Date('2026-06-01T12:00:00.000Z')
const later = (ms: number) => new Date(now.getTime() + ms)

beforeAll(async () => {
  const table = await createTestTable()
  idempotency = new IdempotencyRepository(table.db, table.tableName, { leaseMs: 60_000, retentionSeconds: 86_400 })
  consents = new ConsentRepository(table.db, table.tableName)
})

async function complete(key: string, leaseToken: string): Promise<string> {
  const consent = aConsent({ id: newId(), tenantId: T, providerConsentId: `fq-${newId()}` })
  const event = newConsentEvent(consent, null, { id: newId(), source: 'API', initiator: 'api-client:test' })
  await consents.create(consent, event, notificationFor(event, consent), { idempotencyKey: key, leaseToken })
  return consent.id
}

describe('idempotency records', () => {
  it('claims a new key, and after completion replays the consent for the same input', async () => {
    const claim = await idempotency.claim(T, 'key-1', 'hash-a', now)
    expect(claim.kind).toBe('claimed')
    const consentId = await complete('key-1', claim.kind === 'claimed' ? claim.leaseToken : '')
    expect(await idempotency.claim(T, 'key-1', 'hash-a', later(1_000))).toEqual({ kind: 'completed', consentId })
  })

  it('refuses the same key with a different input, completed or not', async () => {
    await idempotency.claim(T, 'key-2', 'hash-a', now)
    await expect(idempotency.claim(T, 'key-2', 'hash-b', now)).rejects.toBeInstanceOf(IdempotencyKeyReusedError)
  })

  it('makes a concurrent duplicate wait (retryable) while the first request runs', async () => {
    await idempotency.claim(T, 'key-3', 'hash-a', now)
    await expect(idempotency.claim(T, 'key-3', 'hash-a', later(5_000))).rejects.toBeInstanceOf(
      IdempotencyInProgressError,
    )
  })

  it('lets exactly one of two simultaneous first requests claim a key', async () => {
    const results = await Promise.allSettled([
      idempotency.claim(T, 'key-4', 'hash-a', now),
      idempotency.claim(T, 'key-4', 'hash-a', now),
    ])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
  })

  it('takes over an abandoned claim (a crashed request) once its lease ran out, and the old holder cannot complete', async () => {
    const first = await idempotency.claim(T, 'key-5', 'hash-a', now)
    const second = await idempotency.claim(T, 'key-5', 'hash-a', later(60_001))
    expect(second.kind).toBe('claimed')
    await expect(complete('key-5', first.kind === 'claimed' ? first.leaseToken : '')).rejects.toThrow()
    await complete('key-5', second.kind === 'claimed' ? second.leaseToken : '')
  })

  it('frees the key when the request gives its claim back (the provider call failed)', async () => {
    const claim = await idempotency.claim(T, 'key-6', 'hash-a', now)
    await idempotency.release(T, 'key-6', claim.kind === 'claimed' ? claim.leaseToken : '')
    expect((await idempotency.claim(T, 'key-6', 'hash-b', now)).kind).toBe('claimed')
  })

  it('treats a record past its retention as gone, even before TTL deletes it', async () => {
    const claim = await idempotency.claim(T, 'key-7', 'hash-a', now)
    await complete('key-7', claim.kind === 'claimed' ? claim.leaseToken : '')
    expect((await idempotency.claim(T, 'key-7', 'hash-b', later(86_401_000))).kind).toBe('claimed')
  })

  it('keeps keys per tenant', async () => {
    await idempotency.claim(T, 'key-8', 'hash-a', now)
    expect((await idempotency.claim('OTHER_TENANT', 'key-8', 'hash-b', now)).kind).toBe('claimed')
  })
})
