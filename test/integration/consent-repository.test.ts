// connected: the consent repository against DynamoDB Local.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { beforeAll, describe, expect, it } from 'vitest'
import { monotonicFactory } from 'ulid'
import { newConsentEvent, type Consent, type ConsentEvent } from '../../domain/consent.ts'
import { showingAs } from '../../domain/derived.ts'
import { ConcurrentModificationError } from '../../domain/errors.ts'
import { notificationFor } from '../../domain/notification.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { EventRepository } from '../../store/event-repository.ts'
import { StoredItemInvalidError } from '../../store/entity.ts'
import { ConsentSecretRepository } from '../../store/consent-secret-repository.ts'
import { keys } from '../../store/keys.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'
import { aConsent } from '../support/fixtures.ts'

const newId = monotonicFactory()
let table: TestTable
let repo: ConsentRepository
let events: EventRepository

beforeAll(async () => {
  table = await createTestTable()
  repo = new ConsentRepository(table.db, table.tableName)
  events = new EventRepository(table.db, table.tableName)
})

const eventFor = (consent: Consent, from: Consent['status'] | null): ConsentEvent =>
  newConsentEvent(consent, from, { id: newId(), source: 'API', initiator: 'api-client:test' })

async function createConsent(overrides: Partial<Consent> = {}): Promise<Consent> {
  const consent = aConsent({ id: newId(), providerConsentId: `fq-${newId()}`, ...overrides })
  const event = eventFor(consent, null)
  await repo.create(consent, event, notificationFor(event, consent))
  return consent
}

describe('consent writes', () => {
  it('writes the consent, its first event, its outbox message and its provider reference in one go', async () => {
    // Prepare
    const consent = await createConsent({ tenantId: 'TENANT_WRITES' })
    // Assess
    const items = (await table.scanAll()).filter(
      (item) => String(item.pk).includes(consent.id) || item.consentId === consent.id,
    )
    expect(items.map((item) => item.entityType).sort()).toEqual(['CONSENT', 'EVENT', 'OUTBOX', 'PROVIDER_REF'])
    const outbox = items.find((item) => item.entityType === 'OUTBOX')
    expect(outbox).toMatchObject({
      deliveryState: 'PENDING',
      sequence: 1,
      notification: { type: 'consent_status_update', status: 'CREATED' },
    })
    expect(await repo.get(consent.tenantId, consent.id)).toEqual(consent)
    expect(await repo.findByProviderRef('FINQWARE', consent.providerConsentId)).toEqual({
      tenantId: consent.tenantId,
      consentId: consent.id,
    })
  })

  it("answers another tenant's id exactly like a missing one", async () => {
    const consent = await createConsent({ tenantId: 'TENANT_A' })
    expect(await repo.get('TENANT_B', consent.id)).toBeNull()
    expect(await repo.get('TENANT_B', newId())).toBeNull()
    expect(await repo.getMany('TENANT_B', [consent.id])).toEqual([null])
  })

  it('reads a stored consent through its schema: a misshapen item is refused, not cast', async () => {
    // Prepare: a consent, then its item changed behind the repository's back
    const consent = await createConsent({ tenantId: 'TENANT_SHAPE' })
    await table.db.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.consent(consent.tenantId, consent.id),
        UpdateExpression: 'SET #status = :bogus REMOVE userId',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':bogus': 'NOT_A_STATUS' },
      }),
    )
    // Act
    const read = repo.get(consent.tenantId, consent.id)
    // Assess
    await expect(read).rejects.toBeInstanceOf(StoredItemInvalidError)
    await expect(repo.get(consent.tenantId, consent.id)).rejects.toThrow(
      /CONSENT.*userId.*status|CONSENT.*status.*userId/,
    )
  })

  it('updates only from the expected version, appending event and outbox', async () => {
    // Prepare
    const consent = await createConsent()
    const next: Consent = { ...consent, status: 'AWAITING_AUTHORIZATION', providerStatus: 'started', version: 2 }
    const event = eventFor(next, 'CREATED')
    // Act
    await repo.update(next, 1, event, notificationFor(event, next))
    // Assess
    expect((await repo.get(consent.tenantId, consent.id, { consistent: true }))?.version).toBe(2)
    const history = await events.history(consent.tenantId, consent.id)
    expect(history.map((e) => [e.version, e.from, e.to])).toEqual([
      [1, null, 'CREATED'],
      [2, 'CREATED', 'AWAITING_AUTHORIZATION'],
    ])
  })

  it('refuses a write from a stale version and changes nothing', async () => {
    const consent = await createConsent()
    const first: Consent = { ...consent, status: 'AWAITING_AUTHORIZATION', version: 2 }
    await repo.update(first, 1, eventFor(first, 'CREATED'), notificationFor(eventFor(first, 'CREATED'), first))
    const stale: Consent = { ...consent, status: 'FAILED', version: 2 }
    const staleEvent = eventFor(stale, 'CREATED')
    await expect(repo.update(stale, 1, staleEvent, notificationFor(staleEvent, stale))).rejects.toBeInstanceOf(
      ConcurrentModificationError,
    )
    expect((await repo.get(consent.tenantId, consent.id, { consistent: true }))?.status).toBe('AWAITING_AUTHORIZATION')
    expect(await events.history(consent.tenantId, consent.id)).toHaveLength(2)
  })

  it('lets exactly one of two concurrent writers of the same version win', async () => {
    const consent = await createConsent()
    const attempts = (['ACTIVE', 'FAILED'] as const).map((status) => {
      const next: Consent = { ...consent, status, version: 2 }
      const event = eventFor(next, 'CREATED')
      return repo.update(next, 1, event, notificationFor(event, next))
    })
    const results = await Promise.allSettled(attempts)
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1)
    expect(await events.history(consent.tenantId, consent.id)).toHaveLength(2)
  })

  it('refuses a second consent with the same provider reference', async () => {
    const consent = await createConsent()
    const twin = aConsent({ id: newId(), providerConsentId: consent.providerConsentId })
    const event = eventFor(twin, null)
    await expect(repo.create(twin, event, notificationFor(event, twin))).rejects.toThrow()
    expect(await repo.get(twin.tenantId, twin.id)).toBeNull()
  })

  it('reads changed consents of several tenants in one batch for the subscription poll', async () => {
    const a = await createConsent({ tenantId: 'TENANT_V' })
    const b = await createConsent({ tenantId: 'TENANT_W' })
    const found = await repo.getByRefs([
      { tenantId: 'TENANT_V', consentId: a.id },
      { tenantId: 'TENANT_W', consentId: b.id },
      { tenantId: 'TENANT_V', consentId: a.id },
      // Another tenant's id finds nothing.
      { tenantId: 'TENANT_W', consentId: a.id },
    ])
    expect(found.map((consent) => [consent.tenantId, consent.id]).sort()).toEqual(
      [
        ['TENANT_V', a.id],
        ['TENANT_W', b.id],
      ].sort(),
    )
  })

  it('stores partner-supplied text that looks like a key without confusion', async () => {
    const consent = await createConsent({ tenantId: 'TENANT_KEYS', userId: 'evil#U#x' })
    const item = (await table.scanAll()).find(
      (i) => i.pk === keys.consent('TENANT_KEYS', consent.id).pk && i.sk === 'CONSENT',
    )
    expect(item?.gsi2pk).toBe('T#TENANT_KEYS#U#evil#U#x')
  })
})

