// The Yapily sandbox over real HTTP: Basic auth and both error envelopes, institutions, create rules and users, the
// hosted bank pages (redirect and embedded), the embedded API, GET and list, DELETE, re-authorisation, extend, data
// calls and revocation at the bank, expiry on the sandbox clock, webhooks with HMAC signatures, faults and controls.
import { createHmac, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { RecordingReceiver } from '../support/webhook-receiver.ts'
import { startYapilySandbox, type YapilySandbox } from '../../sandbox/yapily/server.ts'

// Fixtures ------------------------------------------------------------------------------------------------------------

const KEY = 'sandbox-app-key'
const SECRET = 'sandbox-app-secret'
const APP_ID = '0d6b7a38-1c2e-4f5a-9b8c-3e4d5f6a7b8c'
const OTHER = { key: 'other-app-key', secret: 'other-app-secret', id: 'e2a4c6f8-0b1d-4e3f-a5c7-9b8d6f4e2a10' }
const CALLBACK = 'https://partner.example/yapily/callback'
const EXACT_CALLBACK = 'https://exact.example/cb'
const DAY_MS = 24 * 3600 * 1000
/** A fixed instant on the sandbox clock, so date assertions are exact up to the few ms a test takes. */
const NOON = '2030-06-15T12:00:00.000Z'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const EXACT_401 = {
  error: { code: 401, status: 'UNAUTHORIZED', message: 'Full authentication is required to access this resource' },
}

function basic(key: string, secret: string): string {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`
}

interface Answer {
  status: number
  body: any
  headers: Headers
  text: string
}

/** Talks to one sandbox as the adapter does: Basic auth, JSON bodies, the `consent` header, controls. */
class YapilyClient {
  constructor(
    readonly baseUrl: string,
    readonly authorization = basic(KEY, SECRET),
  ) {}

  async call(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: this.authorization,
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body !== undefined && { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, text }
  }

  create(body: Record<string, unknown> = {}): Promise<Answer> {
    return this.call('POST', '/account-auth-requests', {
      body: { applicationUserId: 'user-1', institutionId: 'modelo-sandbox', callback: CALLBACK, ...body },
    })
  }

  async createOk(body: Record<string, unknown> = {}): Promise<any> {
    const created = await this.create(body)
    expect(created.status, created.text).toBe(201)
    return created.body.data
  }

  get(consentId: string): Promise<Answer> {
    return this.call('GET', `/consents/${consentId}`)
  }

  async consent(consentId: string): Promise<any> {
    const answer = await this.get(consentId)
    expect(answer.status, answer.text).toBe(200)
    return answer.body.data
  }

  list(query: string): Promise<Answer> {
    return this.call('GET', `/consents?${query}`)
  }

  remove(consentId: string, query = ''): Promise<Answer> {
    return this.call('DELETE', `/consents/${consentId}${query}`)
  }

  reauthorise(token: string): Promise<Answer> {
    return this.call('PATCH', '/account-auth-requests', { headers: { consent: token } })
  }

  extend(consentId: string, body: unknown): Promise<Answer> {
    return this.call('POST', `/consents/${consentId}/extend`, { body })
  }

  accounts(token: string): Promise<Answer> {
    return this.call('GET', '/accounts', { headers: { consent: token } })
  }

  registerWebhook(body: Record<string, unknown>): Promise<Answer> {
    return this.call('POST', '/webhook/events', {
      body: { applicationId: APP_ID, categories: ['consent.status'], ...body },
    })
  }

  async control(path: string, body?: unknown, method = 'POST'): Promise<Answer> {
    const response = await fetch(`${this.baseUrl}/__sandbox/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(method === 'POST' && { body: JSON.stringify(body ?? {}) }),
    })
    const text = await response.text()
    return { status: response.status, body: JSON.parse(text), headers: response.headers, text }
  }

  setClock(iso: string): Promise<Answer> {
    return this.control('clock', { set: iso })
  }

  advanceDays(days: number): Promise<Answer> {
    return this.control('clock', { advanceSeconds: days * 24 * 3600 })
  }

  async sandboxNow(): Promise<number> {
    return Date.parse((await this.control('clock', undefined, 'GET')).body.now as string)
  }

  /** Waits until every webhook is delivered. */
  async flush(): Promise<void> {
    await this.control('webhooks/flush')
  }
}

// The bank page, driven as a browser would ------------------------------------------------------------------------------

interface PageForm {
  action: URL
  method: string
  inputs: Array<{ name: string; value: string; type: string }>
  buttons: Array<{ name: string; value: string }>
}

function attributes(tag: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const match of tag.matchAll(/([a-z-]+)="([^"]*)"/gi)) {
    found[match[1] ?? ''] = (match[2] ?? '').replace(/&amp;/g, '&').replace(/&quot;/g, '"')
  }
  return found
}

function parseForm(html: string, pageUrl: string): PageForm | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html)
  if (!form) return undefined
  const formAttributes = attributes(form[1] ?? '')
  const inner = form[2] ?? ''
  return {
    action: new URL(formAttributes.action ?? '', pageUrl),
    method: (formAttributes.method ?? 'get').toLowerCase(),
    inputs: [...inner.matchAll(/<input\b([^>]*)>/gi)].map((input) => {
      const { name = '', value = '', type = 'text' } = attributes(input[1] ?? '')
      return { name, value, type }
    }),
    buttons: [...inner.matchAll(/<button\b([^>]*)>/gi)].map((button) => {
      const { name = '', value = '' } = attributes(button[1] ?? '')
      return { name, value }
    }),
  }
}

