// The Yapily sandbox's bank: the hosted redirect page (approve, deny, decided pages) and the embedded bank, through its
// hosted page and through the embedded API.
import { randomUUID } from 'node:crypto'
import { beforeEach, describe, expect, test } from 'vitest'
import {
  CALLBACK,
  callbackQuery,
  DAY_MS,
  decide,
  NOON,
  openPage,
  sandbox,
  statusOf,
  submit,
  useYapilySandbox,
  yapily,
} from './harness.ts'

useYapilySandbox()

describe('redirect flow bank page', () => {
  beforeEach(async () => {
    await yapily.setClock(NOON)
  })

  test('approve (UK): token minted, reconfirmBy and expiresAt 90 days on, 302 to the callback with the token', async () => {
    // Prepare
    const created = await yapily.createOk({ applicationUserId: 'user-uk' })

    // Act
    const page = await openPage(created.authorisationUrl as string)
    const whileOpen = await statusOf(created.id as string)
    const decided = await submit(page.form, 'approve')
    const consent = await yapily.consent(created.id as string)

    // Assess
    expect(page.status).toBe(200)
    expect(page.form?.method).toBe('post')
    expect(page.form?.action.toString()).toBe(created.authorisationUrl)
    expect(page.form?.buttons).toEqual([
      { name: 'decision', value: 'approve' },
      { name: 'decision', value: 'deny' },
    ])
    expect(whileOpen).toBe('AWAITING_AUTHORIZATION')
    expect(decided.status).toBe(302)
    expect(decided.location?.startsWith(`${CALLBACK}?`)).toBe(true)
    expect(callbackQuery(decided.location)).toEqual({
      consent: consent.consentToken,
      'application-user-id': 'user-uk',
      'user-uuid': created.userUuid,
      institution: 'modelo-sandbox',
    })
    expect(consent.status).toBe('AUTHORIZED')
    expect(consent.consentToken).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/)
    const authorizedAt = Date.parse(consent.authorizedAt as string)
    expect(authorizedAt - Date.parse(NOON)).toBeGreaterThanOrEqual(0)
    expect(authorizedAt - Date.parse(NOON)).toBeLessThan(10_000)
    expect(consent.lastConfirmedAt).toBe(consent.authorizedAt)
    expect(Date.parse(consent.reconfirmBy as string) - authorizedAt).toBe(90 * DAY_MS)
    expect(Date.parse(consent.expiresAt as string) - authorizedAt).toBe(90 * DAY_MS)
    // Yapily API's Consent schema types both as plain date-time / boolean, not nullable: unset, they are left out.
    expect(consent).not.toHaveProperty('isDeletedByInstitution')
    expect(consent.authorisationUrl).toBeUndefined()
  })

  test('approve (EEA): no reconfirmBy, expiresAt 180 days on; a requested expiresAt (UK) is kept', async () => {
    const eea = await yapily.createOk({ institutionId: 'santander-es-sandbox' })
    const requested = await yapily.createOk({ accountRequest: { expiresAt: '2030-07-01T00:00:00Z' } })

    await decide(eea.authorisationUrl as string, 'approve')
    await decide(requested.authorisationUrl as string, 'approve')
    const eeaConsent = await yapily.consent(eea.id as string)
    const requestedConsent = await yapily.consent(requested.id as string)

    expect(eeaConsent).not.toHaveProperty('reconfirmBy')
    expect(Date.parse(eeaConsent.expiresAt as string) - Date.parse(eeaConsent.authorizedAt as string)).toBe(
      180 * DAY_MS,
    )
    expect(requestedConsent.expiresAt).toBe('2030-07-01T00:00:00.000Z')
    expect(requestedConsent.reconfirmBy).not.toBeNull()
  })

  test('the outcome is appended to a callback query that is already there', async () => {
    const created = await yapily.createOk({ callback: 'https://partner.example/cb?session=s-1' })

    const decided = await decide(created.authorisationUrl as string, 'approve')

    expect(callbackQuery(decided.location)).toMatchObject({ session: 's-1', institution: 'modelo-sandbox' })
    expect(callbackQuery(decided.location).consent).toMatch(/\./)
  })

  test('deny: REJECTED and 302 to the callback with the error parameters, no token', async () => {
    const created = await yapily.createOk({ applicationUserId: 'user-deny' })

    const decided = await decide(created.authorisationUrl as string, 'deny')
    const consent = await yapily.consent(created.id as string)

    expect(decided.status).toBe(302)
    expect(callbackQuery(decided.location)).toEqual({
      error: 'access_denied',
      'error-description': expect.any(String),
      'application-user-id': 'user-deny',
      institution: 'modelo-sandbox',
    })
    expect(consent.status).toBe('REJECTED')
    expect(consent.consentToken).toBeUndefined()
  })

  test('a decided page is a 409 error page and posting to it changes nothing; an unknown page is 404', async () => {
    const created = await yapily.createOk()
    const page = await openPage(created.authorisationUrl as string)
    await submit(page.form, 'deny')

    const reopened = await openPage(created.authorisationUrl as string)
    const reposted = await submit(page.form, 'approve')
    const unknown = await openPage(`${sandbox.url}/bank/nope`)

    expect(reopened.status).toBe(409)
    expect(reopened.form).toBeUndefined()
    expect(reposted.status).toBe(409)
    expect(await statusOf(created.id as string)).toBe('REJECTED')
    expect(unknown.status).toBe(404)
  })

  test('without a callback the decision shows a result page; a form without a decision is 400', async () => {
    const created = await yapily.createOk({ callback: undefined })
    const page = await openPage(created.authorisationUrl as string)

    const undecided = await submit(page.form, '')
    const decided = await submit(page.form, 'approve')

    expect(undecided.status).toBe(400)
    expect(decided.status).toBe(200)
    expect(decided.html).toContain('AUTHORIZED')
  })
})

