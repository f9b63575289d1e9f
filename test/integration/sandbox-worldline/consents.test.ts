// The Worldline sandbox's AIS v3 consents: the rules of creating one, supersession by a newer consent, DELETE.
import { randomUUID } from 'node:crypto'
import { beforeEach, describe, expect, test } from 'vitest'
import {
  A,
  authorisedConsent,
  dayAfter,
  decide,
  FULL_PERMISSIONS,
  NOON,
  notificationHeaders,
  openPage,
  receiver,
  sandbox,
  statusesAt,
  useWorldlineSandbox,
  UUID,
  worldline,
} from './harness.ts'

useWorldlineSandbox()

describe('create consent', () => {
  beforeEach(async () => {
    await worldline.setClock(NOON)
  })

  test('201: ConsentId, Open, a RedirectUrl to the bank page and a working GetConsentStatus link', async () => {
    const created = await worldline.create({
      psuId: 'psu-create',
      body: { AspspId: '20116', Permissions: ['Accounts', 'Balances'], ValidUntilDate: '2030-09-01' },
    })

    expect(created.status).toBe(201)
    expect(Object.keys(created.body).sort()).toEqual(['ConsentId', 'ConsentStatus', 'Links'])
    expect(created.body.ConsentId).toMatch(UUID)
    expect(created.body.ConsentStatus).toBe('Open')
    expect(Object.keys(created.body.Links).sort()).toEqual(['GetConsentStatus', 'RedirectUrl'])
    expect(created.body.Links.RedirectUrl.Href).toMatch(new RegExp(`^${sandbox.url}/bank/sca/`))
    const statusHref: string = created.body.Links.GetConsentStatus.Href
    expect(statusHref).toBe(`${sandbox.url}${A}/psus/psu-create/consents/${created.body.ConsentId}/status`)
    const status = await worldline.call('GET', statusHref.slice(sandbox.url.length))
    expect(status.status).toBe(200)
    expect(status.body).toEqual({
      ConsentId: created.body.ConsentId,
      ConsentStatus: 'Open',
      AspspId: '20116',
      PsuId: 'psu-create',
      Permissions: ['Accounts', 'Balances'],
      ValidUntilDate: '2030-09-01T23:59:59.999Z',
      RecurringIndicator: true,
      NumberOfAuthorisationsRequired: 1,
      NumberOfAuthorisationsDone: 0,
      Links: created.body.Links,
    })
  })

  test.each([['20101'], ['20116'], ['20102']])('ASPSP %s is known', async (aspspId) => {
    expect((await worldline.create({ body: { AspspId: aspspId } })).status).toBe(201)
  })

  test('an unknown AspspId is 404 code "104" (The Aspsp is unknown)', async () => {
    const refused = await worldline.create({ body: { AspspId: '99999' } })

    expect(refused.status).toBe(404)
    expect(refused.body).toEqual({ Code: '104', Message: expect.any(String) })
  })

  test.each([[20101], [undefined]])('AspspId %j (not a string) is 400', async (aspspId) => {
    expect((await worldline.create({ body: { AspspId: aspspId } })).status).toBe(400)
  })

  test.each([
    [['Accounts'], ['Accounts']],
    [
      ['Balances', 'Accounts'],
      ['Accounts', 'Balances'],
    ],
    [
      ['Transactions', 'Accounts'],
      ['Accounts', 'Transactions'],
    ],
    [['Transactions', 'Balances', 'Accounts'], FULL_PERMISSIONS],
  ])('Permissions %j are accepted and stored as %j', async (permissions, stored) => {
    const created = await worldline.createOk({ body: { Permissions: permissions } })

    expect((await worldline.status(created.ConsentId)).body.Permissions).toEqual(stored)
  })

  test.each([
    [[]],
    [['Balances']],
    [['Transactions']],
    [['Balances', 'Transactions']],
    [['Accounts', 'Accounts']],
    [['Accounts', 'Payments']],
    [['accounts']],
    ['Accounts'],
    [undefined],
  ])('Permissions %j are 400 code 001 (Bad client request)', async (permissions) => {
    const refused = await worldline.create({ body: { Permissions: permissions } })

    expect(refused.status).toBe(400)
    expect(refused.body.Code).toBe('001')
  })

  test('ValidUntilDate from today up to 180 days ahead is accepted; absent means 180 days', async () => {
    const today = await worldline.createOk({ body: { ValidUntilDate: '2030-06-15' } })
    const longest = await worldline.createOk({ body: { ValidUntilDate: dayAfter(NOON, 180) } })
    const absent = await worldline.createOk({ body: { ValidUntilDate: undefined } })

    expect((await worldline.status(today.ConsentId)).body.ValidUntilDate).toBe('2030-06-15T23:59:59.999Z')
    expect((await worldline.status(longest.ConsentId)).body.ValidUntilDate).toBe('2030-12-12T23:59:59.999Z')
    expect((await worldline.status(absent.ConsentId)).body.ValidUntilDate).toBe('2030-12-12T23:59:59.999Z')
  })

  test.each([
    ['2030-06-14', '001'],
    [dayAfter(NOON, 181), '001'],
    ['2030-02-30', '002'],
    ['15-06-2030', '002'],
    ['2030-06-20T00:00:00Z', '002'],
    [20300620, '002'],
  ])('ValidUntilDate %j is 400 code %s (001 outside the allowed days, 002 not a date)', async (validUntil, code) => {
    const refused = await worldline.create({ body: { ValidUntilDate: validUntil } })

    expect(refused.status).toBe(400)
    expect(refused.body.Code).toBe(code)
  })

  test('RecurringIndicator false is kept; a non-boolean is 400', async () => {
    const created = await worldline.createOk({ body: { RecurringIndicator: false } })
    const refused = await worldline.create({ body: { RecurringIndicator: 'yes' } })

    expect((await worldline.status(created.ConsentId)).body.RecurringIndicator).toBe(false)
    expect(refused.status).toBe(400)
  })

  test('notification URL form A (ends in /v3): notifications go to {url}/notification/status', async () => {
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({ headers: { initiatingpartynotificationurl: `${base}/v3` } })

    await openPage(created.Links.RedirectUrl.Href)
    await worldline.flush()

    expect(receiver.at(`${new URL(base).pathname}/v3/notification/status`)).toHaveLength(1)
  })

  test('form A with NotificationVersion is 400 code 001 (Bad client request)', async () => {
    const refused = await worldline.create({
      headers: { initiatingpartynotificationurl: 'https://tpp.example/hooks/v2', notificationversion: 'v2' },
    })

    expect(refused.status).toBe(400)
    expect(refused.body.Code).toBe('001')
  })

  test('notification URL form B is used as is and needs NotificationVersion v2 or v3 (else 400 code 133)', async () => {
    const base = receiver.newEndpoint()
    const missing = await worldline.create({ headers: { initiatingpartynotificationurl: `${base}/status` } })
    const wrong = await worldline.create({
      headers: { initiatingpartynotificationurl: `${base}/status`, notificationversion: 'v4' },
    })
    const created = await worldline.createOk({
      headers: { initiatingpartynotificationurl: `${base}/status`, notificationversion: 'v2' },
    })

    await openPage(created.Links.RedirectUrl.Href)
    await worldline.flush()

    expect(missing.status).toBe(400)
    expect(missing.body.Code).toBe('133')
    expect(wrong.body.Code).toBe('133')
    expect(receiver.at(`${new URL(base).pathname}/status`).map((n) => n.body.ConsentStatus)).toEqual(['Pending'])
  })

  test('a notification or return URL that is not an absolute http(s) URL is 400', async () => {
    const badNotification = await worldline.create({ headers: { initiatingpartynotificationurl: 'tpp/v3' } })
    const badReturn = await worldline.create({ headers: { initiatingpartyreturnurl: 'ftp://tpp.example/back' } })

    expect(badNotification.status).toBe(400)
    expect(badReturn.status).toBe(400)
  })

  test("an unknown consent, and another PSU's consent, are 404 code 110 (Resource could not be found)", async () => {
    const created = await worldline.createOk({ psuId: 'psu-a' })

    const otherPsu = await worldline.status(created.ConsentId, 'psu-b')
    const unknown = await worldline.status(randomUUID(), 'psu-a')
    const deleteOther = await worldline.remove(created.ConsentId, 'psu-b')

    for (const answer of [otherPsu, unknown, deleteOther]) {
      expect(answer.status).toBe(404)
      expect(answer.body.Code).toBe('110')
    }
    expect(await worldline.statusOf(created.ConsentId, 'psu-a')).toBe('Open')
  })
})