async function openPage(url: string): Promise<{ status: number; html: string; form: PageForm | undefined }> {
  const response = await fetch(url)
  const html = await response.text()
  return { status: response.status, html, form: parseForm(html, url) }
}

/** Submits the form with `decision` and the given field overrides; redirects are not followed. */
async function submit(form: PageForm | undefined, decision: string, fields: Record<string, string> = {}) {
  if (!form) throw new Error('the page has no form')
  const values = new URLSearchParams(form.inputs.map((input) => [input.name, fields[input.name] ?? input.value]))
  values.append('decision', decision)
  const response = await fetch(form.action, {
    method: form.method.toUpperCase(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: values.toString(),
    redirect: 'manual',
  })
  const html = await response.text()
  return {
    status: response.status,
    location: response.headers.get('location'),
    html,
    form: parseForm(html, form.action.toString()),
  }
}

/** Opens the bank page and decides, as a user would. */
async function decide(pageUrl: string, decision: 'approve' | 'deny', fields: Record<string, string> = {}) {
  const page = await openPage(pageUrl)
  expect(page.status, page.html).toBe(200)
  return submit(page.form, decision, fields)
}

/** The query of a redirect's Location as a plain object. */
function callbackQuery(location: string | null): Record<string, string> {
  return Object.fromEntries(new URL(location ?? '').searchParams)
}

/** Creates a consent and approves it at the bank; returns its id and token. */
async function authorisedConsent(body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const created = await yapily.createOk(body)
  const decided = await decide(created.authorisationUrl as string, 'approve')
  expect(decided.status).toBe(302)
  const consent = await yapily.consent(created.id as string)
  expect(consent.status).toBe('AUTHORIZED')
  return { id: consent.id as string, token: consent.consentToken as string }
}

/** Walks the embedded bank's hosted page to AUTHORIZED. */
async function authorisedEmbeddedConsent(): Promise<{ id: string; token: string }> {
  const created = await yapily.createOk({ institutionId: 'embedded-de-sandbox' })
  const codePage = await decide(created.authorisationUrl as string, 'approve')
  const done = await submit(codePage.form, 'approve')
  expect(done.status).toBe(302)
  const consent = await yapily.consent(created.id as string)
  return { id: consent.id as string, token: consent.consentToken as string }
}

async function statusOf(consentId: string): Promise<string> {
  return (await yapily.consent(consentId)).status as string
}

// Setup ---------------------------------------------------------------------------------------------------------------

const receiver = new RecordingReceiver()
let sandbox: YapilySandbox
let yapily: YapilyClient
let other: YapilyClient

beforeAll(async () => {
  await receiver.start()
  sandbox = await startYapilySandbox({
    applications: [{ key: KEY, secret: SECRET, id: APP_ID }, OTHER],
    callbacks: ['https://partner.example/', EXACT_CALLBACK],
    webhookRetry: { baseDelayMs: 10, maxDelayMs: 40, attemptTimeoutMs: 2_000 },
  })
  yapily = new YapilyClient(sandbox.url)
  other = new YapilyClient(sandbox.url, basic(OTHER.key, OTHER.secret))
})

afterAll(async () => {
  await sandbox?.close()
  await receiver.close()
})

beforeEach(async () => {
  await yapily.control('reset')
})

// Tests ---------------------------------------------------------------------------------------------------------------

describe('authentication and envelopes', () => {
  test.each([
    ['no Authorization', ''],
    ['a wrong secret', basic(KEY, 'wrong')],
    ['an unknown key', basic('nobody', SECRET)],
    ['a Bearer token', 'Bearer abc'],
    ['Basic without a colon', `Basic ${Buffer.from('no-colon').toString('base64')}`],
  ])('%s is 401 with exactly the documented body', async (_case, authorization) => {
    const answer = await new YapilyClient(sandbox.url, authorization).call('GET', '/institutions')

    expect(answer.status).toBe(401)
    expect(answer.body).toEqual(EXACT_401)
    expect(answer.text).toBe(JSON.stringify(EXACT_401))
  })

  test('every API route needs the credentials, the webhook and extend routes included', async () => {
    const anonymous = new YapilyClient(sandbox.url, '')
    const answers = await Promise.all([
      anonymous.create(),
      anonymous.reauthorise('token'),
      anonymous.list('limit=1'),
      anonymous.get(randomUUID()),
      anonymous.remove(randomUUID()),
      anonymous.extend(randomUUID(), { lastConfirmedAt: NOON }),
      anonymous.accounts('token'),
      anonymous.call('GET', '/webhook/events'),
      anonymous.call('POST', '/embedded-account-auth-requests', { body: {} }),
    ])

    for (const answer of answers) expect(answer.body).toEqual(EXACT_401)
  })

  test('success bodies are {meta: {tracingId}, data}; answers are dated by the sandbox clock', async () => {
    await yapily.setClock(NOON)

    const answer = await yapily.call('GET', '/institutions')

    expect(answer.status).toBe(200)
    expect(answer.body.meta).toEqual({ tracingId: expect.stringMatching(UUID), count: 5 })
    expect(Math.abs(Date.parse(answer.headers.get('date') ?? '') - Date.parse(NOON))).toBeLessThan(60_000)
  })

  test('legacy errors carry code, status, message, source and tracingId; unknown routes are 404', async () => {
    const malformed = await yapily.call('POST', '/account-auth-requests', { body: '{"institutionId": ' })
    const unknown = await yapily.call('GET', '/payments')

    expect(malformed.status).toBe(400)
    expect(malformed.body).toEqual({
      error: {
        code: 400,
        status: 'BAD_REQUEST',
        message: expect.any(String),
        source: 'YAPILY',
        tracingId: expect.stringMatching(UUID),
      },
    })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', source: 'YAPILY' })
  })
})

describe('institutions', () => {
  test('five sandbox institutions: UK redirect, EEA redirect, EEA embedded, UK payments only, UK per account', async () => {
    const answer = await yapily.call('GET', '/institutions')
    const byId = Object.fromEntries(answer.body.data.map((institution: any) => [institution.id, institution]))

    expect(Object.keys(byId).sort()).toEqual([
      'embedded-de-sandbox',
      'modelo-sandbox',
      'payments-only-gb-sandbox',
      'per-account-gb-sandbox',
      'santander-es-sandbox',
    ])
    expect(byId['payments-only-gb-sandbox'].features).not.toContain('INITIATE_ACCOUNT_REQUEST')
    expect(byId['modelo-sandbox']).toMatchObject({
      name: 'Modelo Sandbox',
      fullName: expect.any(String),
      countries: [{ displayName: 'United Kingdom', countryCode2: 'GB' }],
      environmentType: 'SANDBOX',
    })
    expect(byId['modelo-sandbox'].features).toContain('INITIATE_ACCOUNT_REQUEST')
    expect(byId['santander-es-sandbox'].countries).toEqual([
      { displayName: 'Andorra', countryCode2: 'AD' },
      { displayName: 'Spain', countryCode2: 'ES' },
    ])
    expect(byId['embedded-de-sandbox'].countries[0].countryCode2).toBe('DE')
    expect(byId['embedded-de-sandbox'].features).toContain('INITIATE_EMBEDDED_ACCOUNT_REQUEST')
  })
})

describe('create account authorisation', () => {
  beforeEach(async () => {
    await yapily.setClock(NOON)
  })

  test('201 AWAITING_AUTHORIZATION with the bank page, a QR code link and no token', async () => {
    const created = await yapily.create({ applicationUserId: 'user-create' })
    const data = created.body.data

    expect(created.status).toBe(201)
    expect(created.body.meta).toEqual({ tracingId: expect.stringMatching(UUID) })
    expect(data).toMatchObject({
      id: expect.stringMatching(UUID),
      userUuid: expect.stringMatching(UUID),
      applicationUserId: 'user-create',
      institutionId: 'modelo-sandbox',
      status: 'AWAITING_AUTHORIZATION',
      state: expect.stringMatching(/^[0-9a-f]{32}$/),
      institutionConsentId: expect.any(String),
    })
    expect(Date.parse(data.createdAt)).toBeGreaterThanOrEqual(Date.parse(NOON))
    expect(data.featureScope).toEqual(expect.arrayContaining(['ACCOUNTS', 'ACCOUNT_BALANCES', 'ACCOUNT_TRANSACTIONS']))
    expect(data.consentToken).toBeUndefined()
    expect(data.expiresAt).toBeUndefined()
    expect(data.authorisationUrl).toMatch(new RegExp(`^${sandbox.url}/bank/[A-Za-z0-9_-]+\\?state=${data.state}$`))
    expect(data.qrCodeUrl).toMatch(new RegExp(`^${sandbox.url}/qr/`))
    expect((await fetch(data.qrCodeUrl as string)).headers.get('content-type')).toBe('image/svg+xml')
  })

  test('users are created on first use of an applicationUserId and found again, per application', async () => {
    const first = await yapily.createOk({ applicationUserId: 'alice' })
    const again = await yapily.createOk({ applicationUserId: 'alice' })
    const byUuid = await yapily.createOk({ applicationUserId: undefined, userUuid: first.userUuid })
    const bob = await yapily.createOk({ applicationUserId: 'bob' })
    const otherApp = await other.createOk({ applicationUserId: 'alice' })
    const unknownUuid = await yapily.create({ applicationUserId: undefined, userUuid: randomUUID() })
    const foreignUuid = await other.create({ applicationUserId: undefined, userUuid: first.userUuid })

    expect(again.userUuid).toBe(first.userUuid)
    expect(byUuid).toMatchObject({ userUuid: first.userUuid, applicationUserId: 'alice' })
    expect(bob.userUuid).not.toBe(first.userUuid)
    expect(otherApp.userUuid).not.toBe(first.userUuid)
    expect(unknownUuid.status).toBe(400)
    expect(foreignUuid.status).toBe(400)
  })

  test('institutionId: missing is 400, unknown is 404 "institution not found"', async () => {
    const missing = await yapily.create({ institutionId: undefined })
    const unknown = await yapily.create({ institutionId: 'no-such-bank' })

    expect(missing.status).toBe(400)
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', source: 'YAPILY' })
    expect(unknown.body.error.message).toContain('institution not found')
  })

  test.each([
    ['both applicationUserId and userUuid', { userUuid: randomUUID() }],
    ['neither', { applicationUserId: undefined }],
    ['an empty applicationUserId', { applicationUserId: '' }],
    ['a userUuid that is not a UUID', { applicationUserId: undefined, userUuid: 'abc' }],
  ])('%s is 400', async (_case, body) => {
    const refused = await yapily.create(body)

    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ code: 400, status: 'BAD_REQUEST' })
  })

  test('callbacks below a registered trailing-slash entry, or equal to an entry, are accepted; absent too', async () => {
    const below = await yapily.create({ callback: 'https://partner.example/deep/path?x=1' })
    const exact = await yapily.create({ callback: EXACT_CALLBACK })
    const none = await yapily.create({ callback: undefined })

    expect([below.status, exact.status, none.status]).toEqual([201, 201, 201])
  })

  test.each([
    'https://evil.example/yapily/callback',
    'https://partner.example:8443/yapily/callback',
    'http://partner.example/yapily/callback',
    'https://exact.example/cb/more',
    'not a url',
  ])('callback %s is not registered: 400 naming it', async (callback) => {
    const refused = await yapily.create({ callback })

    expect(refused.status).toBe(400)
    expect(refused.body.error.message).toContain(callback)
  })

  test('featureScope: FeatureEnum values are kept; anything else is 400', async () => {
    const scoped = await yapily.createOk({ accountRequest: { featureScope: ['ACCOUNTS', 'ACCOUNT_TRANSACTIONS'] } })
    const invalid = await yapily.create({ accountRequest: { featureScope: ['ACCOUNTS', 'MIND_READING'] } })
    const notArray = await yapily.create({ accountRequest: { featureScope: 'ACCOUNTS' } })

    expect(scoped.featureScope).toEqual(['ACCOUNTS', 'ACCOUNT_TRANSACTIONS'])
    expect(invalid.status).toBe(400)
    expect(invalid.body.error.message).toContain('MIND_READING')
    expect(notArray.status).toBe(400)
  })

  test('expiresAt is honoured by modelo-sandbox and silently ignored by the EEA banks', async () => {
    const expiresAt = '2030-08-01T00:00:00.000Z'

    const uk = await yapily.createOk({ accountRequest: { expiresAt } })
    const eea = await yapily.createOk({ institutionId: 'santander-es-sandbox', accountRequest: { expiresAt } })
    const malformed = await yapily.create({
      institutionId: 'santander-es-sandbox',
      accountRequest: { expiresAt: 'soon' },
    })
    const past = await yapily.create({ accountRequest: { expiresAt: '2030-06-01T00:00:00Z' } })

    expect(uk.expiresAt).toBe(expiresAt)
    expect(uk.timeToExpire).toMatch(/^P4\dD/)
    expect(eea.expiresAt).toBeUndefined()
    expect(malformed.status).toBe(400)
    expect(past.status).toBe(400)
  })

  test('oneTimeToken is refused (not simulated); a redirect without url is 400', async () => {
    const ott = await yapily.create({ oneTimeToken: true })
    const redirect = await yapily.create({ redirect: {} })

    expect(ott.status).toBe(400)
    expect(redirect.status).toBe(400)
  })
})

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