describe('embedded bank: hosted page', () => {
  test('AWAITING_SCA_METHOD -> AWAITING_SCA_CODE -> a wrong code -> AUTHORIZED, then the redirect', async () => {
    // Prepare
    await yapily.setClock(NOON)
    const created = await yapily.createOk({ institutionId: 'embedded-de-sandbox', applicationUserId: 'user-de' })

    // Act: open, choose a method, enter a wrong code, then the right one.
    const methodPage = await openPage(created.authorisationUrl as string)
    const afterOpen = await statusOf(created.id as string)
    const codePage = await submit(methodPage.form, 'approve', { scaMethod: 'PUSH_OTP' })
    const afterMethod = await yapily.consent(created.id as string)
    const wrong = await submit(codePage.form, 'approve', { scaCode: '000000' })
    const afterWrong = await statusOf(created.id as string)
    const done = await submit(wrong.form, 'approve')
    const consent = await yapily.consent(created.id as string)

    // Assess
    expect(methodPage.form?.inputs).toContainEqual({ name: 'scaMethod', value: 'SMS_OTP', type: 'text' })
    expect(afterOpen).toBe('AWAITING_SCA_METHOD')
    expect(codePage.status).toBe(200)
    expect(codePage.form?.action.toString()).toBe(created.authorisationUrl)
    expect(codePage.form?.inputs).toContainEqual({ name: 'scaCode', value: '123456', type: 'text' })
    expect(afterMethod.status).toBe('AWAITING_SCA_CODE')
    expect(wrong.status).toBe(200)
    expect(wrong.html).toContain('not right')
    expect(afterWrong).toBe('AWAITING_SCA_CODE')
    expect(done.status).toBe(302)
    expect(callbackQuery(done.location)).toMatchObject({
      consent: consent.consentToken,
      institution: 'embedded-de-sandbox',
    })
    expect(consent.status).toBe('AUTHORIZED')
    expect(consent).not.toHaveProperty('reconfirmBy')
    expect(Date.parse(consent.expiresAt as string) - Date.parse(consent.authorizedAt as string)).toBe(180 * DAY_MS)
  })

  test('deny at the method step or at the code step: REJECTED and the error redirect', async () => {
    const first = await yapily.createOk({ institutionId: 'embedded-de-sandbox' })
    const second = await yapily.createOk({ institutionId: 'embedded-de-sandbox' })

    const deniedAtMethod = await decide(first.authorisationUrl as string, 'deny')
    const codePage = await decide(second.authorisationUrl as string, 'approve')
    const deniedAtCode = await submit(codePage.form, 'deny')

    expect(callbackQuery(deniedAtMethod.location).error).toBe('access_denied')
    expect(callbackQuery(deniedAtCode.location).error).toBe('access_denied')
    expect(await statusOf(first.id as string)).toBe('REJECTED')
    expect(await statusOf(second.id as string)).toBe('REJECTED')
  })

  test('an unknown SCA method shows the method page again with an error', async () => {
    const created = await yapily.createOk({ institutionId: 'embedded-de-sandbox' })

    const refused = await decide(created.authorisationUrl as string, 'approve', { scaMethod: 'CARRIER_PIGEON' })

    expect(refused.status).toBe(200)
    expect(refused.html).toContain('CARRIER_PIGEON')
    expect(await statusOf(created.id as string)).toBe('AWAITING_SCA_METHOD')
  })
})

