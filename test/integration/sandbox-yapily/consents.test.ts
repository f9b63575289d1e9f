// The Yapily sandbox's consents after creation: GET and list, DELETE, re-authorisation, extend (UK reconfirmation), and
// banks that give one consent per account.
import { randomUUID } from 'node:crypto'
import { beforeEach, describe, expect, test } from 'vitest'
import {
  type Answer,
  authorisedConsent,
  authorisedEmbeddedConsent,
  callbackQuery,
  DAY_MS,
  decide,
  NOON,
  openPage,
  other,
  sandbox,
  statusOf,
  useYapilySandbox,
  UUID,
  yapily,
} from './harness.ts'

useYapilySandbox()

describe('get and list consents', () => {
  test('GET answers the Consent; unknown or another application’s consent is 404', async () => {
    const created = await yapily.createOk()

    const found = await yapily.get(created.id as string)
    const unknown = await yapily.get(randomUUID())
    const foreign = await other.get(created.id as string)

    expect(found.body.data).toMatchObject({ id: created.id, status: 'AWAITING_AUTHORIZATION' })
    expect(found.body.data).not.toHaveProperty('isDeletedByInstitution')
    expect(found.body.data).not.toHaveProperty('reconfirmBy')
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' })
    expect(foreign.status).toBe(404)
  })

  test('listing needs filter[applicationUserId], filter[userUuid] or limit', async () => {
    const created = await yapily.createOk({ applicationUserId: 'lister' })

    const none = await yapily.list('filter[institution]=modelo-sandbox')
    const byUser = await yapily.list('filter[applicationUserId]=lister')
    const byUuid = await yapily.list(`filter[userUuid]=${created.userUuid}`)
    const byLimit = await yapily.list('limit=5')

    expect(none.status).toBe(400)
    expect(none.body.error.message).toContain('filter[applicationUserId]')
    expect(byUser.status).toBe(200)
    expect(byUuid.body.data.map((consent: any) => consent.id)).toEqual([created.id])
    expect(byLimit.body.data).toHaveLength(1)
  })

  test('filters combine, repeat, and list newest first; other applications are never listed', async () => {
    // Prepare: a1 (modelo), a2 (santander), b1 (modelo, then rejected), plus another application's consent.
    const a1 = await yapily.createOk({ applicationUserId: 'a' })
    const a2 = await yapily.createOk({ applicationUserId: 'a', institutionId: 'santander-es-sandbox' })
    const b1 = await yapily.createOk({ applicationUserId: 'b' })
    await decide(b1.authorisationUrl as string, 'deny')
    await other.createOk({ applicationUserId: 'a' })

    // Act
    const byA = await yapily.list('filter[applicationUserId]=a')
    const both = await yapily.list('filter[applicationUserId]=a&filter[applicationUserId]=b')
    const modelo = await yapily.list('limit=10&filter[institution]=modelo-sandbox')
    const rejected = await yapily.list('limit=10&filter[status]=REJECTED&filter[status]=EXPIRED')

    // Assess
    const ids = (answer: Answer) => answer.body.data.map((consent: any) => consent.id)
    expect(ids(byA)).toEqual([a2.id, a1.id])
    expect(ids(both)).toEqual([b1.id, a2.id, a1.id])
    expect(ids(modelo)).toEqual([b1.id, a1.id])
    expect(ids(rejected)).toEqual([b1.id])
  })

  test('limit and offset page through; meta has count and pagination', async () => {
    const ids: string[] = []
    for (let index = 0; index < 5; index += 1) ids.unshift((await yapily.createOk({ applicationUserId: 'pager' })).id)

    const page = await yapily.list('filter[applicationUserId]=pager&limit=2&offset=1')

    expect(page.body.data.map((consent: any) => consent.id)).toEqual(ids.slice(1, 3))
    expect(page.body.meta).toEqual({
      tracingId: expect.stringMatching(UUID),
      count: 2,
      pagination: { totalCount: 5, self: { limit: 2, offset: 1, sort: '-date' } },
    })
  })

  test.each([
    'limit=0',
    'limit=1001',
    'limit=ten',
    'limit=5&offset=-1',
    'limit=5&filter[status]=ACTIVE',
    'limit=5&from=yesterday',
  ])('%s is 400', async (query) => {
    expect((await yapily.list(query)).status).toBe(400)
  })
})