describe('listing a tenant consents', () => {
  const tenant = 'TENANT_LIST'
  const now = new Date('2026-06-02T00:00:00.000Z')
  const created: Consent[] = []

  beforeAll(async () => {
    for (let i = 0; i < 25; i++) {
      created.push(
        await createConsent({
          tenantId: tenant,
          userId: i % 5 === 0 ? 'alice' : 'bob',
          status: i % 3 === 0 ? 'ACTIVE' : 'AWAITING_AUTHORIZATION',
          institution:
            i % 2 === 0 ? { id: 'bt_ro', name: 'BT', country: 'RO' } : { id: 'cec_ro', name: 'CEC', country: 'RO' },
          // One ACTIVE consent whose validity already ended: it shows as EXPIRED.
          validUntil: i === 3 ? '2026-06-01T00:00:00.000Z' : null,
          linkExpiresAt: '2026-06-08T00:00:00.000Z',
        }),
      )
    }
    // Another tenant's consents never show up.
    await createConsent({ tenantId: 'TENANT_OTHER', userId: 'alice' })
  })

  const newestFirst = () => [...created].reverse()

  it('pages newest first without gaps or repeats', async () => {
    const seen: string[] = []
    let after: string | null = null
    for (let page = 0; page < 10; page++) {
      const result = await repo.list(tenant, {}, 10, after)
      seen.push(...result.consents.map((c) => c.id))
      if (!result.hasNextPage) break
      after = result.resumeAfter
    }
    expect(seen).toEqual(newestFirst().map((c) => c.id))
  })

  it('filters by user through its own index', async () => {
    const result = await repo.list(tenant, { userId: 'alice' }, 50, null)
    expect(result.consents.map((c) => c.id)).toEqual(
      newestFirst()
        .filter((c) => c.userId === 'alice')
        .map((c) => c.id),
    )
    expect(result.hasNextPage).toBe(false)
  })

  it('filters by effective status: an ACTIVE consent past validUntil counts as EXPIRED', async () => {
    const active = await repo.list(tenant, showingAs(['ACTIVE'], now), 50, null)
    expect(active.consents.every((c) => c.status === 'ACTIVE' && c.validUntil === null)).toBe(true)
    expect(active.consents).toHaveLength(created.filter((c) => c.status === 'ACTIVE').length - 1)
    const expired = await repo.list(tenant, showingAs(['EXPIRED'], now), 50, null)
    expect(expired.consents.map((c) => c.id)).toEqual([created[3]?.id])
  })

  it('combines provider, institution, user and status filters, paging through them', async () => {
    const filter = {
      provider: 'FINQWARE' as const,
      institutionId: 'bt_ro',
      userId: 'bob',
      ...showingAs(['AWAITING_AUTHORIZATION'], now),
    }
    const expected = newestFirst()
      .filter((c) => c.institution.id === 'bt_ro' && c.userId === 'bob' && c.status === 'AWAITING_AUTHORIZATION')
      .map((c) => c.id)
    const first = await repo.list(tenant, filter, 3, null)
    const second = await repo.list(tenant, filter, 50, first.resumeAfter)
    expect([...first.consents, ...second.consents].map((c) => c.id)).toEqual(expected)
    expect(first.hasNextPage).toBe(true)
    expect(second.hasNextPage).toBe(false)
  })

  it('finds nothing for a provider with no consents', async () => {
    expect((await repo.list(tenant, { provider: 'YAPILY' }, 10, null)).consents).toEqual([])
  })
})