describe('get and list consents', () => {
  test('GET answers the Consent; unknown or another application’s consent is 404', async () => {
    const created = await yapily.createOk()

    const found = await yapily.get(created.id as string)
    const unknown = await yapily.get(randomUUID())
    const foreign = await other.get(created.id as string)

    expect(found.body.data).toMatchObject({ id: created.id, status: 'AWAITING_AUTHORIZATION' })
    expect(found.body.data).not.toHaveProperty('isDeletedByInstitution')
    expect(found.body.data).not.toHaveProperty('reconfirmBy')
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' })
    expect(foreign.status).toBe(404)
  })

  test('listing needs filter[applicationUserId], filter[userUuid] or limit', async () => {
    const created = await yapily.createOk({ applicationUserId: 'lister' })

    const none = await yapily.list('filter[institution]=modelo-sandbox')
    const byUser = await yapily.list('filter[applicationUserId]=lister')
    const byUuid = await yapily.list(`filter[userUuid]=${created.userUuid}`)
    const byLimit = await yapily.list('limit=5')

    expect(none.status).toBe(400)
    expect(none.body.error.message).toContain('filter[applicationUserId]')
    expect(byUser.status).toBe(200)
    expect(byUuid.body.data.map((consent: any) => consent.id)).toEqual([created.id])
    expect(byLimit.body.data).toHaveLength(1)
  })

  test('filters combine, repeat, and list newest first; other applications are never listed', async () => {
    // Prepare: a1 (modelo), a2 (santander), b1 (modelo, then rejected), plus another application's consent.
    const a1 = await yapily.createOk({ applicationUserId: 'a' })
    const a2 = await yapily.createOk({ applicationUserId: 'a', institutionId: 'santander-es-sandbox' })
    const b1 = await yapily.createOk({ applicationUserId: 'b' })
    await decide(b1.authorisationUrl as string, 'deny')
    await other.createOk({ applicationUserId: 'a' })

    // Act
    const byA = await yapily.list('filter[applicationUserId]=a')
    const both = await yapily.list('filter[applicationUserId]=a&filter[applicationUserId]=b')
    const modelo = await yapily.list('limit=10&filter[institution]=modelo-sandbox')
    const rejected = await yapily.list('limit=10&filter[status]=REJECTED&filter[status]=EXPIRED')

    // Assess
    const ids = (answer: Answer) => answer.body.data.map((consent: any) => consent.id)
    expect(ids(byA)).toEqual([a2.id, a1.id])
    expect(ids(both)).toEqual([b1.id, a2.id, a1.id])
    expect(ids(modelo)).toEqual([b1.id, a1.id])
    expect(ids(rejected)).toEqual([b1.id])
  })

  test('limit and offset page through; meta has count and pagination', async () => {
    const ids: string[] = []
    for (let index = 0; index < 5; index += 1) ids.unshift((await yapily.createOk({ applicationUserId: 'pager' })).id)

    const page = await yapily.list('filter[applicationUserId]=pager&limit=2&offset=1')

    expect(page.body.data.map((consent: any) => consent.id)).toEqual(ids.slice(1, 3))
    expect(page.body.meta).toEqual({
      tracingId: expect.stringMatching(UUID),
      count: 2,
      pagination: { totalCount: 5, self: { limit: 2, offset: 1, sort: '-date' } },
    })
  })

  test.each([
    'limit=0',
    'limit=1001',
    'limit=ten',
    'limit=5&offset=-1',
    'limit=5&filter[status]=ACTIVE',
    'limit=5&from=yesterday',
  ])('%s is 400', async (query) => {
    expect((await yapily.list(query)).status).toBe(400)
  })
})