describe('delete consent', () => {
  test('the bank deletes too: 200 SUCCESS, REVOKED, isDeletedByInstitution true, data calls 403', async () => {
    const { id, token } = await authorisedConsent()

    const deleted = await yapily.remove(id)
    const consent = await yapily.consent(id)

    expect(deleted.status).toBe(200)
    expect(deleted.body.data).toEqual({
      id,
      deleteStatus: 'SUCCESS',
      institutionId: 'modelo-sandbox',
      institutionConsentId: consent.institutionConsentId,
      creationDate: consent.createdAt,
    })
    expect(consent).toMatchObject({ status: 'REVOKED', isDeletedByInstitution: true })
    expect((await yapily.accounts(token)).status).toBe(403)
  })

  test('the bank fails and forceDelete defaults to true: deleted at Yapily only', async () => {
    const { id } = await authorisedConsent()
    await yapily.control('bank-delete-fails', { enabled: true })

    const deleted = await yapily.remove(id)

    expect(deleted.body.data.deleteStatus).toBe('SUCCESS')
    expect(await yapily.consent(id)).toMatchObject({ status: 'REVOKED', isDeletedByInstitution: false })
  })

  test('the bank fails and forceDelete=false: FAILED and nothing changes', async () => {
    const { id, token } = await authorisedConsent()
    await yapily.control('bank-delete-fails', { enabled: true })

    const deleted = await yapily.remove(id, '?forceDelete=false')

    expect(deleted.status).toBe(200)
    expect(deleted.body.data.deleteStatus).toBe('FAILED')
    const kept = await yapily.consent(id)
    expect(kept).toMatchObject({ status: 'AUTHORIZED' })
    expect(kept).not.toHaveProperty('isDeletedByInstitution')
    expect((await yapily.accounts(token)).status).toBe(200)
  })

  test('deleting again answers the same and changes nothing; forceDelete must be a boolean', async () => {
    const { id } = await authorisedConsent()
    const first = await yapily.remove(id)
    await yapily.control('bank-delete-fails', { enabled: true })

    const again = await yapily.remove(id, '?forceDelete=false')
    const invalid = await yapily.remove(id, '?forceDelete=maybe')

    expect(again.status).toBe(200)
    expect(again.body.data).toEqual(first.body.data)
    expect(await yapily.consent(id)).toMatchObject({ status: 'REVOKED', isDeletedByInstitution: true })
    expect(invalid.status).toBe(400)
  })
})

