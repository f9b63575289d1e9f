// The Worldline sandbox's test controls: injected faults, forced statuses, bank-side expiry, reset.
import { randomUUID } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { A, openPage, requestToken, S, sandbox, tokenError, useWorldlineSandbox, worldline } from './harness.ts'

useWorldlineSandbox()

describe('fault injection', () => {
  test('failNext fails token, AIS and directory calls with the error body; pages and controls are spared', async () => {
    // Prepare
    const created = await worldline.createOk()
    const faults = await worldline.control('faults', { failNext: 3 })

    // Act
    const page = await openPage(created.Links.RedirectUrl.Href)
    const token = await requestToken(sandbox.url)
    const requestId = randomUUID()
    const status = await worldline.call('GET', `${A}/psus/psu-1/consents/${created.ConsentId}/status`, {
      headers: { 'x-request-id': requestId },
    })
    const listed = await worldline.call('GET', `${S}/directory/v3/aspsps`, { headers: { service: 'AIS' } })
    const recovered = await worldline.status(created.ConsentId)

    // Assess
    expect(faults.body).toMatchObject({ failNext: 3, status: 500, code: 'internal_server_error' })
    expect(page.status).toBe(200)
    expect(token.status).toBe(500)
    expect(token.body).toEqual(tokenError('internal_server_error'))
    expect(status.status).toBe(500)
    expect(status.body).toEqual({ Code: 'internal_server_error', Message: expect.any(String) })
    expect(status.headers.get('x-request-id')).toBe(requestId)
    expect(listed.status).toBe(500)
    expect(recovered.status).toBe(200)
    expect(recovered.body.ConsentStatus).toBe('Pending')
  })

  test('a failed create creates nothing; custom status and code; delayMs delays the answer', async () => {
    await worldline.control('faults', { failNext: 1, status: 503, code: 'SERVICE_UNAVAILABLE', delayMs: 150 })

    const started = Date.now()
    const failed = await worldline.create()
    const elapsed = Date.now() - started
    const listed = await worldline.control('consents', undefined, 'GET')

    expect(failed.status).toBe(503)
    expect(failed.body.Code).toBe('SERVICE_UNAVAILABLE')
    expect(elapsed).toBeGreaterThanOrEqual(140)
    expect(listed.body.consents).toEqual([])
    await worldline.control('faults', { delayMs: 0 })
    expect((await worldline.create()).status).toBe(201)
  })
})

describe('sandbox controls', () => {
  test('a forced status must be PascalCase and the consent must exist', async () => {
    const created = await worldline.createOk()

    const invalid = await worldline.control(`consents/${created.ConsentId}/status`, { status: 'revoked' })
    const missing = await worldline.control(`consents/${randomUUID()}/status`, { status: 'Revoked' })
    const forced = await worldline.control(`consents/${created.ConsentId}/status`, { status: 'PartiallyAuthorised' })
    const started = await worldline.startAuthorisation(created.ConsentId)

    expect(invalid.status).toBe(400)
    expect(missing.status).toBe(404)
    expect(forced.body.consent).toMatchObject({ status: 'PartiallyAuthorised', holdersRequired: 2, holdersDone: 1 })
    expect(started.status).toBe(201)
  })

  test('GET /__sandbox/consents lists every consent; reset forgets them, the toggle and the clock offset', async () => {
    const created = await worldline.createOk()
    await worldline.control('bank-delete-fails', { enabled: true })
    await worldline.advanceSeconds(600)

    const listed = await worldline.control('consents', undefined, 'GET')
    await worldline.control('reset')

    expect(listed.body.consents.map((consent: { consentId: string }) => consent.consentId)).toEqual([created.ConsentId])
    expect(listed.body.consents[0]).toMatchObject({ status: 'Open', polled: true, bankExpired: false })
    expect(sandbox.clock.offsetMs).toBe(0)
    expect((await worldline.control('bank-delete-fails', undefined, 'GET')).body).toEqual({ enabled: false })
    expect((await worldline.status(created.ConsentId)).status).toBe(404)
  })

  test('the handle resets like the control does', async () => {
    const created = await worldline.createOk()

    sandbox.reset()

    expect((await worldline.status(created.ConsentId)).status).toBe(404)
  })
})