describe('delete consent', () => {
  test('the bank deletes too: 200 SUCCESS, REVOKED, isDeletedByInstitution true, data calls 403', async () => {
    const { id, token } = await authorisedConsent()

    const deleted = await yapily.remove(id)
    const consent = await yapily.consent(id)

    expect(deleted.status).toBe(200)
    expect(deleted.body.data).toEqual({
      id,
      deleteStatus: 'SUCCESS',
      institutionId: 'modelo-sandbox',
      institutionConsentId: consent.institutionConsentId,
      creationDate: consent.createdAt,
    })
    expect(consent).toMatchObject({ status: 'REVOKED', isDeletedByInstitution: true })
    expect((await yapily.accounts(token)).status).toBe(403)
  })

  test('the bank fails and forceDelete defaults to true: deleted at Yapily only', async () => {
    const { id } = await authorisedConsent()
    await yapily.control('bank-delete-fails', { enabled: true })

    const deleted = await yapily.remove(id)

    expect(deleted.body.data.deleteStatus).toBe('SUCCESS')
    expect(await yapily.consent(id)).toMatchObject({ status: 'REVOKED', isDeletedByInstitution: false })
  })

  test('the bank fails and forceDelete=false: FAILED and nothing changes', async () => {
    const { id, token } = await authorisedConsent()
    await yapily.control('bank-delete-fails', { enabled: true })

    const deleted = await yapily.remove(id, '?forceDelete=false')

    expect(deleted.status).toBe(200)
    expect(deleted.body.data.deleteStatus).toBe('FAILED')
    const kept = await yapily.consent(id)
    expect(kept).toMatchObject({ status: 'AUTHORIZED' })
    expect(kept).not.toHaveProperty('isDeletedByInstitution')
    expect((await yapily.accounts(token)).status).toBe(200)
  })

  test('deleting again answers the same and changes nothing; forceDelete must be a boolean', async () => {
    const { id } = await authorisedConsent()
    const first = await yapily.remove(id)
    await yapily.control('bank-delete-fails', { enabled: true })

    const again = await yapily.remove(id, '?forceDelete=false')
    const invalid = await yapily.remove(id, '?forceDelete=maybe')

    expect(again.status).toBe(200)
    expect(again.body.data).toEqual(first.body.data)
    expect(await yapily.consent(id)).toMatchObject({ status: 'REVOKED', isDeletedByInstitution: true })
    expect(invalid.status).toBe(400)
  })
})