describe('re-authorisation', () => {
  test('PATCH: 201 with the same id and token, AWAITING_RE_AUTHORIZATION and a new page; a repeat answers the same', async () => {
    const created = await yapily.createOk()
    await decide(created.authorisationUrl as string, 'approve')
    const { consentToken } = await yapily.consent(created.id as string)

    const patched = await yapily.reauthorise(consentToken as string)
    const repeated = await yapily.reauthorise(consentToken as string)
    const oldPage = await openPage(created.authorisationUrl as string)

    expect(patched.status).toBe(201)
    expect(patched.body.data).toMatchObject({
      id: created.id,
      consentToken,
      status: 'AWAITING_RE_AUTHORIZATION',
      authorisationUrl: expect.stringContaining(`${sandbox.url}/bank/`),
    })
    expect(patched.body.data.authorisationUrl).not.toBe(created.authorisationUrl)
    expect(repeated.status).toBe(201)
    expect(repeated.body.data.authorisationUrl).toBe(patched.body.data.authorisationUrl)
    expect(oldPage.status).toBe(409)
  })

  test('approve renews lastConfirmedAt, reconfirmBy and expiresAt, keeps the token, 302 with consent=<same token>', async () => {
    await yapily.setClock(NOON)
    const { id, token } = await authorisedConsent()
    await yapily.advanceDays(30)
    const patched = await yapily.reauthorise(token)

    const decided = await decide(patched.body.data.authorisationUrl as string, 'approve')
    const consent = await yapily.consent(id)

    const renewedAt = Date.parse(consent.lastConfirmedAt as string)
    expect(renewedAt - Date.parse(NOON)).toBeGreaterThanOrEqual(30 * DAY_MS)
    expect(consent).toMatchObject({ status: 'AUTHORIZED', consentToken: token })
    expect(consent.authorizedAt).toBe(consent.lastConfirmedAt)
    expect(Date.parse(consent.reconfirmBy as string) - renewedAt).toBe(90 * DAY_MS)
    expect(Date.parse(consent.expiresAt as string) - renewedAt).toBe(90 * DAY_MS)
    expect(callbackQuery(decided.location).consent).toBe(token)
  })

  test('deny restores AUTHORIZED, with the error redirect', async () => {
    const { id, token } = await authorisedConsent()
    const before = await yapily.consent(id)
    const patched = await yapily.reauthorise(token)

    const decided = await decide(patched.body.data.authorisationUrl as string, 'deny')
    const after = await yapily.consent(id)

    expect(callbackQuery(decided.location).error).toBe('access_denied')
    expect(after.status).toBe('AUTHORIZED')
    expect(after.lastConfirmedAt).toBe(before.lastConfirmedAt)
    expect((await yapily.accounts(token)).status).toBe(200)
  })

  test('from EXPIRED: deny restores EXPIRED; approve makes it AUTHORIZED again with a new expiresAt', async () => {
    const { id, token } = await authorisedConsent({ institutionId: 'santander-es-sandbox' })
    await yapily.advanceDays(181)
    expect(await statusOf(id)).toBe('EXPIRED')

    const denied = await yapily.reauthorise(token)
    await decide(denied.body.data.authorisationUrl as string, 'deny')
    const afterDeny = await statusOf(id)
    const approved = await yapily.reauthorise(token)
    await decide(approved.body.data.authorisationUrl as string, 'approve')
    const consent = await yapily.consent(id)

    expect(afterDeny).toBe('EXPIRED')
    expect(consent.status).toBe('AUTHORIZED')
    expect(Date.parse(consent.expiresAt as string)).toBeGreaterThan(await yapily.sandboxNow())
    expect((await yapily.accounts(token)).status).toBe(200)
  })

  test('the embedded bank is 424; an unknown token 401; no header 400; a REJECTED or REVOKED consent 400', async () => {
    const embedded = await authorisedEmbeddedConsent()
    const deleted = await authorisedConsent()
    await yapily.remove(deleted.id)

    const notSupported = await yapily.reauthorise(embedded.token)
    const unknown = await yapily.reauthorise('not.a.token')
    const noHeader = await yapily.call('PATCH', '/account-auth-requests')
    const revoked = await yapily.reauthorise(deleted.token)

    expect(notSupported.status).toBe(424)
    expect(notSupported.body.error.message).toContain('feature not supported by the institution')
    expect(unknown.status).toBe(401)
    expect(unknown.body.error).toMatchObject({ code: 401, status: 'UNAUTHORIZED', message: 'consent token invalid' })
    expect(noHeader.status).toBe(400)
    expect(revoked.status).toBe(400)
  })
})