describe('sealed provider secrets', () => {
  const sealed = { keyId: 'k1', iv: 'iv', ciphertext: 'ciphertext', tag: 'tag' }

  it('are kept for a consent not yet written (creation seals first) and for a live one', async () => {
    const secrets = new ConsentSecretRepository(table.db, table.tableName)
    expect(await secrets.put('TENANT_SECRETS', 'not-written-yet', sealed, new Date(), null)).toBe(true)
    const consent = await createConsent({ tenantId: 'TENANT_SECRETS' })
    expect(await secrets.put(consent.tenantId, consent.id, sealed, new Date(), null)).toBe(true)
    expect(await secrets.get(consent.tenantId, consent.id)).toEqual(sealed)
  })

  it('never come back once the consent is deleted at its provider, whoever read it before the deletion', async () => {
    // Prepare: a consent with its secret, and a slow reader holding the secret it fetched before the deletion
    const secrets = new ConsentSecretRepository(table.db, table.tableName)
    const consent = await createConsent({ tenantId: 'TENANT_SECRETS' })
    await secrets.put(consent.tenantId, consent.id, sealed, new Date(), null)
    // Act: the deletion marks the consent, then shreds; the slow reader then tries to keep what it read
    const deleted: Consent = {
      ...consent,
      status: 'REVOKED',
      deletion: { status: 'SUCCESS', deletedAtInstitution: true, at: new Date().toISOString() },
      version: consent.version + 1,
    }
    const event = eventFor(deleted, consent.status)
    await repo.update(deleted, consent.version, event, notificationFor(event, deleted))
    await secrets.delete(consent.tenantId, consent.id)
    const kept = await secrets.put(consent.tenantId, consent.id, sealed, new Date(), sealed)
    // Assess
    expect(kept).toBe(false)
    expect(await secrets.get(consent.tenantId, consent.id)).toBeNull()
  })

  it('are replaced only by a writer that read the one stored: one that read an older one changes nothing', async () => {
    // Prepare: two writers read no secret; the first stores its own
    const secrets = new ConsentSecretRepository(table.db, table.tableName)
    const consent = await createConsent({ tenantId: 'TENANT_SECRETS' })
    const first = { ...sealed, iv: 'iv-first', ciphertext: 'first' }
    const second = { ...sealed, iv: 'iv-second', ciphertext: 'second' }
    expect(await secrets.put(consent.tenantId, consent.id, first, new Date(), null)).toBe(true)
    // Act + Assess: the second, which read none, is refused; so is one that read another secret than the first
    await expect(secrets.put(consent.tenantId, consent.id, second, new Date(), null)).rejects.toBeInstanceOf(
      ConcurrentModificationError,
    )
    await expect(
      secrets.put(consent.tenantId, consent.id, second, new Date(), { ...first, iv: 'iv-other' }),
    ).rejects.toBeInstanceOf(ConcurrentModificationError)
    expect(await secrets.get(consent.tenantId, consent.id)).toEqual(first)
    // Having read the first, it replaces it
    expect(await secrets.put(consent.tenantId, consent.id, second, new Date(), first)).toBe(true)
    expect(await secrets.get(consent.tenantId, consent.id)).toEqual(second)
  })
})