describe('re-authorisation', () => {
  test('PATCH: 201 with the same id and token, AWAITING_RE_AUTHORIZATION and a new page; a repeat answers the same', async () => {
    const created = await yapily.createOk()
    await decide(created.authorisationUrl as string, 'approve')
    const { consentToken } = await yapily.consent(created.id as string)

    const patched = await yapily.reauthorise(consentToken as string)
    const repeated = await yapily.reauthorise(consentToken as string)
    const oldPage = await openPage(created.authorisationUrl as string)

    expect(patched.status).toBe(201)
    expect(patched.body.data).toMatchObject({
      id: created.id,
      consentToken,
      status: 'AWAITING_RE_AUTHORIZATION',
      authorisationUrl: expect.stringContaining(`${sandbox.url}/bank/`),
    })
    expect(patched.body.data.authorisationUrl).not.toBe(created.authorisationUrl)
    expect(repeated.status).toBe(201)
    expect(repeated.body.data.authorisationUrl).toBe(patched.body.data.authorisationUrl)
    expect(oldPage.status).toBe(409)
  })

  test('approve renews lastConfirmedAt, reconfirmBy and expiresAt, keeps the token, 302 with consent=<same token>', async () => {
    await yapily.setClock(NOON)
    const { id, token } = await authorisedConsent()
    await yapily.advanceDays(30)
    const patched = await yapily.reauthorise(token)

    const decided = await decide(patched.body.data.authorisationUrl as string, 'approve')
    const consent = await yapily.consent(id)

    const renewedAt = Date.parse(consent.lastConfirmedAt as string)
    expect(renewedAt - Date.parse(NOON)).toBeGreaterThanOrEqual(30 * DAY_MS)
    expect(consent).toMatchObject({ status: 'AUTHORIZED', consentToken: token })
    expect(consent.authorizedAt).toBe(consent.lastConfirmedAt)
    expect(Date.parse(consent.reconfirmBy as string) - renewedAt).toBe(90 * DAY_MS)
    expect(Date.parse(consent.expiresAt as string) - renewedAt).toBe(90 * DAY_MS)
    expect(callbackQuery(decided.location).consent).toBe(token)
  })

  test('deny restores AUTHORIZED, with the error redirect', async () => {
    const { id, token } = await authorisedConsent()
    const before = await yapily.consent(id)
    const patched = await yapily.reauthorise(token)

    const decided = await decide(patched.body.data.authorisationUrl as string, 'deny')
    const after = await yapily.consent(id)

    expect(callbackQuery(decided.location).error).toBe('access_denied')
    expect(after.status).toBe('AUTHORIZED')
    expect(after.lastConfirmedAt).toBe(before.lastConfirmedAt)
    expect((await yapily.accounts(token)).status).toBe(200)
  })

  test('from EXPIRED: deny restores EXPIRED; approve makes it AUTHORIZED again with a new expiresAt', async () => {
    const { id, token } = await authorisedConsent({ institutionId: 'santander-es-sandbox' })
    await yapily.advanceDays(181)
    expect(await statusOf(id)).toBe('EXPIRED')

    const denied = await yapily.reauthorise(token)
    await decide(denied.body.data.authorisationUrl as string, 'deny')
    const afterDeny = await statusOf(id)
    const approved = await yapily.reauthorise(token)
    await decide(approved.body.data.authorisationUrl as string, 'approve')
    const consent = await yapily.consent(id)

    expect(afterDeny).toBe('EXPIRED')
    expect(consent.status).toBe('AUTHORIZED')
    expect(Date.parse(consent.expiresAt as string)).toBeGreaterThan(await yapily.sandboxNow())
    expect((await yapily.accounts(token)).status).toBe(200)
  })

  test('the embedded bank is 424; an unknown token 401; no header 400; a REJECTED or REVOKED consent 400', async () => {
    const embedded = await authorisedEmbeddedConsent()
    const deleted = await authorisedConsent()
    await yapily.remove(deleted.id)

    const notSupported = await yapily.reauthorise(embedded.token)
    const unknown = await yapily.reauthorise('not.a.token')
    const noHeader = await yapily.call('PATCH', '/account-auth-requests')
    const revoked = await yapily.reauthorise(deleted.token)

    expect(notSupported.status).toBe(424)
    expect(notSupported.body.error.message).toContain('feature not supported by the institution')
    expect(unknown.status).toBe(401)
    expect(unknown.body.error).toMatchObject({ code: 401, status: 'UNAUTHORIZED', message: 'consent token invalid' })
    expect(noHeader.status).toBe(400)
    expect(revoked.status).toBe(400)
  })
})

