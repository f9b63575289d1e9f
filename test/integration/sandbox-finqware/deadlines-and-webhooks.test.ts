// What the Finqware sandbox tells on its own: deadlines passing on the sandbox clock, and the webhooks of every status
// change.
import { compactVerify, createLocalJWKSet } from 'jose'
import { describe, expect, test } from 'vitest'
import { freePort } from '../../../local/dynamodb-local.ts'
import {
  clickButton,
  decideAtBank,
  type Delivery,
  expectErrorBody,
  finqware,
  openPage,
  receiver,
  sandbox,
  statusesAt,
  useFinqwareSandbox,
} from './harness.ts'

useFinqwareSandbox()

describe('deadlines on the sandbox clock', () => {
  test('link expiry: passing expires_at expires the consent, queues the webhook, and the page is 410', async () => {
    // Prepare
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({
      ais_method: { provider_id: 'rzb_ro' },
      options: { webhook_url: hook, expires_in: 60 },
    })
    const page = await openPage(created.web_url)

    // Act
    const clock = await finqware.advanceSeconds(61)
    // Read the log without flushing: the expiry webhook must already be queued when the clock control answers.
    const log = await finqware.control('webhooks', undefined, 'GET')

    // Assess
    expect(clock.status).toBe(200)
    expect(Date.parse(clock.body.now)).toBeGreaterThanOrEqual(Date.now() + 60_000)
    expect(log.body.deliveries.map((delivery: Delivery) => JSON.parse(delivery.body).status)).toContain('expired')
    expect(await finqware.statusOf(created.consent_id)).toBe('expired')
    const reopened = await openPage(created.web_url)
    expect(reopened.status).toBe(410)
    expect(reopened.html).toMatch(/expired/i)
    expect((await clickButton(page.form, 'decision', 'approve')).status).toBe(410)
    expectErrorBody(await finqware.revoke(created.consent_id), 400, 'consent_not_active')
    await finqware.flush()
    expect(statusesAt(hook)).toContain('expired')
  })

  test('moving the clock through the sandbox handle expires a link nobody opened', async () => {
    const created = await finqware.createOk({ options: { expires_in: 30 } })

    sandbox.clock.advance(31_000)

    expect(await finqware.statusOf(created.consent_id)).toBe('expired')
  })

  test('validity end: authorized_until passing revokes an active consent (expires_at no longer matters)', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({
      ais_method: { provider_id: 'bt_ro' },
      consent: { consent_validity_days: 1 },
      options: { webhook_url: hook, expires_in: 60 },
    })
    await decideAtBank(created.web_url, 'approve')
    await finqware.waitForStatus(created.consent_id, 'active')

    await finqware.advanceSeconds(3600)
    const afterLinkExpiry = await finqware.statusOf(created.consent_id)
    await finqware.advanceSeconds(24 * 3600)

    expect(afterLinkExpiry).toBe('active')
    expect(await finqware.statusOf(created.consent_id)).toBe('revoked')
    await finqware.flush()
    expect(statusesAt(hook)).toContain('revoked')
    expect((await finqware.revoke(created.consent_id)).status).toBe(200)
  })
})

