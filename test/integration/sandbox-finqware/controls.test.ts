// The Finqware sandbox's test controls and start options: injected faults, forced statuses, key rotation, reset.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startFinqwareSandbox, type FinqwareSandbox } from '../../../sandbox/finqware/server.ts'
import {
  decideAtBank,
  expectErrorBody,
  finqware,
  openPage,
  receiver,
  sandbox,
  SandboxClient,
  statusesAt,
  useFinqwareSandbox,
} from './harness.ts'

useFinqwareSandbox()

describe('fault injection', () => {
  test('failNext answers the error body, changes nothing, and spares the JWKS and the pages', async () => {
    // Prepare
    const created = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' } })
    const faults = await finqware.control('faults', { failNext: 2 })

    // Act
    const jwks = await fetch(`${sandbox.url}/.well-known/jwks.json`)
    const page = await openPage(created.web_url)
    const failedRevoke = await finqware.revoke(created.consent_id)
    const failedGet = await finqware.get(created.consent_id)
    const recovered = await finqware.get(created.consent_id)

    // Assess
    expect(faults.body).toMatchObject({ failNext: 2, status: 500, code: 'internal_server_error' })
    expect(jwks.status).toBe(200)
    expect(page.status).toBe(200)
    expectErrorBody(failedRevoke, 500, 'internal_server_error')
    expectErrorBody(failedGet, 500, 'internal_server_error')
    expect(recovered.status).toBe(200)
    expect(recovered.body.status).toBe('awaiting_authz')
  })

  test('failNext takes a custom status and code, and delayMs is accepted and reported', async () => {
    await finqware.control('faults', { failNext: 1, status: 503, code: 'service_unavailable', delayMs: 5 })

    const failed = await finqware.create()
    const settings = await finqware.control('faults', undefined, 'GET')

    expectErrorBody(failed, 503, 'service_unavailable')
    expect(settings.body).toEqual({ failNext: 0, status: 503, code: 'service_unavailable', delayMs: 5 })
    expect((await finqware.create()).status).toBe(200)
  })
})

describe('sandbox controls', () => {
  test('the clock can be read, set and advanced; bad requests are 400', async () => {
    const read = await finqware.control('clock', undefined, 'GET')
    const set = await finqware.control('clock', { set: '2031-05-01T12:00:00.000Z' })
    const advanced = await finqware.advanceSeconds(3600)
    const bad = await finqware.control('clock', { advanceSeconds: 'soon' })
    const both = await finqware.control('clock', { advanceSeconds: 1, set: '2031-05-01T12:00:00.000Z' })

    expect(Math.abs(Date.parse(read.body.now) - Date.now())).toBeLessThan(60_000)
    expect(Date.parse(set.body.now)).toBeGreaterThanOrEqual(Date.parse('2031-05-01T12:00:00.000Z'))
    expect(Date.parse(advanced.body.now)).toBeGreaterThanOrEqual(Date.parse('2031-05-01T13:00:00.000Z'))
    expect(bad.status).toBe(400)
    expect(both.status).toBe(400)
  })

  test('a forced status is reported by get and by a webhook, unknown statuses included', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ options: { webhook_url: hook } })

    const suspended = await finqware.forceStatus(created.consent_id, 'suspended')
    const unknown = await finqware.forceStatus(created.consent_id, 'on_hold')
    const missing = await finqware.forceStatus('no-such-consent', 'suspended')
    const invalid = await finqware.forceStatus(created.consent_id, 'Not A Status')

    expect(suspended.status).toBe(200)
    expect(unknown.status).toBe(200)
    expect(missing.status).toBe(404)
    expect(invalid.status).toBe(400)
    expect(await finqware.statusOf(created.consent_id)).toBe('on_hold')
    await finqware.flush()
    expect(statusesAt(hook).sort()).toEqual(['on_hold', 'suspended'])
  })

  test('GET /__sandbox/consents lists every consent; reset forgets them and the clock offset', async () => {
    const created = await finqware.createOk()
    await finqware.advanceSeconds(600)

    const listed = await finqware.control('consents', undefined, 'GET')
    const reset = await finqware.control('reset')

    const listedIds = listed.body.consents.map((consent: { consentId: string }) => consent.consentId)
    expect(listedIds).toEqual([created.consent_id])
    expect(Math.abs(Date.parse(reset.body.now) - Date.now())).toBeLessThan(60_000)
    expect(sandbox.clock.offsetMs).toBe(0)
    expectErrorBody(await finqware.get(created.consent_id), 404, 'consent_not_found')
  })
})

describe('options', () => {
  let slow: FinqwareSandbox
  let slowClient: SandboxClient

  beforeAll(async () => {
    slow = await startFinqwareSandbox({
      authMode: 'internal',
      activationDelayMs: 3_600_000,
      validityEndStatus: 'deactivated',
    })
    slowClient = new SandboxClient(slow.url)
  })

  afterAll(async () => {
    await slow?.close()
  })

  test('activation waits activationDelayMs on the sandbox clock; validity end gives deactivated', async () => {
    const hook = receiver.newEndpoint()
    const created = await slowClient.createOk({
      ais_method: { provider_id: 'rzb_ro' },
      consent: { consent_validity_days: 2 },
      options: { webhook_url: hook },
    })
    await decideAtBank(created.web_url, 'approve')

    const authorized = (await slowClient.get(created.consent_id)).body
    await slowClient.advanceSeconds(3600)
    const active = (await slowClient.get(created.consent_id)).body
    await slowClient.advanceSeconds(2 * 24 * 3600)
    const ended = await slowClient.statusOf(created.consent_id)

    expect(authorized.status).toBe('authorized')
    expect(authorized.authorized_until).not.toBeNull()
    expect(authorized).not.toHaveProperty('accounts')
    expect(active.status).toBe('active')
    expect(active.authorized_until).toBe(authorized.authorized_until)
    expect(ended).toBe('deactivated')
    const deliveries = await slowClient.flush()
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).status).slice(-3)).toEqual([
      'authorized',
      'active',
      'deactivated',
    ])
    expect(statusesAt(hook)).toHaveLength(6)
  })
})