describe('extend (UK reconfirmation)', () => {
  beforeEach(async () => {
    await yapily.setClock(NOON)
  })

  test('200 with lastConfirmedAt as sent and reconfirmBy 90 days later; the status stays', async () => {
    const { id } = await authorisedConsent()
    await yapily.advanceDays(60)
    const lastConfirmedAt = new Date((await yapily.sandboxNow()) - 5_000).toISOString()

    const extended = await yapily.extend(id, { lastConfirmedAt })

    expect(extended.status).toBe(200)
    expect(extended.body.meta.tracingId).toMatch(UUID)
    expect(extended.body.data).toMatchObject({
      id,
      status: 'AUTHORIZED',
      lastConfirmedAt,
      reconfirmBy: new Date(Date.parse(lastConfirmedAt) + 90 * DAY_MS).toISOString(),
    })
  })

  test.each([
    ['missing', {}],
    ['unparsable', { lastConfirmedAt: 'yesterday' }],
    ['without an offset', { lastConfirmedAt: '2030-06-15T11:00:00' }],
  ])('lastConfirmedAt %s: 400 in the new envelope, issue 10600', async (_case, body) => {
    const { id } = await authorisedConsent()

    const refused = await yapily.extend(id, body)

    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({
      tracingId: expect.stringMatching(UUID),
      code: 400,
      status: 'BAD_REQUEST',
      supportUrl: expect.stringMatching(/^https:/),
      source: 'YAPILY',
    })
    expect(refused.body.error.issues).toEqual([
      { type: 'BAD_REQUEST', code: '10600', parameter: '$.lastConfirmedAt', message: expect.any(String) },
    ])
  })

  test('a future lastConfirmedAt is refused with the exact documented message', async () => {
    const { id } = await authorisedConsent()
    const future = new Date((await yapily.sandboxNow()) + 60_000).toISOString()

    const refused = await yapily.extend(id, { lastConfirmedAt: future })

    expect(refused.status).toBe(400)
    expect(refused.body.error.issues[0].message).toBe('lastConfirmedAt cannot be a future date and time')
  })

  test('not later than the current lastConfirmedAt, not AUTHORIZED, not UK: 400; unknown consent: 404', async () => {
    const { id } = await authorisedConsent()
    const current = (await yapily.consent(id)).lastConfirmedAt as string
    const pending = await yapily.createOk()
    const eea = await authorisedConsent({ institutionId: 'santander-es-sandbox' })
    await yapily.advanceDays(1)
    const yesterday = new Date((await yapily.sandboxNow()) - DAY_MS / 2).toISOString()

    const same = await yapily.extend(id, { lastConfirmedAt: current })
    const earlier = await yapily.extend(id, { lastConfirmedAt: new Date(Date.parse(current) - 1000).toISOString() })
    const notAuthorised = await yapily.extend(pending.id as string, { lastConfirmedAt: yesterday })
    const notUk = await yapily.extend(eea.id, { lastConfirmedAt: yesterday })
    const unknown = await yapily.extend(randomUUID(), { lastConfirmedAt: yesterday })
    const malformed = await yapily.call('POST', `/consents/${id}/extend`, { body: '{"lastConfirmedAt": ' })

    for (const refused of [same, earlier, notAuthorised, notUk, malformed]) {
      expect(refused.status).toBe(400)
      expect(refused.body.error.issues[0]).toMatchObject({ code: '10600' })
    }
    expect(notAuthorised.body.error.issues[0].message).toContain('AWAITING_AUTHORIZATION')
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', issues: [{ code: '10800' }] })
  })
})

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

