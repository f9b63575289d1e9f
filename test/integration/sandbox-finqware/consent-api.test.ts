// The Finqware sandbox's consent API over real HTTP: create, get and revoke, their validation and error bodies, and
// when a consent can be revoked.
import { describe, expect, test } from 'vitest'
import {
  AUTH,
  DAY_MS,
  decideAtBank,
  expectErrorBody,
  finqware,
  OTHER_AUTH,
  receiver,
  sandbox,
  statusesAt,
  useFinqwareSandbox,
  UUID,
} from './harness.ts'

useFinqwareSandbox()

describe('consent API: create, get, revoke', () => {
  test('create answers the documented fields, a UUID consent_id and a web_url; x-request-id is echoed', async () => {
    // Act
    const created = await finqware.api(
      '/v2/ais/consents/create',
      { ...AUTH, ais_method: { provider_id: 'rzb_ro' }, consent: {}, options: { type: 'link' } },
      { headers: { 'x-request-id': 'req-create-1' } },
    )

    // Assess
    expect(created.status).toBe(200)
    expect(created.headers.get('x-request-id')).toBe('req-create-1')
    expect(Object.keys(created.body).sort()).toEqual([
      'api_client_app',
      'consent_id',
      'consent_validity_days',
      'created_at',
      'expires_at',
      'request_id',
      'web_id',
      'web_url',
    ])
    expect(created.body.request_id).toBe('req-create-1')
    expect(created.body.consent_id).toMatch(UUID)
    expect(created.body.web_url).toBe(`${sandbox.url}/link/${created.body.web_id}`)
    expect(created.body.api_client_app).toBe('sandbox-client')
    expect(created.body.consent_validity_days).toBe(90)
    // expires_in defaults to one day (seconds are the unit the sandbox assumes).
    expect(Date.parse(created.body.expires_at) - Date.parse(created.body.created_at)).toBe(DAY_MS)
  })

  test('get answers a new consent as created, with the full scope and no authorisation yet', async () => {
    const { consent_id: consentId, web_url: webUrl } = await finqware.createOk({ ais_method: { provider_id: 'bt_ro' } })

    const got = await finqware.get(consentId)

    expect(got.status).toBe(200)
    expect(got.body).toMatchObject({
      consent_id: consentId,
      status: 'created',
      authorized_until: null,
      consent_validity_days: 90,
      api_client_app: 'sandbox-client',
      web_url: webUrl,
      scope: ['accounts', 'balances', 'transactions'],
      service_provider: { provider_id: 'bt_ro', name: 'Banca Transilvania', country: 'RO' },
      ais_method: { type: 'link', provider_id: 'bt_ro' },
    })
    expect(got.body).not.toHaveProperty('accounts')
    expect(got.body).not.toHaveProperty('latest_completed_job')
    expect(got.body.request_id).toMatch(UUID)
    expect(got.headers.get('x-request-id')).toBe(got.body.request_id)
  })

  test('every endpoint is also served under the /test prefix', async () => {
    const created = await finqware.api('/test/ais/consents/create', { ...AUTH, consent: {} })
    expect(created.status).toBe(200)

    const got = await finqware.api('/test/ais/consents/get', { ...AUTH, consent_id: created.body.consent_id })
    const revoked = await finqware.api('/test/ais/consents/revoke', { ...AUTH, consent_id: created.body.consent_id })

    expect(got.body.status).toBe('created')
    expect(revoked.status).toBe(200)
    expect((await finqware.get(created.body.consent_id)).body.status).toBe('revoked')
  })

  test('revoke turns a created consent into revoked, and revoking again answers the same 200', async () => {
    const hook = receiver.newEndpoint()
    const { consent_id: consentId } = await finqware.createOk({ options: { webhook_url: hook } })

    const first = await finqware.revoke(consentId)
    const second = await finqware.revoke(consentId)

    for (const answer of [first, second]) {
      expect(answer.status).toBe(200)
      expect(Object.keys(answer.body).sort()).toEqual(['api_client_app', 'consent_id', 'request_id', 'status'])
      expect(answer.body).toMatchObject({ consent_id: consentId, status: 'revoked', api_client_app: 'sandbox-client' })
    }
    expect(await finqware.statusOf(consentId)).toBe('revoked')
    await finqware.flush()
    // The repeat revoke is not a change, so it sends no second webhook.
    expect(statusesAt(hook)).toEqual(['revoked'])
  })

  test('providers/list answers the three sandbox banks', async () => {
    const listed = await finqware.api('/v2/providers/list', AUTH)

    expect(listed.status).toBe(200)
    expect(listed.body.providers.map((provider: { provider_id: string }) => provider.provider_id)).toEqual([
      'rzb_ro',
      'bt_ro',
      'cec_ro',
    ])
    expect(listed.body.providers[0]).toMatchObject({ name: 'Raiffeisen Bank Romania', country: 'RO' })
  })
})

