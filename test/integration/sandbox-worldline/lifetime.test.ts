// How a Worldline sandbox consent ends and who hears of it: expiry at ValidUntilDate and at the bank, notifications
// and the window in which Worldline polls the bank.
import { randomUUID } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import {
  authorisedConsent,
  dayAfter,
  decide,
  NOON,
  notificationHeaders,
  openPage,
  receiver,
  statusesAt,
  useWorldlineSandbox,
  WINDOW_MS,
  worldline,
} from './harness.ts'

useWorldlineSandbox()

describe('expiry', () => {
  test('at the end of ValidUntilDate (UTC) an Authorised consent becomes Expired; data calls answer 401 code 123', async () => {
    // Prepare
    await worldline.setClock(NOON)
    const base = receiver.newEndpoint()
    const consentId = await authorisedConsent({
      body: { ValidUntilDate: '2030-06-16' },
      headers: notificationHeaders(base),
    })

    // Act
    await worldline.setClock('2030-06-16T23:59:00.000Z')
    const lastMinute = await worldline.statusOf(consentId)
    await worldline.setClock('2030-06-17T00:00:01.000Z')
    const expired = await worldline.statusOf(consentId)
    const accounts = await worldline.accounts()

    // Assess
    expect(lastMinute).toBe('Authorised')
    expect(expired).toBe('Expired')
    expect(accounts.status).toBe(401)
    expect(accounts.body).toEqual({ Code: '123', Message: 'The PSU consent is expired' })
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised', 'Expired'])
  })

  test('moving the clock expires consents at once, before any API call (the control sweeps)', async () => {
    await worldline.setClock(NOON)
    const consentId = await authorisedConsent({ body: { ValidUntilDate: '2030-06-15' } })

    await worldline.setClock('2030-06-16T00:00:00.000Z')
    const listed = await worldline.control('consents', undefined, 'GET')

    expect(listed.body.consents.find((c: { consentId: string }) => c.consentId === consentId).status).toBe('Expired')
  })

  test('a PartiallyAuthorised consent expires too; its holder pages answer 410', async () => {
    await worldline.setClock(NOON)
    const created = await worldline.createOk({ body: { ValidUntilDate: '2030-06-15' } })
    await decide(created.Links.RedirectUrl.Href, 'approve', { holders: '2' })
    const started = await worldline.startAuthorisation(created.ConsentId)

    await worldline.advanceSeconds(12 * 3600 + 60)
    const page = await openPage(started.body.Links.RedirectUrl.Href)

    expect(await worldline.statusOf(created.ConsentId)).toBe('Expired')
    expect(page.status).toBe(410)
  })

  test('bank-side expiry inside the notification window: status Expired, notified, data calls 401 code 123', async () => {
    const base = receiver.newEndpoint()
    const consentId = await authorisedConsent({ headers: notificationHeaders(base) })
    await worldline.advanceSeconds(2 * 24 * 3600)

    const control = await worldline.control(`consents/${consentId}/bank-expiry`)
    const accounts = await worldline.accounts()

    expect(control.status).toBe(200)
    expect(control.body.outcome).toBe('learnt')
    expect(await worldline.statusOf(consentId)).toBe('Expired')
    expect(accounts.status).toBe(401)
    expect(accounts.body.Code).toBe('123')
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised', 'Expired'])
  })

  test('bank-side expiry after the window: the status still says Authorised, data calls 401 code 123, no notification', async () => {
    const base = receiver.newEndpoint()
    const consentId = await authorisedConsent({ headers: notificationHeaders(base) })
    await worldline.advanceSeconds(WINDOW_MS / 1000 + 60)

    const control = await worldline.control(`consents/${consentId}/bank-expiry`)
    const status = await worldline.statusOf(consentId)
    const accounts = await worldline.accounts()

    expect(control.body.outcome).toBe('hidden')
    expect(control.body.consent).toMatchObject({ bankExpired: true, polled: false, status: 'Authorised' })
    expect(status).toBe('Authorised')
    expect(accounts.status).toBe(401)
    expect(accounts.body).toEqual({ Code: '123', Message: 'The PSU consent is expired' })
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised'])
  })

  test('bank-expiry of a consent that is not authorised is a 400 control error; an unknown one 404', async () => {
    const created = await worldline.createOk()

    expect((await worldline.control(`consents/${created.ConsentId}/bank-expiry`)).status).toBe(400)
    expect((await worldline.control(`consents/${randomUUID()}/bank-expiry`)).status).toBe(404)
  })
})

describe('notifications and the polling window', () => {
  test('after the window no change is notified: forced statuses, DELETE, expiry at ValidUntilDate', async () => {
    // Prepare: two consents authorised inside the window (two notifications each).
    await worldline.setClock(NOON)
    const base = receiver.newEndpoint()
    const revoked = await authorisedConsent({ headers: notificationHeaders(base) })
    const expiring = await authorisedConsent({
      psuId: 'psu-e',
      body: { ValidUntilDate: dayAfter(NOON, 4) },
      headers: notificationHeaders(base),
    })
    const before = await worldline.flush()

    // Act: past the window, the statuses change in every way there is.
    await worldline.advanceSeconds(WINDOW_MS / 1000 + 1)
    const forced = await worldline.control(`consents/${revoked}/status`, { status: 'Error' })
    await worldline.control(`consents/${revoked}/status`, { status: 'Authorised' })
    await worldline.remove(revoked)
    await worldline.setClock(`${dayAfter(NOON, 5)}T00:00:01.000Z`)
    const after = await worldline.flush()

    // Assess
    expect(forced.status).toBe(200)
    expect(await worldline.statusOf(revoked)).toBe('Revoked')
    expect(await worldline.statusOf(expiring, 'psu-e')).toBe('Expired')
    expect(before).toHaveLength(4)
    expect(after).toHaveLength(4)
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised', 'Pending', 'Authorised'])
  })

  test('just inside the window a forced status is notified, the same status included', async () => {
    const base = receiver.newEndpoint()
    const consentId = await authorisedConsent({ headers: notificationHeaders(base) })

    await worldline.advanceSeconds(WINDOW_MS / 1000 - 60)
    await worldline.control(`consents/${consentId}/status`, { status: 'Authorised' })
    await worldline.control(`consents/${consentId}/status`, { status: 'SomethingNew' })
    await worldline.flush()

    expect(statusesAt(base)).toEqual(['Pending', 'Authorised', 'Authorised', 'SomethingNew'])
    expect(await worldline.statusOf(consentId)).toBe('SomethingNew')
  })

  test('a consent without a notification URL sends nothing', async () => {
    await authorisedConsent()

    expect(await worldline.flush()).toEqual([])
  })
})