describe('webhooks', () => {
  test('registration answers the secret once; the list and delete never show it', async () => {
    const url = receiver.newEndpoint()

    const registered = await yapily.registerWebhook({
      callbackUrl: { main: { url }, backup: { url: `${url}-backup` } },
      metadata: { team: 'payments' },
    })
    const listed = await yapily.call('GET', '/webhook/events')
    const deleted = await yapily.call('DELETE', `/webhook/events/${registered.body.data.id}`)
    const afterDelete = await yapily.call('GET', '/webhook/events')
    const deletedAgain = await yapily.call('DELETE', `/webhook/events/${registered.body.data.id}`)

    const secret = registered.body.data.webhookSecret as string
    expect(registered.status).toBe(201)
    expect(registered.body.meta.tracingId).toMatch(UUID)
    expect(registered.body.data).toEqual({
      id: expect.stringMatching(UUID),
      applicationId: APP_ID,
      categories: ['consent.status'],
      callbackUrl: { main: { url }, backup: { url: `${url}-backup` } },
      metadata: { team: 'payments' },
      status: 'active',
      webhookSecret: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/),
    })
    expect(listed.body.data.active).toEqual([{ ...registered.body.data, webhookSecret: undefined }])
    expect(listed.text).not.toContain(secret)
    expect(deleted.status).toBe(200)
    expect(deleted.text).not.toContain(secret)
    expect(afterDelete.body.data.active).toEqual([])
    expect(deletedAgain.status).toBe(404)
    expect(deletedAgain.body.error.issues[0].code).toBe('10800')
  })

  test('at most 10 per application: the 11th is 406 with issue 14007; another application has its own 10', async () => {
    for (let index = 0; index < 10; index += 1) {
      expect((await yapily.registerWebhook({ callbackUrl: { main: { url: receiver.newEndpoint() } } })).status).toBe(
        201,
      )
    }

    const eleventh = await yapily.registerWebhook({ callbackUrl: { main: { url: receiver.newEndpoint() } } })
    const otherApp = await other.registerWebhook({
      applicationId: OTHER.id,
      callbackUrl: { main: { url: receiver.newEndpoint() } },
    })

    expect(eleventh.status).toBe(406)
    expect(eleventh.body.error).toMatchObject({
      code: 406,
      status: 'NOT_ACCEPTABLE',
      source: 'YAPILY',
      issues: [{ type: 'RESOURCE', code: '14007', message: expect.any(String) }],
    })
    expect(otherApp.status).toBe(201)
  })

  test.each([
    ['a main URL with a query string', { callbackUrl: { main: { url: 'https://partner.example/hook?x=1' } } }],
    [
      'a backup URL with a query string',
      { callbackUrl: { main: { url: 'https://partner.example/hook' }, backup: { url: 'https://b.example/?k=v' } } },
    ],
    ['no main URL', { callbackUrl: {} }],
    [
      'another application id',
      { applicationId: 'someone-else', callbackUrl: { main: { url: 'https://partner.example/h' } } },
    ],
    [
      'an unknown category',
      { categories: ['consent.mood'], callbackUrl: { main: { url: 'https://partner.example/h' } } },
    ],
    ['no categories', { categories: [], callbackUrl: { main: { url: 'https://partner.example/h' } } }],
  ])('%s is 400 in the new envelope', async (_case, body) => {
    const refused = await yapily.registerWebhook(body)

    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ code: 400, status: 'BAD_REQUEST', issues: [{ code: '10600' }] })
  })

  test('categories list consent.status and the documented payment categories', async () => {
    const answer = await yapily.call('GET', '/webhook/events/categories')

    const names = answer.body.data.categories.map((category: any) => category.name)
    expect(names).toEqual(expect.arrayContaining(['consent.status', 'payment.state.success', 'payment.state.failed']))
  })

  test('every status change is delivered, signed with each webhook’s own secret (HMAC-SHA256 of the raw body)', async () => {
    // Prepare: two consent webhooks and one for payments only.
    const first = receiver.newEndpoint()
    const second = receiver.newEndpoint()
    const payments = receiver.newEndpoint()
    const one = await yapily.registerWebhook({ callbackUrl: { main: { url: first } }, metadata: { env: 'test' } })
    const two = await yapily.registerWebhook({ callbackUrl: { main: { url: second } } })
    await yapily.registerWebhook({ categories: ['payment.state.success'], callbackUrl: { main: { url: payments } } })

    // Act
    const created = await yapily.createOk({ applicationUserId: 'hooked' })
    await decide(created.authorisationUrl as string, 'approve')
    await yapily.remove(created.id as string)
    await yapily.flush()

    // Assess
    const deliveries = receiver.at(first)
    expect(deliveries.map((delivery) => delivery.body.event.status)).toEqual(['AUTHORIZED', 'REVOKED'])
    expect(deliveries[0]?.body).toEqual({
      id: one.body.data.id,
      applicationId: APP_ID,
      type: 'consent.status',
      event: {
        consentId: created.id,
        status: 'AUTHORIZED',
        institutionId: 'modelo-sandbox',
        applicationUserId: 'hooked',
      },
      metadata: { env: 'test', tracingId: expect.stringMatching(UUID) },
    })
    // Each delivery has its own tracing id; the webhook's id is the same on all of them.
    expect(new Set(deliveries.map((delivery) => delivery.body.metadata.tracingId)).size).toBe(deliveries.length)
    expect(receiver.at(second).every((delivery) => delivery.body.id === two.body.data.id)).toBe(true)
    for (const [url, secret] of [
      [first, one.body.data.webhookSecret],
      [second, two.body.data.webhookSecret],
    ] as Array<[string, string]>) {
      for (const delivery of receiver.at(url)) {
        const expected = `sha256=${createHmac('sha256', secret).update(delivery.text).digest('hex')}`
        expect(delivery.headers['x-yapily-signature']).toBe(expected)
      }
    }
    expect(receiver.at(second)).toHaveLength(2)
    expect(receiver.at(payments)).toEqual([])
  })

  test('the signature header and the consent event type are options (both are guesses: docs/providers.md)', async () => {
    const configured = await startYapilySandbox({
      applications: [{ key: KEY, secret: SECRET, id: APP_ID }],
      callbacks: ['https://partner.example/'],
      webhookRetry: { baseDelayMs: 10, maxDelayMs: 40, attemptTimeoutMs: 2_000 },
      webhookSignatureHeader: 'Webhook-Signature',
      consentEventType: 'CONSENT_STATUS_UPDATE',
    })
    try {
      const client = new YapilyClient(configured.url)
      const url = receiver.newEndpoint()
      const categories = await client.call('GET', '/webhook/events/categories')
      const oldName = await client.registerWebhook({ callbackUrl: { main: { url } } })
      const hook = await client.registerWebhook({
        categories: ['CONSENT_STATUS_UPDATE'],
        callbackUrl: { main: { url } },
      })
      expect(hook.status, hook.text).toBe(201)

      const created = await client.createOk({ applicationUserId: 'configured-hook' })
      const decided = await decide(created.authorisationUrl as string, 'approve')
      expect(decided.status).toBe(302)
      await client.flush()

      expect(categories.body.data.categories.map((category: any) => category.name)).toContain('CONSENT_STATUS_UPDATE')
      expect(oldName.status).toBe(400)
      const [delivery] = receiver.at(url)
      expect(delivery?.body).toMatchObject({ type: 'CONSENT_STATUS_UPDATE', event: { consentId: created.id } })
      const expected = `sha256=${createHmac('sha256', hook.body.data.webhookSecret)
        .update(delivery?.text ?? '')
        .digest('hex')}`
      expect(delivery?.headers['webhook-signature']).toBe(expected)
      expect(delivery?.headers).not.toHaveProperty('x-yapily-signature')
    } finally {
      await configured.close()
    }
  })

  test('the embedded steps are observable as webhooks; another application’s webhooks hear nothing', async () => {
    const url = receiver.newEndpoint()
    const otherUrl = receiver.newEndpoint()
    await yapily.registerWebhook({ callbackUrl: { main: { url } } })
    await other.registerWebhook({ applicationId: OTHER.id, callbackUrl: { main: { url: otherUrl } } })

    await authorisedEmbeddedConsent()
    await yapily.flush()

    expect(receiver.at(url).map((delivery) => delivery.body.event.status)).toEqual([
      'AWAITING_SCA_METHOD',
      'AWAITING_SCA_CODE',
      'AUTHORIZED',
    ])
    expect(receiver.at(otherUrl)).toEqual([])
  })

  test('with signWebhooks off, deliveries carry no signature', async () => {
    const unsigned = await startYapilySandbox({ signWebhooks: false, callbacks: ['https://partner.example/'] })
    try {
      const client = new YapilyClient(unsigned.url)
      const url = receiver.newEndpoint()
      await client.registerWebhook({ callbackUrl: { main: { url } } })
      const created = await client.createOk()

      await decide(created.authorisationUrl as string, 'approve')
      await client.flush()

      expect(receiver.at(url)).toHaveLength(1)
      expect(receiver.at(url)[0]?.headers['x-yapily-signature']).toBeUndefined()
    } finally {
      await unsigned.close()
    }
  })
})

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