describe('supersession', () => {
  test('authorising a newer consent makes the older one Inactive; data calls use the newer one', async () => {
    // Prepare
    const base = receiver.newEndpoint()
    const older = await authorisedConsent({ headers: notificationHeaders(base) })
    const olderAccounts = (await worldline.accounts()).body.Accounts
    const otherBank = await authorisedConsent({ body: { AspspId: '20116' } })
    const otherPsu = await authorisedConsent({ psuId: 'psu-2' })

    // Act
    const newer = await authorisedConsent()
    const newerAccounts = (await worldline.accounts()).body.Accounts

    // Assess
    expect(await worldline.statusOf(older)).toBe('Inactive')
    expect(await worldline.statusOf(newer)).toBe('Authorised')
    expect(await worldline.statusOf(otherBank)).toBe('Authorised')
    expect(await worldline.statusOf(otherPsu, 'psu-2')).toBe('Authorised')
    expect(newerAccounts[0].AccountId).not.toBe(olderAccounts[0].AccountId)
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised', 'Inactive'])
  })
})

describe('delete consent', () => {
  test('204 with an empty body: Revoked, notified; data calls 400 code 122; a repeat is 204 with no change', async () => {
    const base = receiver.newEndpoint()
    const consentId = await authorisedConsent({ headers: notificationHeaders(base) })

    const first = await worldline.remove(consentId)
    const second = await worldline.remove(consentId)

    for (const answer of [first, second]) {
      expect(answer.status).toBe(204)
      expect(answer.text).toBe('')
    }
    expect(await worldline.statusOf(consentId)).toBe('Revoked')
    const accounts = await worldline.accounts()
    expect(accounts.status).toBe(400)
    expect(accounts.body.Code).toBe('122')
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised', 'Revoked'])
  })

  test('with bank-delete-fails on, DELETE gives RevokedAtTpp; turned off, Revoked again', async () => {
    const toggledOn = await worldline.control('bank-delete-fails', { enabled: true })
    const failing = await authorisedConsent()
    await worldline.remove(failing)
    const open = await worldline.createOk({ psuId: 'psu-open' })
    await worldline.remove(open.ConsentId, 'psu-open')
    await worldline.control('bank-delete-fails', { enabled: false })
    const working = await authorisedConsent({ psuId: 'psu-3' })
    await worldline.remove(working, 'psu-3')

    expect(toggledOn.body).toEqual({ enabled: true })
    expect(await worldline.statusOf(failing)).toBe('RevokedAtTpp')
    expect(await worldline.statusOf(open.ConsentId, 'psu-open')).toBe('RevokedAtTpp')
    expect(await worldline.statusOf(working, 'psu-3')).toBe('Revoked')
    expect((await worldline.control('bank-delete-fails', { enabled: 'yes' })).status).toBe(400)
  })

  test('an Open consent is Revoked and its page is gone (409); Rejected and Expired stay as they are', async () => {
    await worldline.setClock(NOON)
    const open = await worldline.createOk()
    const rejected = await worldline.createOk()
    await decide(rejected.Links.RedirectUrl.Href, 'deny')
    const expired = await authorisedConsent({ psuId: 'psu-x', body: { ValidUntilDate: '2030-06-15' } })
    await worldline.setClock('2030-06-16T00:00:01.000Z')

    const answers = [
      await worldline.remove(open.ConsentId),
      await worldline.remove(rejected.ConsentId),
      await worldline.remove(expired, 'psu-x'),
    ]

    expect(answers.map((answer) => answer.status)).toEqual([204, 204, 204])
    expect(await worldline.statusOf(open.ConsentId)).toBe('Revoked')
    expect((await openPage(open.Links.RedirectUrl.Href)).status).toBe(409)
    expect(await worldline.statusOf(rejected.ConsentId)).toBe('Rejected')
    expect(await worldline.statusOf(expired, 'psu-x')).toBe('Expired')
  })
})
