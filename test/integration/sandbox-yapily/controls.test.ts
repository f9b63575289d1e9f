// The Yapily sandbox's test controls: injected faults, forced statuses, revocation at the bank, reset.
import { randomUUID } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { authorisedConsent, NOON, openPage, receiver, sandbox, useYapilySandbox, yapily } from './harness.ts'

useYapilySandbox()

describe('fault injection', () => {
  test('failNext fails API calls in their envelope; pages and controls are spared', async () => {
    const created = await yapily.createOk()
    const { id } = await authorisedConsent()
    await yapily.control('faults', { failNext: 2 })

    const page = await openPage(created.authorisationUrl as string)
    const legacy = await yapily.get(created.id as string)
    const issues = await yapily.extend(id, { lastConfirmedAt: NOON })
    const recovered = await yapily.get(created.id as string)

    expect(page.status).toBe(200)
    expect(legacy.status).toBe(500)
    expect(legacy.body.error).toMatchObject({ code: 500, status: 'INTERNAL_SERVER_ERROR', source: 'YAPILY' })
    expect(legacy.body.error.message).toContain('injected')
    expect(issues.status).toBe(500)
    expect(issues.body.error.issues[0].message).toContain('injected')
    expect(recovered.status).toBe(200)
  })

  test('a failed create creates nothing; a custom status; delayMs delays the answer', async () => {
    await yapily.control('faults', { failNext: 1, status: 503, delayMs: 150 })

    const started = Date.now()
    const failed = await yapily.create()
    const elapsed = Date.now() - started
    const listed = await yapily.control('consents', undefined, 'GET')

    expect(failed.status).toBe(503)
    expect(failed.body.error.status).toBe('SERVICE_UNAVAILABLE')
    expect(elapsed).toBeGreaterThanOrEqual(140)
    expect(listed.body.consents).toEqual([])
    await yapily.control('faults', { delayMs: 0 })
    expect((await yapily.create()).status).toBe(201)
  })
})

describe('sandbox controls', () => {
  test('a forced status must be an AuthorisationStatus, is notified even when unchanged, and needs a known consent', async () => {
    const url = receiver.newEndpoint()
    await yapily.registerWebhook({ callbackUrl: { main: { url } } })
    const created = await yapily.createOk()

    const invalid = await yapily.control(`consents/${created.id}/status`, { status: 'ACTIVE' })
    const missing = await yapily.control(`consents/${randomUUID()}/status`, { status: 'REVOKED' })
    const forced = await yapily.control(`consents/${created.id}/status`, { status: 'AUTHORIZED' })
    const again = await yapily.control(`consents/${created.id}/status`, { status: 'AUTHORIZED' })
    await yapily.flush()

    expect(invalid.status).toBe(400)
    expect(missing.status).toBe(404)
    expect(forced.body.consent).toMatchObject({ status: 'AUTHORIZED', consentToken: expect.any(String) })
    expect(again.status).toBe(200)
    expect(receiver.at(url).map((delivery) => delivery.body.event.status)).toEqual(['AUTHORIZED', 'AUTHORIZED'])
    expect((await yapily.accounts(forced.body.consent.consentToken as string)).status).toBe(200)
  })

  test('revoke-at-bank needs a consent that was authorised; an unknown one is 404', async () => {
    const created = await yapily.createOk()

    expect((await yapily.control(`consents/${created.id}/revoke-at-bank`)).status).toBe(400)
    expect((await yapily.control(`consents/${randomUUID()}/revoke-at-bank`)).status).toBe(404)
  })

  test('reset forgets consents, users, webhooks, the bank toggle and the clock offset', async () => {
    const created = await yapily.createOk({ applicationUserId: 'forgotten' })
    await yapily.registerWebhook({ callbackUrl: { main: { url: receiver.newEndpoint() } } })
    await yapily.control('bank-delete-fails', { enabled: true })
    await yapily.advanceDays(1)

    const listed = await yapily.control('consents', undefined, 'GET')
    await yapily.control('reset')
    const recreated = await yapily.createOk({ applicationUserId: 'forgotten' })

    expect(listed.body.consents.map((consent: any) => consent.id)).toEqual([created.id])
    expect(sandbox.clock.offsetMs).toBe(0)
    expect((await yapily.control('bank-delete-fails', undefined, 'GET')).body).toEqual({ enabled: false })
    expect((await yapily.get(created.id as string)).status).toBe(404)
    expect((await yapily.call('GET', '/webhook/events')).body.data.active).toEqual([])
    expect(recreated.userUuid).not.toBe(created.userUuid)
  })

  test('the handle resets like the control does', async () => {
    const created = await yapily.createOk()

    sandbox.reset()

    expect((await yapily.get(created.id as string)).status).toBe(404)
  })
})