describe('one consent per account (issue 12)', () => {
  // Yapily, "Understanding Consents": "Some banks return one consent per account"; the callback then carries one
  // `consent` parameter per consent. `per-account-gb-sandbox` is such a bank, with two accounts.
  test('approval authorises one consent per account and the callback carries every token', async () => {
    const created = await yapily.createOk({ institutionId: 'per-account-gb-sandbox', applicationUserId: 'per-acc' })

    const decided = await decide(created.authorisationUrl as string, 'approve')

    expect(decided.status).toBe(302)
    const tokens = new URL(decided.location ?? '').searchParams.getAll('consent')
    expect(tokens).toHaveLength(2)
    const listed = await yapily.list('filter[applicationUserId]=per-acc&filter[institution]=per-account-gb-sandbox')
    const consents = listed.body.data as any[]
    expect(consents.map((consent) => consent.status)).toEqual(['AUTHORIZED', 'AUTHORIZED'])
    expect(consents.map((consent) => consent.consentToken).sort()).toEqual([...tokens].sort())
    expect(consents.map((consent) => consent.id)).toContain(created.id)
    expect((await yapily.consent(created.id as string)).consentToken).toBe(tokens[0])
    const accountIds = await Promise.all(
      tokens.map(async (token) => ((await yapily.accounts(token)).body.data as any[]).map((account) => account.id)),
    )
    expect(accountIds.map((ids) => ids.length)).toEqual([1, 1])
    expect(accountIds[0]).not.toEqual(accountIds[1])
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