describe('consent API: validation and errors', () => {
  test.each([
    [['accounts']],
    [['transactions']],
    [['balances']],
    [['accounts', 'transactions']],
    [['accounts', 'balances', 'balances']],
    [['accounts', 'balances', 'transactions', 'payments']],
    [[]],
  ])('scope %j is refused with 400 validation_error', async (scope) => {
    const created = await finqware.api(
      '/v2/ais/consents/create',
      { ...AUTH, consent: { scope } },
      { headers: { 'x-request-id': 'req-scope' } },
    )

    expectErrorBody(created, 400, 'validation_error', 'req-scope')
  })

  test.each([
    [undefined, ['accounts', 'balances', 'transactions']],
    [
      ['transactions', 'balances', 'accounts'],
      ['accounts', 'balances', 'transactions'],
    ],
    [
      ['balances', 'accounts'],
      ['accounts', 'balances'],
    ],
  ])('scope %j is accepted and stored as %j', async (scope, stored) => {
    const { consent_id: consentId } = await finqware.createOk({ consent: scope ? { scope } : {} })

    expect((await finqware.get(consentId)).body.scope).toEqual(stored)
  })

  test.each([0, 181, 1.5, '90', -1])('consent_validity_days %j is refused with 400 validation_error', async (days) => {
    expectErrorBody(await finqware.create({ consent: { consent_validity_days: days } }), 400, 'validation_error')
  })

  test.each([1, 180])('consent_validity_days %j is accepted', async (days) => {
    const created = await finqware.create({ consent: { consent_validity_days: days } })

    expect(created.status).toBe(200)
    expect(created.body.consent_validity_days).toBe(days)
  })

  test.each([0, -60, 45 * 24 * 3600 + 1, 10.5])(
    'options.expires_in %j is refused with 400 validation_error',
    async (expiresIn) => {
      expectErrorBody(await finqware.create({ options: { expires_in: expiresIn } }), 400, 'validation_error')
    },
  )

  test('options.expires_in is in seconds, up to 45 days', async () => {
    const short = await finqware.create({ options: { expires_in: 90 } })
    const longest = await finqware.create({ options: { expires_in: 45 * 24 * 3600 } })

    expect(Date.parse(short.body.expires_at) - Date.parse(short.body.created_at)).toBe(90_000)
    expect(Date.parse(longest.body.expires_at) - Date.parse(longest.body.created_at)).toBe(45 * DAY_MS)
  })

  test('an unknown provider is refused with 400 method_selection_error', async () => {
    expectErrorBody(await finqware.create({ ais_method: { provider_id: 'ing_nl' } }), 400, 'method_selection_error')
  })

  test('wrapped_sca and direct_sca need a provider; direct_sca also needs a redirect_url', async () => {
    const wrapped = await finqware.create({ options: { type: 'wrapped_sca' } })
    const direct = await finqware.create({ ais_method: { provider_id: 'cec_ro' }, options: { type: 'direct_sca' } })

    expectErrorBody(wrapped, 400, 'method_selection_error')
    expectErrorBody(direct, 400, 'validation_error')
  })

  test('a missing consent object, a bad flow type and a non-http webhook_url are validation errors', async () => {
    const noConsent = await finqware.api('/v2/ais/consents/create', { ...AUTH })
    const badType = await finqware.create({ options: { type: 'redirect_sca' } })
    const badWebhook = await finqware.create({ options: { webhook_url: 'ftp://example.test/hook' } })

    expectErrorBody(noConsent, 400, 'validation_error')
    expectErrorBody(badType, 400, 'validation_error')
    expectErrorBody(badWebhook, 400, 'validation_error')
  })

  test('malformed JSON and a non-object body are 400 bad_request, and the server keeps serving', async () => {
    const malformed = await finqware.api('/v2/ais/consents/create', undefined, {
      raw: '{"client_id": "sandbox-client",',
      headers: { 'x-request-id': 'req-malformed' },
    })
    const array = await finqware.api('/v2/ais/consents/get', [AUTH])
    const empty = await finqware.api('/v2/ais/consents/get', undefined, { raw: '' })

    expectErrorBody(malformed, 400, 'bad_request', 'req-malformed')
    expectErrorBody(array, 400, 'bad_request')
    expectErrorBody(empty, 400, 'bad_request')
    expect((await finqware.create()).status).toBe(200)
  })

  test('missing credentials and a wrong secret are 401 unauthorized', async () => {
    const missing = await finqware.api('/v2/ais/consents/create', { consent: {} })
    const noSecret = await finqware.api('/v2/ais/consents/create', { client_id: AUTH.client_id, consent: {} })
    const wrongSecret = await finqware.api('/v2/ais/consents/create', { ...AUTH, client_secret: 'nope', consent: {} })
    const bearerOnly = await finqware.api(
      '/v2/ais/consents/get',
      { client_id: AUTH.client_id, consent_id: 'x' },
      { headers: { authorization: 'Bearer token' } },
    )

    for (const answer of [missing, noSecret, wrongSecret, bearerOnly]) expectErrorBody(answer, 401, 'unauthorized')
  })

  test("an unknown consent id, and another client's consent, are 404 consent_not_found", async () => {
    const { consent_id: consentId } = await finqware.createOk()

    const unknown = await finqware.get('6f1c1c8e-0000-4000-8000-000000000000')
    const otherClient = await finqware.get(consentId, OTHER_AUTH)
    const revokeUnknown = await finqware.revoke('no-such-consent')
    const missingId = await finqware.api('/v2/ais/consents/get', AUTH)

    expectErrorBody(unknown, 404, 'consent_not_found')
    expectErrorBody(otherClient, 404, 'consent_not_found')
    expectErrorBody(revokeUnknown, 404, 'consent_not_found')
    expectErrorBody(missingId, 400, 'validation_error')
  })

  test('a body over 1 MB is refused with 413 and the error body', async () => {
    const huge = JSON.stringify({ ...AUTH, consent: {}, padding: 'x'.repeat(1024 * 1024) })

    expectErrorBody(await finqware.api('/v2/ais/consents/create', undefined, { raw: huge }), 413, 'bad_request')
  })

  test('an unknown path is 404 not_found with the error body', async () => {
    expectErrorBody(await finqware.api('/v2/ais/consents/delete', AUTH), 404, 'not_found')
  })
})