describe('embedded bank: API form', () => {
  const embeddedBody = {
    applicationUserId: 'user-api',
    institutionId: 'embedded-de-sandbox',
    userCredentials: { id: '6154057725', password: 'PISPWD12' },
  }

  test('create AWAITING_SCA_METHOD, PUT the method -> AWAITING_SCA_CODE, PUT the code -> AUTHORIZED with a token', async () => {
    const created = await yapily.call('POST', '/embedded-account-auth-requests', { body: embeddedBody })
    const id = created.body.data.id as string
    const codeFirst = await yapily.call('PUT', `/embedded-account-auth-requests/${id}`, { body: { scaCode: '123456' } })
    const method = await yapily.call('PUT', `/embedded-account-auth-requests/${id}`, {
      body: { selectedScaMethod: { id: 'PUSH_OTP', type: 'PUSH_OTP' } },
    })
    const wrong = await yapily.call('PUT', `/embedded-account-auth-requests/${id}`, { body: { scaCode: '999999' } })
    const code = await yapily.call('PUT', `/embedded-account-auth-requests/${id}`, { body: { scaCode: '123456' } })
    const accounts = await yapily.accounts(code.body.data.consentToken as string)

    expect(created.status).toBe(201)
    expect(created.body.data).toMatchObject({ status: 'AWAITING_SCA_METHOD', institutionId: 'embedded-de-sandbox' })
    expect(created.body.data.scaMethods.map((candidate: any) => candidate.type)).toEqual(['SMS_OTP', 'PUSH_OTP'])
    expect(created.body.data.authorisationUrl).toBeUndefined()
    expect(codeFirst.status).toBe(400)
    expect(method.status).toBe(201)
    expect(method.body.data).toMatchObject({ status: 'AWAITING_SCA_CODE', selectedScaMethod: { type: 'PUSH_OTP' } })
    expect(wrong.status).toBe(400)
    expect(code.status).toBe(201)
    expect(code.body.data.status).toBe('AUTHORIZED')
    expect(code.body.data.consentToken).toMatch(/\./)
    expect(accounts.status).toBe(200)
  })

  test('a redirect bank is 424; missing credentials, an unoffered method or an empty PUT are 400', async () => {
    const redirectBank = await yapily.call('POST', '/embedded-account-auth-requests', {
      body: { ...embeddedBody, institutionId: 'modelo-sandbox' },
    })
    const noCredentials = await yapily.call('POST', '/embedded-account-auth-requests', {
      body: { ...embeddedBody, userCredentials: undefined },
    })
    const created = await yapily.call('POST', '/embedded-account-auth-requests', { body: embeddedBody })
    const id = created.body.data.id as string
    const unoffered = await yapily.call('PUT', `/embedded-account-auth-requests/${id}`, {
      body: { selectedScaMethod: { id: 'CHIP' } },
    })
    const empty = await yapily.call('PUT', `/embedded-account-auth-requests/${id}`, { body: {} })
    const unknown = await yapily.call('PUT', `/embedded-account-auth-requests/${randomUUID()}`, {
      body: { scaCode: '123456' },
    })

    expect(redirectBank.status).toBe(424)
    expect(redirectBank.body.error.status).toBe('FAILED_DEPENDENCY')
    expect(noCredentials.status).toBe(400)
    expect(unoffered.status).toBe(400)
    expect(empty.status).toBe(400)
    expect(unknown.status).toBe(404)
  })
})
