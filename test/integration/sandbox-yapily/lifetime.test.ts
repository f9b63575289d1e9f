// How long a Yapily sandbox consent gives data access: data calls and revocation at the bank, expiry on the sandbox
// clock, a lapsed UK reconfirmation, a long-lived consent.
import { describe, expect, test } from 'vitest'
import { authorisedConsent, NOON, other, receiver, statusOf, useYapilySandbox, UUID, yapily } from './harness.ts'

useYapilySandbox()

describe('data calls and revocation at the bank', () => {
  test('GET /accounts answers the accounts while AUTHORIZED', async () => {
    const { token } = await authorisedConsent()

    const accounts = await yapily.accounts(token)

    expect(accounts.status).toBe(200)
    expect(accounts.body.meta).toEqual({ tracingId: expect.stringMatching(UUID), count: 1 })
    expect(accounts.body.data[0]).toEqual({
      id: expect.any(String),
      type: expect.any(String),
      currency: 'GBP',
      accountNames: [{ name: expect.any(String) }],
      accountIdentifications: expect.arrayContaining([{ type: 'SORT_CODE', identification: expect.any(String) }]),
    })
  })

  test('revoked at the bank: the status stays AUTHORIZED while data calls answer 403 FORBIDDEN', async () => {
    const { id, token } = await authorisedConsent()

    const revoked = await yapily.control(`consents/${id}/revoke-at-bank`)
    const accounts = await yapily.accounts(token)

    expect(revoked.status).toBe(200)
    expect(await statusOf(id)).toBe('AUTHORIZED')
    expect(accounts.status).toBe(403)
    expect(accounts.body.error).toMatchObject({ code: 403, status: 'FORBIDDEN', source: 'YAPILY' })
  })

  test('an unknown token is 401; another application’s token is unknown too', async () => {
    const { token } = await authorisedConsent()

    expect((await yapily.accounts('nope')).status).toBe(401)
    expect((await other.accounts(token)).status).toBe(401)
  })
})

describe('expiry on the sandbox clock', () => {
  test('moving the clock past expiresAt makes an AUTHORIZED consent EXPIRED at once; data calls 403', async () => {
    const { id, token } = await authorisedConsent()

    await yapily.advanceDays(91)
    const listed = await yapily.control('consents', undefined, 'GET')

    expect(listed.body.consents.find((consent: any) => consent.id === id).status).toBe('EXPIRED')
    expect((await yapily.accounts(token)).status).toBe(403)
  })

  test('reconfirmBy passing changes no status', async () => {
    const { id } = await authorisedConsent({ accountRequest: { expiresAt: '2099-01-01T00:00:00Z' } })

    await yapily.advanceDays(100)

    expect(await statusOf(id)).toBe('AUTHORIZED')
  })

  test('the real-time sweep expires a consent without any request (webhook observed)', async () => {
    const url = receiver.newEndpoint()
    await yapily.registerWebhook({ callbackUrl: { main: { url } } })
    const expiresAt = new Date((await yapily.sandboxNow()) + 1_500).toISOString()
    const { id } = await authorisedConsent({ accountRequest: { expiresAt } })

    await expect
      .poll(() => receiver.at(url).some((delivery) => delivery.body.event.status === 'EXPIRED'), {
        timeout: 5_000,
        interval: 50,
      })
      .toBe(true)

    expect(receiver.at(url).map((delivery) => delivery.body.event.status)).toEqual(['AUTHORIZED', 'EXPIRED'])
    expect(receiver.at(url)[1]?.body.event.consentId).toBe(id)
  })
})

describe('a lapsed UK reconfirmation (issue 12)', () => {
  // Yapily, "Financial data consents": without reconfirmation by `reconfirmBy`, "Yapily will prevent further access
  // to the user's data"; reconfirming after that date resumes it. The status stays AUTHORIZED meanwhile.
  test('past reconfirmBy, data calls answer 403 (ApiResponseError) while AUTHORIZED; extend resumes access', async () => {
    await yapily.setClock(NOON)
    const { id, token } = await authorisedConsent()
    await yapily.control(`consents/${id}/long-lived`)
    const reconfirmBy = Date.parse((await yapily.consent(id)).reconfirmBy as string)
    await yapily.setClock(new Date(reconfirmBy - 1_000).toISOString())
    expect((await yapily.accounts(token)).status).toBe(200)

    await yapily.setClock(new Date(reconfirmBy + 1_000).toISOString())
    const blocked = await yapily.accounts(token)
    expect(blocked.status).toBe(403)
    expect(blocked.body).toEqual({
      error: {
        code: 403,
        status: 'FORBIDDEN',
        message: expect.stringContaining('reconfirm'),
        source: 'YAPILY',
        tracingId: expect.any(String),
      },
    })
    expect(await statusOf(id)).toBe('AUTHORIZED')

    const lastConfirmedAt = new Date((await yapily.sandboxNow()) - 500).toISOString()
    expect((await yapily.extend(id, { lastConfirmedAt })).status).toBe(200)
    expect((await yapily.accounts(token)).status).toBe(200)
  })

  test('an EEA consent has no reconfirmBy and keeps data access past 90 days', async () => {
    await yapily.setClock(NOON)
    const { id, token } = await authorisedConsent({ institutionId: 'santander-es-sandbox' })
    await yapily.control(`consents/${id}/long-lived`)
    await yapily.advanceDays(91)
    expect((await yapily.accounts(token)).status).toBe(200)
  })
})

describe('a long-lived consent', () => {
  test('shows no expiresAt nor timeToExpire and keeps data access; a consent never authorised is refused (400)', async () => {
    const { id, token } = await authorisedConsent()
    const created = await yapily.createOk()

    const lifted = await yapily.control(`consents/${id}/long-lived`)
    const consent = await yapily.consent(id)

    expect(lifted.status).toBe(200)
    expect(consent).toMatchObject({ status: 'AUTHORIZED' })
    expect(consent).not.toHaveProperty('expiresAt')
    expect(consent).not.toHaveProperty('timeToExpire')
    expect((await yapily.accounts(token)).status).toBe(200)
    expect((await yapily.control(`consents/${created.id}/long-lived`)).status).toBe(400)
  })
})