describe('revoke rules', () => {
  test.each(['expired', 'failed', 'suspended', 'deactivated'])(
    'a %s consent cannot be revoked: 400 consent_not_active, status unchanged',
    async (status) => {
      const { consent_id: consentId } = await finqware.createOk()
      expect((await finqware.forceStatus(consentId, status)).status).toBe(200)

      expectErrorBody(await finqware.revoke(consentId), 400, 'consent_not_active')
      expect(await finqware.statusOf(consentId)).toBe(status)
    },
  )

  test.each(['started', 'requested', 'sca_url_retrieved', 'awaiting_authz', 'authorized', 'active'])(
    'a %s consent is revoked',
    async (status) => {
      const { consent_id: consentId } = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' } })
      await finqware.forceStatus(consentId, status)

      expect((await finqware.revoke(consentId)).status).toBe(200)
      expect(await finqware.statusOf(consentId)).toBe('revoked')
    },
  )

  test('revoking an active consent (after a real approval) sends the revoked webhook', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' }, options: { webhook_url: hook } })
    await decideAtBank(created.web_url, 'approve')
    await finqware.waitForStatus(created.consent_id, 'active')

    expect((await finqware.revoke(created.consent_id)).status).toBe(200)
    await finqware.flush()
    expect(statusesAt(hook)).toContain('revoked')
  })
})