describe('extend (UK reconfirmation)', () => {
  beforeEach(async () => {
    await yapily.setClock(NOON)
  })

  test('200 with lastConfirmedAt as sent and reconfirmBy 90 days later; the status stays', async () => {
    const { id } = await authorisedConsent()
    await yapily.advanceDays(60)
    const lastConfirmedAt = new Date((await yapily.sandboxNow()) - 5_000).toISOString()

    const extended = await yapily.extend(id, { lastConfirmedAt })

    expect(extended.status).toBe(200)
    expect(extended.body.meta.tracingId).toMatch(UUID)
    expect(extended.body.data).toMatchObject({
      id,
      status: 'AUTHORIZED',
      lastConfirmedAt,
      reconfirmBy: new Date(Date.parse(lastConfirmedAt) + 90 * DAY_MS).toISOString(),
    })
  })

  test.each([
    ['missing', {}],
    ['unparsable', { lastConfirmedAt: 'yesterday' }],
    ['without an offset', { lastConfirmedAt: '2030-06-15T11:00:00' }],
  ])('lastConfirmedAt %s: 400 in the new envelope, issue 10600', async (_case, body) => {
    const { id } = await authorisedConsent()

    const refused = await yapily.extend(id, body)

    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({
      tracingId: expect.stringMatching(UUID),
      code: 400,
      status: 'BAD_REQUEST',
      supportUrl: expect.stringMatching(/^https:/),
      source: 'YAPILY',
    })
    expect(refused.body.error.issues).toEqual([
      { type: 'BAD_REQUEST', code: '10600', parameter: '$.lastConfirmedAt', message: expect.any(String) },
    ])
  })

  test('a future lastConfirmedAt is refused with the exact documented message', async () => {
    const { id } = await authorisedConsent()
    const future = new Date((await yapily.sandboxNow()) + 60_000).toISOString()

    const refused = await yapily.extend(id, { lastConfirmedAt: future })

    expect(refused.status).toBe(400)
    expect(refused.body.error.issues[0].message).toBe('lastConfirmedAt cannot be a future date and time')
  })

  test('not later than the current lastConfirmedAt, not AUTHORIZED, not UK: 400; unknown consent: 404', async () => {
    const { id } = await authorisedConsent()
    const current = (await yapily.consent(id)).lastConfirmedAt as string
    const pending = await yapily.createOk()
    const eea = await authorisedConsent({ institutionId: 'santander-es-sandbox' })
    await yapily.advanceDays(1)
    const yesterday = new Date((await yapily.sandboxNow()) - DAY_MS / 2).toISOString()

    const same = await yapily.extend(id, { lastConfirmedAt: current })
    const earlier = await yapily.extend(id, { lastConfirmedAt: new Date(Date.parse(current) - 1000).toISOString() })
    const notAuthorised = await yapily.extend(pending.id as string, { lastConfirmedAt: yesterday })
    const notUk = await yapily.extend(eea.id, { lastConfirmedAt: yesterday })
    const unknown = await yapily.extend(randomUUID(), { lastConfirmedAt: yesterday })
    const malformed = await yapily.call('POST', `/consents/${id}/extend`, { body: '{"lastConfirmedAt": ' })

    for (const refused of [same, earlier, notAuthorised, notUk, malformed]) {
      expect(refused.status).toBe(400)
      expect(refused.body.error.issues[0]).toMatchObject({ code: '10600' })
    }
    expect(notAuthorised.body.error.issues[0].message).toContain('AWAITING_AUTHORIZATION')
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', issues: [{ code: '10800' }] })
  })
})

describe('one consent per account (issue 12)', () => {
  // Yapily, "Understanding Consents": "Some banks return one consent per account"; the callback then carries one
  // `consent` parameter per consent. `per-account-gb-sandbox` is such a bank, with two accounts.
  test('approval authorises one consent per account and the callback carries every token', async () => {
    const created = await yapily.createOk({ institutionId: 'per-account-gb-sandbox', applicationUserId: 'per-acc' })

    const decided = await decide(created.authorisationUrl as string, 'approve')

    expect(decided.status).toBe(302)
    const tokens = new URL(decided.location ?? '').searchParams.getAll('consent')
    expect(tokens).toHaveLength(2)
    const listed = await yapily.list('filter[applicationUserId]=per-acc&filter[institution]=per-account-gb-sandbox')
    const consents = listed.body.data as any[]
    expect(consents.map((consent) => consent.status)).toEqual(['AUTHORIZED', 'AUTHORIZED'])
    expect(consents.map((consent) => consent.consentToken).sort()).toEqual([...tokens].sort())
    expect(consents.map((consent) => consent.id)).toContain(created.id)
    expect((await yapily.consent(created.id as string)).consentToken).toBe(tokens[0])
    const accountIds = await Promise.all(
      tokens.map(async (token) => ((await yapily.accounts(token)).body.data as any[]).map((account) => account.id)),
    )
    expect(accountIds.map((ids) => ids.length)).toEqual([1, 1])
    expect(accountIds[0]).not.toEqual(accountIds[1])
  })
})
