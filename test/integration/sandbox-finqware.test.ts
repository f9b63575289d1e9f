// The Finqware sandbox over real HTTP: API rules, the hosted bank page flow, deadlines, signed webhooks, controls.
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { startFinqwareSandbox, type FinqwareSandbox } from '../../sandbox/finqware/server.ts'
import { RecordingReceiver } from '../support/webhook-receiver.ts'

// Fixtures ------------------------------------------------------------------------------------------------------------

const AUTH = { client_id: 'sandbox-client', client_secret: 'sandbox-secret' }
const OTHER_AUTH = { client_id: 'other-client', client_secret: 'other-secret' }
const DAY_MS = 24 * 3600 * 1000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The Finqware statuses of the webhooks received at `hook`, in arrival order. */
const statusesAt = (hook: string): string[] =>
  receiver.at(hook).map((webhook) => (webhook.body as { status: string }).status)

interface ApiResult {
  status: number

  body: any
  headers: Headers
}

interface Delivery {
  url: string
  body: string
  attempts: number
  lastStatus: number | null
  state: string
  duplicate: boolean
}

/** Talks to one sandbox the way a client does: JSON POSTs, control calls, and the bank page as a browser would. */
class SandboxClient {
  constructor(readonly baseUrl: string) {}

  async api(
    path: string,
    body: unknown,
    init: { headers?: Record<string, string>; raw?: string } = {},
  ): Promise<ApiResult> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.raw ?? JSON.stringify(body),
    })
    const text = await response.text()
    const parsed = text ? JSON.parse(text) : undefined
    return { status: response.status, body: parsed, headers: response.headers }
  }

  async control(path: string, body?: unknown, method = 'POST') {
    const response = await fetch(`${this.baseUrl}/__sandbox/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(method === 'POST' && { body: JSON.stringify(body ?? {}) }),
    })
    return { status: response.status, body: await response.json() } as ApiResult
  }

  create(request: { ais_method?: unknown; consent?: unknown; options?: unknown } = {}) {
    return this.api('/v2/ais/consents/create', { ...AUTH, consent: {}, ...request })
  }

  /** Creates a consent that must succeed, returning the create response body. */
  async createOk(request: { ais_method?: unknown; consent?: unknown; options?: unknown } = {}) {
    const created = await this.create(request)
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    return created.body as { consent_id: string; web_url: string; web_id: string; sca_url?: string }
  }

  get(consentId: string, auth = AUTH) {
    return this.api('/v2/ais/consents/get', { ...auth, consent_id: consentId })
  }

  revoke(consentId: string) {
    return this.api('/v2/ais/consents/revoke', { ...AUTH, consent_id: consentId })
  }

  async statusOf(consentId: string): Promise<string> {
    return (await this.get(consentId)).body.status as string
  }

  /** Polls get until the consent reaches `status` (activation and redirect processing run on real-time timers). */
  async waitForStatus(consentId: string, status: string): Promise<void> {
    await expect.poll(() => this.statusOf(consentId), { timeout: 5_000, interval: 10 }).toBe(status)
  }

  /** Waits until the dispatcher is idle and returns its delivery log. */
  async flush(): Promise<Delivery[]> {
    return (await this.control('webhooks/flush')).body.deliveries as Delivery[]
  }

  async advanceSeconds(seconds: number) {
    return this.control('clock', { advanceSeconds: seconds })
  }

  async forceStatus(consentId: string, status: string) {
    return this.control(`consents/${consentId}/status`, { status })
  }

  async jwks(): Promise<JSONWebKeySet> {
    return (await fetch(`${this.baseUrl}/.well-known/jwks.json`)).json() as Promise<JSONWebKeySet>
  }
}

interface PageForm {
  action: URL
  method: string
  fields: Array<[string, string]>
  buttons: Array<{ name: string; value: string }>
}

interface Page {
  status: number
  html: string
  form: PageForm | undefined
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_all, entity: string) => {
    const map: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' }
    return map[entity] ?? ''
  })
}

function attributes(tag: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const match of tag.matchAll(/([a-z-]+)="([^"]*)"/gi)) found[match[1] ?? ''] = decodeEntities(match[2] ?? '')
  return found
}

/** Parses the page's form the way a browser sees it: action, method, hidden/visible inputs, submit buttons. */
function parseForm(html: string, pageUrl: string): PageForm | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html)
  if (!form) return undefined
  const formAttributes = attributes(form[1] ?? '')
  const inner = form[2] ?? ''
  return {
    action: new URL(formAttributes.action ?? '', pageUrl),
    method: (formAttributes.method ?? 'get').toLowerCase(),
    fields: [...inner.matchAll(/<input\b([^>]*)>/gi)].map((input) => {
      const { name = '', value = '' } = attributes(input[1] ?? '')
      return [name, value] as [string, string]
    }),
    buttons: [...inner.matchAll(/<button\b([^>]*)>/gi)].map((button) => {
      const { name = '', value = '' } = attributes(button[1] ?? '')
      return { name, value }
    }),
  }
}

async function openPage(url: string): Promise<Page> {
  const response = await fetch(url)
  const html = await response.text()
  return { status: response.status, html, form: parseForm(html, url) }
}

/** Clicks a submit button: posts the fields plus the button as x-www-form-urlencoded; redirects are not followed. */
async function clickButton(form: PageForm | undefined, name: string, value: string): Promise<Response> {
  if (!form) throw new Error('the page has no form')
  expect(form.buttons).toContainEqual({ name, value })
  return fetch(form.action, {
    method: form.method.toUpperCase(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([...form.fields, [name, value]]).toString(),
    redirect: 'manual',
  })
}

/** Opens the link and takes the bank decision, as a user in a browser would. */
async function decideAtBank(webUrl: string, decision: 'approve' | 'deny'): Promise<Response> {
  const page = await openPage(webUrl)
  expect(page.status).toBe(200)
  return clickButton(page.form, 'decision', decision)
}

function expectErrorBody(result: ApiResult, status: number, code: string, requestId?: string): void {
  expect(result.status).toBe(status)
  expect(Object.keys(result.body as object).sort()).toEqual(['code', 'error_id', 'message', 'request_id'])
  expect(result.body.code).toBe(code)
  expect(result.body.error_id).toMatch(UUID)
  expect(typeof result.body.message).toBe('string')
  if (requestId) expect(result.body.request_id).toBe(requestId)
  expect(result.headers.get('x-request-id')).toBe(result.body.request_id)
}

// Setup ---------------------------------------------------------------------------------------------------------------

const receiver = new RecordingReceiver()
let sandbox: FinqwareSandbox
let finqware: SandboxClient

beforeAll(async () => {
  await receiver.start()
  // Internal mode: these tests send client_id and client_secret in the body (the bearer mode has its own sandbox).
  sandbox = await startFinqwareSandbox({
    authMode: 'internal',
    clients: [
      { clientId: AUTH.client_id, clientSecret: AUTH.client_secret },
      { clientId: OTHER_AUTH.client_id, clientSecret: OTHER_AUTH.client_secret, apiClientApp: 'Other App' },
    ],
    activationDelayMs: 30,
    redirectProcessingMs: 300,
    webhookRetry: { baseDelayMs: 10, maxDelayMs: 40, attemptTimeoutMs: 2_000 },
  })
  finqware = new SandboxClient(sandbox.url)
})

afterAll(async () => {
  await sandbox?.close()
  await receiver.close()
})

beforeEach(async () => {
  await finqware.control('reset')
})

// Tests ---------------------------------------------------------------------------------------------------------------

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

describe('hosted WebUI and bank page', () => {
  test('approve: a form with two decision buttons; 303 back to redirect_url; authorized, then active', async () => {
    // Prepare
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({
      ais_method: { provider_id: 'rzb_ro' },
      options: { webhook_url: hook, redirect_url: 'https://partner.example/return?ref=a%20b#done' },
    })

    // Act
    const page = await openPage(created.web_url)
    const before = Date.now()
    const answer = await clickButton(page.form, 'decision', 'approve')
    const after = Date.now()

    // Assess: the page follows the automation contract.
    expect(page.status).toBe(200)
    expect(page.html).toContain('Raiffeisen Bank Romania')
    expect(page.form?.method).toBe('post')
    expect(page.form?.action.href).toBe(created.web_url)
    expect(page.form?.buttons).toEqual([
      { name: 'decision', value: 'approve' },
      { name: 'decision', value: 'deny' },
    ])
    // Assess: back to the partner, its own query and fragment kept.
    expect(answer.status).toBe(303)
    const location = new URL(answer.headers.get('location') ?? '')
    expect(location.origin + location.pathname).toBe('https://partner.example/return')
    expect(location.searchParams.get('ref')).toBe('a b')
    expect(location.searchParams.get('consent_id')).toBe(created.consent_id)
    expect(location.searchParams.get('status')).toBe('authorized')
    expect(location.hash).toBe('#done')
    // Assess: authorised for consent_validity_days, then the first job makes it active with accounts.
    await finqware.waitForStatus(created.consent_id, 'active')
    const got = (await finqware.get(created.consent_id)).body
    const authorizedUntil = Date.parse(got.authorized_until)
    expect(authorizedUntil).toBeGreaterThanOrEqual(before + 90 * DAY_MS - 1000)
    expect(authorizedUntil).toBeLessThanOrEqual(after + 90 * DAY_MS + 1000)
    expect(got.accounts).toEqual([
      {
        account_id: expect.stringMatching(UUID),
        iban: 'RO03RZBR0000069999999999',
        currency: 'RON',
        name: 'Cont curent',
      },
      {
        account_id: expect.stringMatching(UUID),
        iban: 'RO10RZBR0000069999999970',
        currency: 'RON',
        name: 'Cont economii',
      },
    ])
    expect(got.latest_completed_job).toEqual({
      job_id: expect.stringMatching(UUID),
      status: 'job_completed',
      completed_at: expect.any(String),
    })
    // Assess: one webhook per change, in order (the log keeps enqueue order).
    const deliveries = await finqware.flush()
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).status)).toEqual([
      'started',
      'sca_url_retrieved',
      'awaiting_authz',
      'authorized',
      'active',
    ])
    expect(statusesAt(hook).sort()).toEqual(
      ['active', 'authorized', 'awaiting_authz', 'sca_url_retrieved', 'started'].sort(),
    )
  })

  test('re-opening the page shows it again without repeating transitions', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ ais_method: { provider_id: 'cec_ro' }, options: { webhook_url: hook } })

    const first = await openPage(created.web_url)
    const second = await openPage(created.web_url)

    expect(first.status).toBe(200)
    expect(second.status).toBe(200)
    expect(second.form?.buttons).toHaveLength(2)
    expect(await finqware.statusOf(created.consent_id)).toBe('awaiting_authz')
    await finqware.flush()
    expect(statusesAt(hook)).toHaveLength(3)
  })

  test('deny: failed, and the redirect says so, with error=access_denied as the native bank answers', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({
      ais_method: { provider_id: 'bt_ro' },
      options: { webhook_url: hook, redirect_url: 'http://127.0.0.1:9/back' },
    })

    const answer = await decideAtBank(created.web_url, 'deny')

    expect(answer.status).toBe(303)
    const location = new URL(answer.headers.get('location') ?? '')
    expect(Object.fromEntries(location.searchParams)).toEqual({
      consent_id: created.consent_id,
      status: 'failed',
      error: 'access_denied',
    })
    const got = (await finqware.get(created.consent_id)).body
    expect(got.status).toBe('failed')
    expect(got.authorized_until).toBeNull()
    const deliveries = await finqware.flush()
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).status).at(-1)).toBe('failed')
  })

  test('a link without a provider shows the bank picker first; choosing a bank shows the SCA page', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ options: { webhook_url: hook } })

    const picker = await openPage(created.web_url)
    const statusAtPicker = await finqware.statusOf(created.consent_id)
    const bankPageResponse = await clickButton(picker.form, 'provider_id', 'cec_ro')
    const bankPageHtml = await bankPageResponse.text()
    const bankPageForm = parseForm(bankPageHtml, created.web_url)
    const decided = await clickButton(bankPageForm, 'decision', 'approve')

    expect(picker.status).toBe(200)
    expect(picker.form?.buttons.map((button) => button.value)).toEqual(['rzb_ro', 'bt_ro', 'cec_ro'])
    expect(statusAtPicker).toBe('started')
    expect(bankPageResponse.status).toBe(200)
    expect(bankPageHtml).toContain('CEC Bank')
    // No redirect_url: the decision answers a result page.
    expect(decided.status).toBe(200)
    expect(await decided.text()).toContain('authorized')
    const got = (await finqware.get(created.consent_id)).body
    expect(got.service_provider).toEqual({ provider_id: 'cec_ro', name: 'CEC Bank', country: 'RO' })
    const deliveries = await finqware.flush()
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).status).slice(0, 4)).toEqual([
      'started',
      'sca_url_retrieved',
      'awaiting_authz',
      'authorized',
    ])
  })

  test('a second decision on a decided consent is a 409 page and changes nothing', async () => {
    const created = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' } })
    const page = await openPage(created.web_url)
    await clickButton(page.form, 'decision', 'deny')

    const again = await clickButton(page.form, 'decision', 'approve')
    const reopened = await openPage(created.web_url)

    expect(again.status).toBe(409)
    expect(reopened.status).toBe(409)
    expect(reopened.form).toBeUndefined()
    expect(await finqware.statusOf(created.consent_id)).toBe('failed')
  })

  test('an unknown web_id is a 404 page, and a post without a decision is a 400 page', async () => {
    const created = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' } })

    const unknown = await fetch(`${sandbox.url}/link/no-such-link`)
    const noDecision = await fetch(created.web_url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=maybe',
    })

    expect(unknown.status).toBe(404)
    expect(unknown.headers.get('content-type')).toContain('text/html')
    expect(noDecision.status).toBe(400)
    expect(await finqware.statusOf(created.consent_id)).toBe('created')
  })
})

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

describe('direct_sca and /ais/consents/redirect', () => {
  /** Creates a direct_sca consent, opens the native bank page and answers it; returns the bank redirect's query. */
  async function throughNativeBank(decision: 'approve' | 'deny', webhookUrl?: string) {
    const created = await finqware.createOk({
      ais_method: { provider_id: 'cec_ro' },
      options: { type: 'direct_sca', redirect_url: 'https://partner.example/bank-return', webhook_url: webhookUrl },
    })
    const answer = await decideAtBank(created.sca_url ?? '', decision)
    expect(answer.status).toBe(303)
    const location = new URL(answer.headers.get('location') ?? '')
    return { created, location, queryString: location.search.slice(1) }
  }

  function redirect(queryString: string, sync?: boolean) {
    const body = { ...AUTH, query_string: queryString, ...(sync !== undefined && { sync }) }
    return finqware.api('/v2/ais/consents/redirect', body)
  }

  test('create answers web_url null and a native sca_url; the bank returns the user with code and state', async () => {
    const { created, location } = await throughNativeBank('approve')

    expect(created.web_url).toBeNull()
    expect(created.sca_url).toMatch(new RegExp(`^${sandbox.url}/bank/cec_ro/authorize\\?state=`))
    expect(location.origin + location.pathname).toBe('https://partner.example/bank-return')
    expect(location.searchParams.get('code')).toBeTruthy()
    expect(location.searchParams.get('state')).toBe(new URL(created.sca_url ?? '').searchParams.get('state'))
    expect(await finqware.statusOf(created.consent_id)).toBe('sca_url_retrieved')
    expect((await finqware.get(created.consent_id)).body).toMatchObject({ web_url: null, sca_url: created.sca_url })
  })

  test('sync: 200 with the status reached; a retry answers 201 already processed', async () => {
    const hook = receiver.newEndpoint()
    const { created, queryString } = await throughNativeBank('approve', hook)

    const processed = await redirect(queryString, true)
    const retried = await redirect(queryString, true)

    expect(processed.status).toBe(200)
    expect(processed.body).toEqual({
      request_id: expect.any(String),
      status: 'authorized',
      api_client_app: 'sandbox-client',
      consent_id: created.consent_id,
      web_id: created.web_id,
    })
    expect(retried.status).toBe(201)
    expect(['authorized', 'active']).toContain(retried.body.status)
    await finqware.waitForStatus(created.consent_id, 'active')
    await finqware.flush()
    expect(statusesAt(hook).sort()).toEqual(['active', 'authorized', 'sca_url_retrieved', 'started'])
  })

  test('async: 202 redirect_in_progress, 202 again while processing, then 201 once processed', async () => {
    const { created, queryString } = await throughNativeBank('approve')

    const started = await redirect(queryString)
    const concurrent = await redirect(queryString, true)
    await finqware.waitForStatus(created.consent_id, 'active')
    const after = await redirect(queryString)

    expect(started.status).toBe(202)
    expect(started.body.status).toBe('redirect_in_progress')
    expect(concurrent.status).toBe(202)
    expect(concurrent.body.status).toBe('redirect_in_progress')
    expect(after.status).toBe(201)
    expect(after.body.status).toBe('active')
  })

  test('a denial at the bank comes back as error=access_denied and the redirect fails the consent', async () => {
    const { created, location, queryString } = await throughNativeBank('deny')

    const processed = await redirect(queryString, true)

    expect(location.searchParams.get('error')).toBe('access_denied')
    expect(processed.status).toBe(200)
    expect(processed.body.status).toBe('failed')
    expect(await finqware.statusOf(created.consent_id)).toBe('failed')
  })

  test('query_string must match the documented pattern with state; an unknown state is 404', async () => {
    const { queryString } = await throughNativeBank('approve')

    expectErrorBody(await redirect('code=abc'), 400, 'validation_error')
    expectErrorBody(await redirect('code=abc&stateless=1'), 400, 'validation_error')
    expectErrorBody(await redirect(`&${queryString}`), 400, 'validation_error')
    expectErrorBody(await redirect('state=unknown&code=abc'), 404, 'consent_not_found')
    expectErrorBody(
      await finqware.api('/v2/ais/consents/redirect', { ...AUTH, query_string: queryString, sync: 'yes' }),
      400,
      'validation_error',
    )
  })

  test('a redirect before the bank answered, or with a wrong code, is refused and changes nothing', async () => {
    const created = await finqware.createOk({
      ais_method: { provider_id: 'rzb_ro' },
      options: { type: 'direct_sca', redirect_url: 'https://partner.example/bank-return' },
    })
    const state = new URL(created.sca_url ?? '').searchParams.get('state') ?? ''

    const early = await redirect(`code=guess&state=${state}`, true)
    const answer = await decideAtBank(created.sca_url ?? '', 'approve')
    const wrongCode = await redirect(`code=guess&state=${state}`, true)

    expect(answer.status).toBe(303)
    expectErrorBody(early, 400, 'validation_error')
    expectErrorBody(wrongCode, 400, 'validation_error')
    expect(await finqware.statusOf(created.consent_id)).toBe('sca_url_retrieved')
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

describe('OAuth2 bearer mode', () => {
  let oauth: FinqwareSandbox
  let client: SandboxClient
  const basic = (auth: { client_id: string; client_secret: string }) =>
    `Basic ${Buffer.from(`${auth.client_id}:${auth.client_secret}`).toString('base64')}`

  beforeAll(async () => {
    oauth = await startFinqwareSandbox({
      authMode: 'oauth2',
      tokenLifetimeSeconds: 600,
      clients: [
        { clientId: AUTH.client_id, clientSecret: AUTH.client_secret },
        { clientId: OTHER_AUTH.client_id, clientSecret: OTHER_AUTH.client_secret },
      ],
    })
    client = new SandboxClient(oauth.url)
  })

  afterAll(async () => {
    await oauth?.close()
  })

  async function tokenRequest(form: Record<string, string>, authorization?: string): Promise<ApiResult> {
    const response = await fetch(`${oauth.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization !== undefined && { authorization }),
      },
      body: new URLSearchParams(form).toString(),
    })
    return { status: response.status, body: await response.json(), headers: response.headers }
  }

  async function tokenOf(auth = AUTH): Promise<string> {
    const answer = await tokenRequest({ grant_type: 'client_credentials' }, basic(auth))
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    return answer.body.access_token as string
  }

  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
  const createWith = (token: string, body: Record<string, unknown> = { client_id: AUTH.client_id, consent: {} }) =>
    client.api('/v2/ais/consents/create', body, bearer(token))

  test('the token endpoint issues a bearer token for client credentials (HTTP Basic), with its lifetime in seconds', async () => {
    const answer = await tokenRequest({ grant_type: 'client_credentials' }, basic(AUTH))

    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600 })
    expect(answer.headers.get('cache-control')).toBe('no-store')
  })

  test('the token endpoint refuses a wrong secret and missing credentials with 401, a wrong grant with 400', async () => {
    expectErrorBody(
      await tokenRequest({ grant_type: 'client_credentials' }, basic({ ...AUTH, client_secret: 'x' })),
      401,
      'unauthorized',
    )
    expectErrorBody(await tokenRequest({ grant_type: 'client_credentials' }), 401, 'unauthorized')
    expectErrorBody(await tokenRequest({ grant_type: 'password' }, basic(AUTH)), 400, 'validation_error')
  })

  test('a call with a valid token and client_id in the body goes through; the consent belongs to that client', async () => {
    const token = await tokenOf()

    const created = await createWith(token)
    const read = await client.api(
      '/v2/ais/consents/get',
      { client_id: AUTH.client_id, consent_id: created.body.consent_id },
      bearer(token),
    )

    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(read.status).toBe(200)
    expect(read.body.status).toBe('created')
  })

  test('the body secret is refused, with or without a valid token', async () => {
    const token = await tokenOf()
    const before = await client.control('consents', undefined, 'GET')

    const secretAndToken = await createWith(token, { ...AUTH, consent: {} })
    const secretAlone = await client.create()

    expectErrorBody(secretAndToken, 401, 'unauthorized')
    expectErrorBody(secretAlone, 401, 'unauthorized')
    expect((await client.control('consents', undefined, 'GET')).body).toEqual(before.body)
  })

  test('a wrong token, a missing one, another scheme and no client_id are refused 401 unauthorized', async () => {
    const token = await tokenOf()

    const wrong = await createWith(`${token}x`)
    const missing = await client.api('/v2/ais/consents/create', { client_id: AUTH.client_id, consent: {} })
    const basicScheme = await client.api(
      '/v2/ais/consents/create',
      { client_id: AUTH.client_id, consent: {} },
      { headers: { authorization: basic(AUTH) } },
    )
    const noClientId = await createWith(token, { consent: {} })

    for (const answer of [wrong, missing, basicScheme, noClientId]) expectErrorBody(answer, 401, 'unauthorized')
  })

  test("another client's token with this client's id in the body is refused 401", async () => {
    const othersToken = await tokenOf(OTHER_AUTH)

    expectErrorBody(await createWith(othersToken), 401, 'unauthorized')
  })

  test('a token past its lifetime on the sandbox clock is refused 401; a new one goes through', async () => {
    const token = await tokenOf()
    expect((await createWith(token)).status).toBe(200)
    const refusedBefore = oauth.tokenCounts().refused

    await client.advanceSeconds(600)
    const expired = await createWith(token)
    const renewed = await createWith(await tokenOf())

    expectErrorBody(expired, 401, 'unauthorized')
    expect(renewed.status).toBe(200)
    expect(oauth.tokenCounts().refused).toBe(refusedBefore + 1)
  })
})