describe('webhooks', () => {
  test('each webhook is the raw JSON body signed as a compact JWS that verifies against the served JWKS', async () => {
    // Prepare
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' }, options: { webhook_url: hook } })
    await openPage(created.web_url)
    await finqware.flush()
    const jwks = createLocalJWKSet(await finqware.jwks())

    // Act + Assess
    const received = receiver.at(hook)
    expect(received).toHaveLength(3)
    for (const webhook of received) {
      expect(webhook.headers['content-type']).toBe('application/json')
      expect(JSON.parse(webhook.text)).toEqual({
        type: 'consent_status_update',
        consent_id: created.consent_id,
        status: expect.any(String),
      })
      const signature = String(webhook.headers['x-signature'])
      const { payload, protectedHeader } = await compactVerify(signature, jwks)
      expect(new TextDecoder().decode(payload)).toBe(webhook.text)
      expect(protectedHeader.kid).toBe(webhook.headers['x-signature-kid'])
      expect(protectedHeader.alg).toBe('ES256')
    }
  })

  test('the JWKS always lists two keys; rotation drops the oldest, and new webhooks use the new kid', async () => {
    // Prepare
    const before = await finqware.jwks()
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ options: { webhook_url: hook } })
    await finqware.revoke(created.consent_id)
    await finqware.flush()
    const [signedBefore] = receiver.at(hook)

    // Act
    const rotated = await finqware.control('keys/rotate')
    const after = await finqware.jwks()
    const second = await finqware.createOk({ options: { webhook_url: hook } })
    await finqware.revoke(second.consent_id)
    await finqware.flush()
    const signedAfter = receiver.at(hook)[1]

    // Assess: ES256 current + RS256 previous, then a new RS256 current + the old ES256 as previous.
    expect(before.keys.map((key) => [key.alg, key.use, key.kty])).toEqual([
      ['ES256', 'sig', 'EC'],
      ['RS256', 'sig', 'RSA'],
    ])
    expect(after.keys).toHaveLength(2)
    expect(after.keys.map((key) => key.alg)).toEqual(['RS256', 'ES256'])
    expect(after.keys[1]?.kid).toBe(before.keys[0]?.kid)
    expect(after.keys.map((key) => key.kid)).not.toContain(before.keys[1]?.kid)
    expect(rotated.body.currentKid).toBe(after.keys[0]?.kid)
    expect(signedBefore?.headers['x-signature-kid']).toBe(before.keys[0]?.kid)
    expect(signedAfter?.headers['x-signature-kid']).toBe(after.keys[0]?.kid)
    // Both the earlier webhook (previous key) and the new one (RS256) verify against the rotated JWKS.
    const jwks = createLocalJWKSet(after)
    for (const webhook of [signedBefore, signedAfter]) {
      const { payload } = await compactVerify(String(webhook?.headers['x-signature']), jwks)
      expect(new TextDecoder().decode(payload)).toBe(webhook?.text)
    }
  })

  test('drop: the next delivery is logged as dropped and never arrives', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' }, options: { webhook_url: hook } })

    await finqware.control('webhooks', { drop: 1 })
    await openPage(created.web_url)
    const deliveries = await finqware.flush()

    expect(deliveries.map((delivery) => [JSON.parse(delivery.body).status, delivery.state])).toEqual([
      ['started', 'dropped'],
      ['sca_url_retrieved', 'delivered'],
      ['awaiting_authz', 'delivered'],
    ])
    expect(statusesAt(hook).sort()).toEqual(['awaiting_authz', 'sca_url_retrieved'])
  })

  test('duplicate: the next delivery arrives twice, with the same body and signature', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ options: { webhook_url: hook } })

    await finqware.control('webhooks', { duplicate: 1 })
    await finqware.revoke(created.consent_id)
    const deliveries = await finqware.flush()

    expect(deliveries.map((delivery) => [delivery.state, delivery.duplicate])).toEqual([
      ['delivered', false],
      ['delivered', true],
    ])
    const received = receiver.at(hook)
    expect(received).toHaveLength(2)
    expect(received[0]?.text).toBe(received[1]?.text)
  })

  test('a receiver answering 500 is retried until it accepts', async () => {
    const hook = receiver.newEndpoint({ failFirst: 2 })
    const created = await finqware.createOk({ options: { webhook_url: hook } })

    await finqware.revoke(created.consent_id)
    const deliveries = await finqware.flush()

    expect(deliveries).toHaveLength(1)
    expect(deliveries[0]).toMatchObject({ url: hook, attempts: 3, lastStatus: 204, state: 'delivered' })
    expect(statusesAt(hook)).toEqual(['revoked'])
  })

  test('a receiver that keeps failing gets the configured number of attempts, then the delivery fails', async () => {
    const hook = receiver.newEndpoint({ failFirst: 100 })
    const created = await finqware.createOk({ options: { webhook_url: hook } })

    await finqware.revoke(created.consent_id)
    const deliveries = await finqware.flush()

    expect(deliveries[0]).toMatchObject({ attempts: 6, lastStatus: 500, state: 'failed' })
    expect(receiver.at(hook)).toHaveLength(0)
  })

  test('an unreachable receiver is retried as a network error and then fails', async () => {
    // A port nobody listens on (free a moment ago)
    const deadUrl = `http://127.0.0.1:${await freePort()}/hook`
    const created = await finqware.createOk({ options: { webhook_url: deadUrl } })

    await finqware.revoke(created.consent_id)
    const deliveries = await finqware.flush()

    expect(deliveries[0]).toMatchObject({ attempts: 6, lastStatus: null, state: 'failed' })
  })

  test('a consent without webhook_url sends nothing', async () => {
    const created = await finqware.createOk()

    await finqware.revoke(created.consent_id)

    expect(await finqware.flush()).toEqual([])
  })
})
