// The Worldline sandbox over real HTTP: signed token requests, AIS v3 consent rules, the hosted bank pages with
// multi-level SCA, supersession, expiry (at ValidUntilDate and at the bank), DELETE, notifications, directory, faults.
import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { RecordingReceiver } from '../support/webhook-receiver.ts'
import { startWorldlineSandbox, type WorldlineSandbox } from '../../sandbox/worldline/server.ts'

// Fixtures ------------------------------------------------------------------------------------------------------------

const S = '/xs2a/routingservice/services'
const A = `${S}/ob/ais/v3`
const STATIC_TOKEN = 'static-test-token'
const NOTIFICATION_TOKEN = 'test-notification-token'
const CLIENT_ID = 'tpp-client'
const KEY_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const DAY_MS = 24 * 3600 * 1000
const WINDOW_MS = 3 * DAY_MS
/** A fixed noon on the sandbox clock, so date rules never straddle midnight while a test runs. */
const NOON = '2030-06-15T12:00:00.000Z'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const FULL_PERMISSIONS = ['Accounts', 'Balances', 'Transactions']

/** The token endpoint's error body (Worldline's OAuth spec v1.4.5: `Error` over `MessageBody`). */
function tokenError(code: unknown) {
  return { code, message: expect.any(String), MessageCreateDateTime: expect.any(String), MessageId: expect.any(String) }
}

function rsaKeys(): { privateKey: KeyObject; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

/** `YYYY-MM-DD` of the day `days` after `from`, UTC. */
function dayAfter(from: string, days: number): string {
  return new Date(Date.parse(from) + days * DAY_MS).toISOString().slice(0, 10)
}

interface Answer {
  status: number
  body: any
  headers: Headers
  text: string
}

interface CreateOptions {
  psuId?: string
  body?: Record<string, unknown>
  headers?: Record<string, string>
}

/** Talks to one sandbox as the adapter does: signed token requests, AIS calls with the required headers, controls. */
class WorldlineClient {
  constructor(
    readonly baseUrl: string,
    readonly token = STATIC_TOKEN,
  ) {}

  async call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        'x-request-id': randomUUID(),
        messagecreatedatetime: new Date().toISOString(),
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body !== undefined && { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, text }
  }

  create(options: CreateOptions = {}): Promise<Answer> {
    const body = { AspspId: '20101', Permissions: FULL_PERMISSIONS, RecurringIndicator: true, ...options.body }
    return this.call('POST', `${A}/psus/${options.psuId ?? 'psu-1'}/consents`, { body, headers: options.headers })
  }

  async createOk(options: CreateOptions = {}) {
    const created = await this.create(options)
    expect(created.status, created.text).toBe(201)
    return created.body as { ConsentId: string; ConsentStatus: string; Links: any }
  }

  status(consentId: string, psuId = 'psu-1') {
    return this.call('GET', `${A}/psus/${psuId}/consents/${consentId}/status`)
  }

  async statusOf(consentId: string, psuId = 'psu-1'): Promise<string> {
    return (await this.status(consentId, psuId)).body.ConsentStatus as string
  }

  startAuthorisation(consentId: string, psuId = 'psu-1') {
    return this.call('POST', `${A}/psus/${psuId}/consents/${consentId}/authorisations`)
  }

  remove(consentId: string, psuId = 'psu-1') {
    return this.call('DELETE', `${A}/psus/${psuId}/consents/${consentId}`)
  }

  accounts(aspspId = '20101', psuId = 'psu-1') {
    return this.call('GET', `${A}/psus/${psuId}/aspsps/${aspspId}/accounts`)
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

  setClock(iso: string) {
    return this.control('clock', { set: iso })
  }

  advanceSeconds(seconds: number) {
    return this.control('clock', { advanceSeconds: seconds })
  }

  async sandboxNow(): Promise<Date> {
    return new Date((await this.control('clock', undefined, 'GET')).body.now as string)
  }

  /** Waits until every notification is delivered; returns the dispatcher's log. */
  async flush(): Promise<Array<{ url: string; body: string; state: string }>> {
    return (await this.control('webhooks/flush')).body.deliveries
  }
}

interface SignedTokenRequest {
  privateKey?: KeyObject
  keyId?: string
  date?: Date
  headers?: Record<string, string | undefined>
  signedHeaders?: string
  algorithm?: string
  contentType?: string
  body?: string
}

/** A token request signed as Worldline's OAuth spec v1.4.5 asks (draft-cavage over `app client id date`). */
async function requestToken(baseUrl: string, request: SignedTokenRequest = {}): Promise<Answer> {
  const headers: Record<string, string | undefined> = {
    app: 'AIS',
    client: CLIENT_ID,
    id: '433:5',
    date: (request.date ?? new Date()).toUTCString(),
    ...request.headers,
  }
  const signedHeaders = request.signedHeaders ?? 'app client id date'
  const signingString = signedHeaders
    .split(' ')
    .map((name) => `${name}: ${(headers[name] ?? '').trim()}`)
    .join('\n')
  const signature = createSign('RSA-SHA256')
    .update(signingString)
    .sign(request.privateKey ?? keys.privateKey, 'base64')
  const authorization =
    `Signature keyId="${request.keyId ?? KEY_ID}",algorithm="${request.algorithm ?? 'SHA256withRSA'}",` +
    `headers="${signedHeaders}",signature="${signature}"`
  const sent: Record<string, string> = {
    'content-type': request.contentType ?? 'application/x-www-form-urlencoded',
    authorization,
  }
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) sent[name] = value
  const response = await fetch(`${baseUrl}${S}/authorize/token`, {
    method: 'POST',
    headers: sent,
    body: request.body ?? 'grant_type=client_credentials',
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, text }
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

async function openPage(url: string): Promise<{ status: number; html: string; form: PageForm | undefined }> {
  const response = await fetch(url)
  const html = await response.text()
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html)
  if (!form) return { status: response.status, html, form: undefined }
  const formAttributes = attributes(form[1] ?? '')
  const inner = form[2] ?? ''
  return {
    status: response.status,
    html,
    form: {
      action: new URL(formAttributes.action ?? '', url),
      method: (formAttributes.method ?? 'get').toLowerCase(),
      inputs: [...inner.matchAll(/<input\b([^>]*)>/gi)].map((input) => {
        const { name = '', value = '', type = 'text' } = attributes(input[1] ?? '')
        return { name, value, type }
      }),
      buttons: [...inner.matchAll(/<button\b([^>]*)>/gi)].map((button) => {
        const { name = '', value = '' } = attributes(button[1] ?? '')
        return { name, value }
      }),
    },
  }
}

/** Submits the form with `decision` and the given field overrides; redirects are not followed. */
async function submit(form: PageForm | undefined, decision: string, fields: Record<string, string> = {}) {
  if (!form) throw new Error('the page has no form')
  const values = new URLSearchParams(form.inputs.map((input) => [input.name, fields[input.name] ?? input.value]))
  values.append('decision', decision)
  return fetch(form.action, {
    method: form.method.toUpperCase(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: values.toString(),
    redirect: 'manual',
  })
}

/** Opens the bank page and decides, as a user would. */
async function decide(pageUrl: string, decision: 'approve' | 'deny', fields: Record<string, string> = {}) {
  const page = await openPage(pageUrl)
  expect(page.status, page.html).toBe(200)
  return submit(page.form, decision, fields)
}

/** Creates a consent and approves it with one holder. */
async function authorisedConsent(options: CreateOptions = {}): Promise<string> {
  const created = await worldline.createOk(options)
  await decide(created.Links.RedirectUrl.Href, 'approve')
  expect(await worldline.statusOf(created.ConsentId, options.psuId)).toBe('Authorised')
  return created.ConsentId
}

function notificationHeaders(base: string): Record<string, string> {
  return { initiatingpartynotificationurl: `${base}/v3` }
}

function statusesAt(base: string): string[] {
  return receiver.at(`${new URL(base).pathname}/v3/notification/status`).map((n) => n.body.ConsentStatus as string)
}

// Setup ---------------------------------------------------------------------------------------------------------------

const receiver = new RecordingReceiver()
const keys = rsaKeys()
const rotatedKeys = rsaKeys()
let sandbox: WorldlineSandbox
let worldline: WorldlineClient

beforeAll(async () => {
  await receiver.start()
  sandbox = await startWorldlineSandbox({
    clients: [
      { clientId: CLIENT_ID, keyId: KEY_ID, publicKeyPem: keys.publicKeyPem },
      { clientId: CLIENT_ID, keyId: 'rotated-key', publicKeyPem: rotatedKeys.publicKeyPem },
    ],
    staticToken: STATIC_TOKEN,
    notificationToken: NOTIFICATION_TOKEN,
    webhookRetry: { baseDelayMs: 10, maxDelayMs: 40, attemptTimeoutMs: 2_000 },
  })
  worldline = new WorldlineClient(sandbox.url)
})

afterAll(async () => {
  await sandbox?.close()
  await receiver.close()
})

beforeEach(async () => {
  await worldline.control('reset')
})

// Tests ---------------------------------------------------------------------------------------------------------------

describe('token endpoint', () => {
  test('a request signed with the registered key gets a Bearer token that the AIS API accepts', async () => {
    // Act
    const issued = await requestToken(sandbox.url)
    const withToken = new WorldlineClient(sandbox.url, issued.body.access_token as string)
    const created = await withToken.create()

    // Assess
    expect(issued.status).toBe(200)
    expect(Object.keys(issued.body).sort()).toEqual(['access_token', 'expires_in', 'token_type'])
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 })
    expect(issued.body.access_token).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(created.status).toBe(201)
  })

  test('a second registered key of the same client (rotation), rsa-sha256 and a charset are accepted', async () => {
    const rotated = await requestToken(sandbox.url, { privateKey: rotatedKeys.privateKey, keyId: 'rotated-key' })
    const spelled = await requestToken(sandbox.url, {
      algorithm: 'rsa-sha256',
      contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
    })

    expect(rotated.status).toBe(200)
    expect(spelled.status).toBe(200)
  })

  test('JSON, or no content type, is refused with 415', async () => {
    const json = await requestToken(sandbox.url, {
      contentType: 'application/json',
      body: '{"grant_type":"client_credentials"}',
    })
    const none = await fetch(`${sandbox.url}${S}/authorize/token`, { method: 'POST' })

    expect(json.status).toBe(415)
    expect(json.body.code).toBe('158')
    expect(none.status).toBe(415)
  })

  test.each(['grant_type=password', 'grant_type=authorization_code&code=x', ''])(
    'body %j is refused with 400 code 001',
    async (body) => {
      const refused = await requestToken(sandbox.url, { body })

      expect(refused.status).toBe(400)
      expect(refused.body).toEqual(tokenError('001'))
    },
  )

  test.each([
    ['a key that is not the registered one', { privateKey: rotatedKeys.privateKey }],
    ['an unknown keyId', { keyId: 'not-registered' }],
    ['an unknown client', { headers: { client: 'someone-else' } }],
    ['a random Id, not the Initiating Party id (and sub id)', { headers: { id: randomUUID() } }],
    ['App other than AIS', { headers: { app: 'IDEAL' } }],
    ['no App header', { headers: { app: undefined }, signedHeaders: 'client id date' }],
    ['no Id header', { headers: { id: undefined }, signedHeaders: 'app client date' }],
    ['a signature that does not cover date', { signedHeaders: 'app client id' }],
    ['another algorithm', { algorithm: 'hmac-sha256' }],
  ] as Array<[string, SignedTokenRequest]>)('%s is refused with 401 and a numeric code', async (_case, request) => {
    const refused = await requestToken(sandbox.url, request)

    expect(refused.status).toBe(401)
    expect(refused.body).toEqual(tokenError(expect.stringMatching(/^(001|003|007|101)$/)))
  })

  test('a header changed after signing fails the signature check', async () => {
    // Sign one Id, send another: the signing string the sandbox rebuilds no longer matches.
    const { privateKey } = keys
    const date = new Date().toUTCString()
    const signature = createSign('RSA-SHA256')
      .update(`app: AIS\nclient: ${CLIENT_ID}\nid: original\ndate: ${date}`)
      .sign(privateKey, 'base64')

    const refused = await fetch(`${sandbox.url}${S}/authorize/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        app: 'AIS',
        client: CLIENT_ID,
        id: '434',
        date,
        authorization: `Signature keyId="${KEY_ID}",algorithm="SHA256withRSA",headers="app client id date",signature="${signature}"`,
      },
      body: 'grant_type=client_credentials',
    })

    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { code: string }).code).toBe('003')
  })

  test('a Date more than 5 minutes off the sandbox clock is refused, also after the clock moves', async () => {
    const stale = await requestToken(sandbox.url, { date: new Date(Date.now() - 6 * 60_000) })
    const slightlyOff = await requestToken(sandbox.url, { date: new Date(Date.now() + 4 * 60_000) })
    const unparsable = await requestToken(sandbox.url, { headers: { date: 'yesterday' } })
    await worldline.advanceSeconds(3600)
    const realTime = await requestToken(sandbox.url, { date: new Date() })
    const sandboxTime = await requestToken(sandbox.url, { date: await worldline.sandboxNow() })

    expect(stale.status).toBe(401)
    expect(stale.body.code).toMatch(/^(001|003|007|101)$/)
    expect(slightlyOff.status).toBe(200)
    expect(unparsable.body.code).toMatch(/^(001|003|007|101)$/)
    expect(realTime.body.code).toMatch(/^(001|003|007|101)$/)
    expect(sandboxTime.status).toBe(200)
  })

  test('issued tokens expire on the sandbox clock; the static token never does', async () => {
    const issued = await requestToken(sandbox.url)
    const withToken = new WorldlineClient(sandbox.url, issued.body.access_token as string)

    await worldline.advanceSeconds(3590)
    const beforeExpiry = await withToken.accounts()
    await worldline.advanceSeconds(20)
    const afterExpiry = await withToken.accounts()
    await worldline.advanceSeconds(365 * 24 * 3600)
    const staticToken = await worldline.accounts()

    // 400 code 122 (The PSU consent is not valid): the token is good, there is just no consent yet.
    expect(beforeExpiry.status).toBe(400)
    // Open Banking PIS v3.6.0's error table (shared by AIS): 403 017 "Initiating party access token is expired".
    expect(afterExpiry.status).toBe(403)
    expect(afterExpiry.body).toEqual({ Code: '017', Message: 'Initiating party access token is expired' })
    expect(staticToken.status).toBe(400)
  })

  describe('with no registered client', () => {
    let open: WorldlineSandbox

    beforeAll(async () => {
      open = await startWorldlineSandbox()
    })

    afterAll(async () => {
      await open?.close()
    })

    test('any signature is accepted, but the headers and a Signature are still required', async () => {
      const anyKey = await requestToken(open.url, { privateKey: rotatedKeys.privateKey, keyId: 'whatever' })
      const noClient = await requestToken(open.url, { headers: { client: undefined }, signedHeaders: 'app id date' })
      const bearer = await fetch(`${open.url}${S}/authorize/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          app: 'AIS',
          client: 'c',
          id: '1',
          date: new Date().toUTCString(),
          authorization: 'Bearer something',
        },
        body: 'grant_type=client_credentials',
      })

      expect(anyKey.status).toBe(200)
      expect(noClient.body.code).toMatch(/^(001|003|007|101)$/)
      expect(bearer.status).toBe(401)
      // No static token unless configured.
      expect((await new WorldlineClient(open.url).accounts()).status).toBe(401)
    })
  })
})

describe('AIS call headers', () => {
  test('X-Request-ID is echoed and every answer is dated by the sandbox clock', async () => {
    await worldline.setClock(NOON)
    const requestId = randomUUID()

    const created = await worldline.create({ headers: { 'x-request-id': requestId } })
    const refused = await worldline.create({ headers: { 'x-request-id': requestId }, body: { AspspId: 'nope' } })

    expect(created.headers.get('x-request-id')).toBe(requestId)
    expect(refused.headers.get('x-request-id')).toBe(requestId)
    const dated = Date.parse(created.headers.get('date') ?? '')
    expect(Math.abs(dated - Date.parse(NOON))).toBeLessThan(60_000)
  })

  test('no token, an unknown token and a malformed Authorization are 401 code "021" (Unauthorized)', async () => {
    const none = await worldline.call('GET', `${A}/psus/psu-1/aspsps/20101/accounts`, {
      headers: { authorization: '' },
    })
    const unknown = await new WorldlineClient(sandbox.url, 'not-a-token').accounts()
    const basic = await worldline.call('GET', `${A}/psus/psu-1/aspsps/20101/accounts`, {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    })

    for (const answer of [none, unknown, basic]) {
      expect(answer.status).toBe(401)
      expect(answer.body).toEqual({ Code: '021', Message: expect.any(String) })
      expect(answer.headers.get('www-authenticate')).toBe('Bearer')
    }
  })

  test.each([
    ['no X-Request-ID', { 'x-request-id': '' }],
    ['an X-Request-ID that is not a UUID', { 'x-request-id': 'req-1' }],
    ['no MessageCreateDateTime', { messagecreatedatetime: '' }],
    ['a MessageCreateDateTime that is not ISO-8601', { messagecreatedatetime: 'Mon, 01 Jan 2030 10:00:00 GMT' }],
  ])('%s is 400 code "002" (not as the schema defines it)', async (_case, headers) => {
    const answer = await worldline.create({ headers })

    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({ Code: '002', Message: expect.any(String) })
  })

  test('malformed JSON is 400 code "002"; an unknown path is 404 code "110" (Resource could not be found)', async () => {
    const malformed = await worldline.call('POST', `${A}/psus/psu-1/consents`, { body: '{"AspspId": ' })
    const unknown = await worldline.call('GET', `${A}/psus/psu-1/consents`)

    expect(malformed.status).toBe(400)
    expect(malformed.body.Code).toBe('002')
    expect(unknown.status).toBe(404)
    expect(unknown.body.Code).toBe('110')
  })
})

describe('create consent', () => {
  beforeEach(async () => {
    await worldline.setClock(NOON)
  })

  test('201: ConsentId, Open, a RedirectUrl to the bank page and a working GetConsentStatus link', async () => {
    const created = await worldline.create({
      psuId: 'psu-create',
      body: { AspspId: '20116', Permissions: ['Accounts', 'Balances'], ValidUntilDate: '2030-09-01' },
    })

    expect(created.status).toBe(201)
    expect(Object.keys(created.body).sort()).toEqual(['ConsentId', 'ConsentStatus', 'Links'])
    expect(created.body.ConsentId).toMatch(UUID)
    expect(created.body.ConsentStatus).toBe('Open')
    expect(Object.keys(created.body.Links).sort()).toEqual(['GetConsentStatus', 'RedirectUrl'])
    expect(created.body.Links.RedirectUrl.Href).toMatch(new RegExp(`^${sandbox.url}/bank/sca/`))
    const statusHref: string = created.body.Links.GetConsentStatus.Href
    expect(statusHref).toBe(`${sandbox.url}${A}/psus/psu-create/consents/${created.body.ConsentId}/status`)
    const status = await worldline.call('GET', statusHref.slice(sandbox.url.length))
    expect(status.status).toBe(200)
    expect(status.body).toEqual({
      ConsentId: created.body.ConsentId,
      ConsentStatus: 'Open',
      AspspId: '20116',
      PsuId: 'psu-create',
      Permissions: ['Accounts', 'Balances'],
      ValidUntilDate: '2030-09-01T23:59:59.999Z',
      RecurringIndicator: true,
      NumberOfAuthorisationsRequired: 1,
      NumberOfAuthorisationsDone: 0,
      Links: created.body.Links,
    })
  })

  test.each([['20101'], ['20116'], ['20102']])('ASPSP %s is known', async (aspspId) => {
    expect((await worldline.create({ body: { AspspId: aspspId } })).status).toBe(201)
  })

  test('an unknown AspspId is 404 code "104" (The Aspsp is unknown)', async () => {
    const refused = await worldline.create({ body: { AspspId: '99999' } })

    expect(refused.status).toBe(404)
    expect(refused.body).toEqual({ Code: '104', Message: expect.any(String) })
  })

  test.each([[20101], [undefined]])('AspspId %j (not a string) is 400', async (aspspId) => {
    expect((await worldline.create({ body: { AspspId: aspspId } })).status).toBe(400)
  })

  test.each([
    [['Accounts'], ['Accounts']],
    [
      ['Balances', 'Accounts'],
      ['Accounts', 'Balances'],
    ],
    [
      ['Transactions', 'Accounts'],
      ['Accounts', 'Transactions'],
    ],
    [['Transactions', 'Balances', 'Accounts'], FULL_PERMISSIONS],
  ])('Permissions %j are accepted and stored as %j', async (permissions, stored) => {
    const created = await worldline.createOk({ body: { Permissions: permissions } })

    expect((await worldline.status(created.ConsentId)).body.Permissions).toEqual(stored)
  })

  test.each([
    [[]],
    [['Balances']],
    [['Transactions']],
    [['Balances', 'Transactions']],
    [['Accounts', 'Accounts']],
    [['Accounts', 'Payments']],
    [['accounts']],
    ['Accounts'],
    [undefined],
  ])('Permissions %j are 400 code 001 (Bad client request)', async (permissions) => {
    const refused = await worldline.create({ body: { Permissions: permissions } })

    expect(refused.status).toBe(400)
    expect(refused.body.Code).toBe('001')
  })

  test('ValidUntilDate from today up to 180 days ahead is accepted; absent means 180 days', async () => {
    const today = await worldline.createOk({ body: { ValidUntilDate: '2030-06-15' } })
    const longest = await worldline.createOk({ body: { ValidUntilDate: dayAfter(NOON, 180) } })
    const absent = await worldline.createOk({ body: { ValidUntilDate: undefined } })

    expect((await worldline.status(today.ConsentId)).body.ValidUntilDate).toBe('2030-06-15T23:59:59.999Z')
    expect((await worldline.status(longest.ConsentId)).body.ValidUntilDate).toBe('2030-12-12T23:59:59.999Z')
    expect((await worldline.status(absent.ConsentId)).body.ValidUntilDate).toBe('2030-12-12T23:59:59.999Z')
  })

  test.each([
    ['2030-06-14', '001'],
    [dayAfter(NOON, 181), '001'],
    ['2030-02-30', '002'],
    ['15-06-2030', '002'],
    ['2030-06-20T00:00:00Z', '002'],
    [20300620, '002'],
  ])('ValidUntilDate %j is 400 code %s (001 outside the allowed days, 002 not a date)', async (validUntil, code) => {
    const refused = await worldline.create({ body: { ValidUntilDate: validUntil } })

    expect(refused.status).toBe(400)
    expect(refused.body.Code).toBe(code)
  })

  test('RecurringIndicator false is kept; a non-boolean is 400', async () => {
    const created = await worldline.createOk({ body: { RecurringIndicator: false } })
    const refused = await worldline.create({ body: { RecurringIndicator: 'yes' } })

    expect((await worldline.status(created.ConsentId)).body.RecurringIndicator).toBe(false)
    expect(refused.status).toBe(400)
  })

  test('notification URL form A (ends in /v3): notifications go to {url}/notification/status', async () => {
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({ headers: { initiatingpartynotificationurl: `${base}/v3` } })

    await openPage(created.Links.RedirectUrl.Href)
    await worldline.flush()

    expect(receiver.at(`${new URL(base).pathname}/v3/notification/status`)).toHaveLength(1)
  })

  test('form A with NotificationVersion is 400 code 001 (Bad client request)', async () => {
    const refused = await worldline.create({
      headers: { initiatingpartynotificationurl: 'https://tpp.example/hooks/v2', notificationversion: 'v2' },
    })

    expect(refused.status).toBe(400)
    expect(refused.body.Code).toBe('001')
  })

  test('notification URL form B is used as is and needs NotificationVersion v2 or v3 (else 400 code 133)', async () => {
    const base = receiver.newEndpoint()
    const missing = await worldline.create({ headers: { initiatingpartynotificationurl: `${base}/status` } })
    const wrong = await worldline.create({
      headers: { initiatingpartynotificationurl: `${base}/status`, notificationversion: 'v4' },
    })
    const created = await worldline.createOk({
      headers: { initiatingpartynotificationurl: `${base}/status`, notificationversion: 'v2' },
    })

    await openPage(created.Links.RedirectUrl.Href)
    await worldline.flush()

    expect(missing.status).toBe(400)
    expect(missing.body.Code).toBe('133')
    expect(wrong.body.Code).toBe('133')
    expect(receiver.at(`${new URL(base).pathname}/status`).map((n) => n.body.ConsentStatus)).toEqual(['Pending'])
  })

  test('a notification or return URL that is not an absolute http(s) URL is 400', async () => {
    const badNotification = await worldline.create({ headers: { initiatingpartynotificationurl: 'tpp/v3' } })
    const badReturn = await worldline.create({ headers: { initiatingpartyreturnurl: 'ftp://tpp.example/back' } })

    expect(badNotification.status).toBe(400)
    expect(badReturn.status).toBe(400)
  })

  test("an unknown consent, and another PSU's consent, are 404 code 110 (Resource could not be found)", async () => {
    const created = await worldline.createOk({ psuId: 'psu-a' })

    const otherPsu = await worldline.status(created.ConsentId, 'psu-b')
    const unknown = await worldline.status(randomUUID(), 'psu-a')
    const deleteOther = await worldline.remove(created.ConsentId, 'psu-b')

    for (const answer of [otherPsu, unknown, deleteOther]) {
      expect(answer.status).toBe(404)
      expect(answer.body.Code).toBe('110')
    }
    expect(await worldline.statusOf(created.ConsentId, 'psu-a')).toBe('Open')
  })
})

describe('bank page: one holder', () => {
  test('open -> Pending; approve -> Authorised, 303 back with consentId and status; accounts answer 200', async () => {
    // Prepare
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({
      headers: {
        ...notificationHeaders(base),
        initiatingpartyreturnurl: 'https://tpp.example/return?ref=a%20b#done',
      },
    })
    const pageUrl: string = created.Links.RedirectUrl.Href

    // Act
    const page = await openPage(pageUrl)
    const pending = (await worldline.status(created.ConsentId)).body
    const answer = await submit(page.form, 'approve')
    const authorised = (await worldline.status(created.ConsentId)).body
    const accounts = await worldline.accounts('20101')

    // Assess: the page follows the automation contract, with the holder count on the first holder's page.
    expect(page.status).toBe(200)
    expect(page.html).toContain('Brabant Sandbox Bank')
    expect(page.html).toContain('Account holders who must approve')
    expect(page.form?.method).toBe('post')
    expect(page.form?.action.href).toBe(pageUrl)
    expect(page.form?.buttons).toEqual([
      { name: 'decision', value: 'approve' },
      { name: 'decision', value: 'deny' },
    ])
    expect(page.form?.inputs).toEqual([{ name: 'holders', value: '1', type: 'number' }])
    // Assess: statuses and links.
    expect(pending.ConsentStatus).toBe('Pending')
    expect(Object.keys(pending.Links).sort()).toEqual(['GetConsentStatus', 'RedirectUrl'])
    expect(authorised).toMatchObject({
      ConsentStatus: 'Authorised',
      NumberOfAuthorisationsRequired: 1,
      NumberOfAuthorisationsDone: 1,
    })
    expect(Object.keys(authorised.Links)).toEqual(['GetConsentStatus'])
    // Assess: back to the TPP, its own query and fragment kept.
    expect(answer.status).toBe(303)
    const location = new URL(answer.headers.get('location') ?? '')
    expect(location.origin + location.pathname).toBe('https://tpp.example/return')
    expect(location.searchParams.get('ref')).toBe('a b')
    expect(location.searchParams.get('consentId')).toBe(created.ConsentId)
    expect(location.searchParams.get('status')).toBe('Authorised')
    expect(location.hash).toBe('#done')
    // Assess: the bank's accounts.
    expect(accounts.status).toBe(200)
    expect(accounts.body).toEqual({
      Accounts: [
        { AccountId: expect.stringMatching(UUID), Iban: 'BE68539007547034', Currency: 'EUR', Name: 'Zichtrekening' },
      ],
    })
    // Assess: one notification per change, Open excluded.
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised'])
  })

  test('a notification carries the Bearer token, the required headers and the documented JSON fields', async () => {
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({ psuId: 'psu-n', headers: notificationHeaders(base) })

    await decide(created.Links.RedirectUrl.Href, 'approve')
    const deliveries = await worldline.flush()

    const [, authorised] = receiver.at(`${new URL(base).pathname}/v3/notification/status`)
    expect(authorised?.headers.authorization).toBe(`Bearer ${NOTIFICATION_TOKEN}`)
    expect(authorised?.headers['content-type']).toBe('application/json')
    expect(authorised?.headers['x-request-id']).toMatch(UUID)
    expect(authorised?.headers['messagecreatedatetime']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(authorised?.body).toEqual({ ConsentId: created.ConsentId, ConsentStatus: 'Authorised', AspspId: '20101' })
    expect(deliveries.every((delivery) => delivery.state === 'delivered')).toBe(true)
  })

  test('deny -> Rejected and 303 with status=Rejected; the data call finds no consent (400 code 122)', async () => {
    const created = await worldline.createOk({ headers: { initiatingpartyreturnurl: 'https://tpp.example/return' } })

    const answer = await decide(created.Links.RedirectUrl.Href, 'deny')

    expect(answer.status).toBe(303)
    expect(new URL(answer.headers.get('location') ?? '').searchParams.get('status')).toBe('Rejected')
    expect(await worldline.statusOf(created.ConsentId)).toBe('Rejected')
    const accounts = await worldline.accounts()
    expect(accounts.status).toBe(400)
    expect(accounts.body.Code).toBe('122')
  })

  test('a page already decided is a 409 error page, and posting it again changes nothing', async () => {
    const created = await worldline.createOk()
    const page = await openPage(created.Links.RedirectUrl.Href)
    await submit(page.form, 'approve')

    const reopened = await openPage(created.Links.RedirectUrl.Href)
    const resubmitted = await submit(page.form, 'deny')
    const unknown = await openPage(`${sandbox.url}/bank/sca/nope`)

    expect(reopened.status).toBe(409)
    expect(reopened.form).toBeUndefined()
    expect(resubmitted.status).toBe(409)
    expect(unknown.status).toBe(404)
    expect(await worldline.statusOf(created.ConsentId)).toBe('Authorised')
  })

  test('without a return URL the decision shows a result page; a decision posted without opening works too', async () => {
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({ headers: notificationHeaders(base) })

    const answer = await fetch(created.Links.RedirectUrl.Href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=approve',
      redirect: 'manual',
    })

    expect(answer.status).toBe(200)
    expect(await answer.text()).toContain('Authorised')
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised'])
  })

  test.each(['0', '6', '1.5', 'two'])('holders=%s is a 400 error page and changes nothing', async (holders) => {
    const created = await worldline.createOk()
    const page = await openPage(created.Links.RedirectUrl.Href)

    const answer = await submit(page.form, 'approve', { holders })

    expect(answer.status).toBe(400)
    expect(await worldline.statusOf(created.ConsentId)).toBe('Pending')
  })

  test('a form without a decision is a 400 error page', async () => {
    const created = await worldline.createOk()

    const answer = await fetch(created.Links.RedirectUrl.Href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=maybe',
    })

    expect(answer.status).toBe(400)
    expect(await worldline.statusOf(created.ConsentId)).toBe('Open')
  })
})

describe('bank page: multi-level SCA', () => {
  test('2 holders: PartiallyAuthorised with StartAuthorisation; the second holder approves -> Authorised', async () => {
    // Prepare
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({
      headers: { ...notificationHeaders(base), initiatingpartyreturnurl: 'https://tpp.example/return' },
    })

    // Act: the first holder declares two holders and approves.
    const first = await decide(created.Links.RedirectUrl.Href, 'approve', { holders: '2' })
    const partial = (await worldline.status(created.ConsentId)).body
    const accountsMeanwhile = await worldline.accounts()
    // Act: the next holder's authorisation, asked for twice (as a client polling would).
    const started = await worldline.startAuthorisation(created.ConsentId)
    const repeated = await worldline.startAuthorisation(created.ConsentId)
    const holderPage = await openPage(started.body.Links.RedirectUrl.Href)
    const second = await submit(holderPage.form, 'approve')
    const authorised = (await worldline.status(created.ConsentId)).body
    const afterwards = await worldline.startAuthorisation(created.ConsentId)

    // Assess
    expect(first.status).toBe(303)
    expect(new URL(first.headers.get('location') ?? '').searchParams.get('status')).toBe('PartiallyAuthorised')
    expect(partial).toMatchObject({
      ConsentStatus: 'PartiallyAuthorised',
      NumberOfAuthorisationsRequired: 2,
      NumberOfAuthorisationsDone: 1,
    })
    expect(partial.Links.StartAuthorisation).toEqual({
      Href: `${sandbox.url}${A}/psus/psu-1/consents/${created.ConsentId}/authorisations`,
    })
    expect(partial.Links).not.toHaveProperty('RedirectUrl')
    expect(accountsMeanwhile.status).toBe(400)
    expect(started.status).toBe(201)
    expect(started.body).toEqual({
      AuthorisationId: expect.stringMatching(UUID),
      ScaStatus: 'Started',
      Links: { RedirectUrl: { Href: expect.stringMatching(new RegExp(`^${sandbox.url}/bank/sca/`)) } },
    })
    expect(started.body.Links.RedirectUrl.Href).not.toBe(created.Links.RedirectUrl.Href)
    expect(repeated.status).toBe(201)
    expect(repeated.body).toEqual(started.body)
    expect(holderPage.status).toBe(200)
    expect(holderPage.html).toContain('2 of 2')
    expect(holderPage.form?.inputs).toEqual([])
    expect(second.status).toBe(303)
    expect(new URL(second.headers.get('location') ?? '').searchParams.get('status')).toBe('Authorised')
    expect(authorised).toMatchObject({
      ConsentStatus: 'Authorised',
      NumberOfAuthorisationsRequired: 2,
      NumberOfAuthorisationsDone: 2,
    })
    expect(afterwards.status).toBe(400)
    expect(afterwards.body.Code).toBe('001')
    expect((await worldline.accounts()).status).toBe(200)
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'PartiallyAuthorised', 'Authorised'])
  })

  test('3 holders: the middle approval counts without a status change; each holder gets a new page', async () => {
    const created = await worldline.createOk()
    await decide(created.Links.RedirectUrl.Href, 'approve', { holders: '3' })

    const second = await worldline.startAuthorisation(created.ConsentId)
    await decide(second.body.Links.RedirectUrl.Href, 'approve')
    const middle = (await worldline.status(created.ConsentId)).body
    const third = await worldline.startAuthorisation(created.ConsentId)
    const stalePage = await openPage(second.body.Links.RedirectUrl.Href)
    await decide(third.body.Links.RedirectUrl.Href, 'approve')

    expect(middle).toMatchObject({ ConsentStatus: 'PartiallyAuthorised', NumberOfAuthorisationsDone: 2 })
    expect(third.body.AuthorisationId).not.toBe(second.body.AuthorisationId)
    expect(stalePage.status).toBe(409)
    expect(await worldline.statusOf(created.ConsentId)).toBe('Authorised')
  })

  test('a further holder who denies makes the consent Rejected', async () => {
    const created = await worldline.createOk()
    await decide(created.Links.RedirectUrl.Href, 'approve', { holders: '2' })
    const started = await worldline.startAuthorisation(created.ConsentId)

    await decide(started.body.Links.RedirectUrl.Href, 'deny')

    expect(await worldline.statusOf(created.ConsentId)).toBe('Rejected')
  })

  test('POST authorisations outside PartiallyAuthorised is 400 code 001 (Bad client request)', async () => {
    const created = await worldline.createOk()

    const refused = await worldline.startAuthorisation(created.ConsentId)
    const unknown = await worldline.startAuthorisation(randomUUID())

    expect(refused.status).toBe(400)
    expect(refused.body.Code).toBe('001')
    expect(unknown.status).toBe(404)
  })
})

describe('supersession', () => {
  test('authorising a newer consent makes the older one Inactive; data calls use the newer one', async () => {
    // Prepare
    const base = receiver.newEndpoint()
    const older = await authorisedConsent({ headers: notificationHeaders(base) })
    const olderAccounts = (await worldline.accounts()).body.Accounts
    const otherBank = await authorisedConsent({ body: { AspspId: '20116' } })
    const otherPsu = await authorisedConsent({ psuId: 'psu-2' })

    // Act
    const newer = await authorisedConsent()
    const newerAccounts = (await worldline.accounts()).body.Accounts

    // Assess
    expect(await worldline.statusOf(older)).toBe('Inactive')
    expect(await worldline.statusOf(newer)).toBe('Authorised')
    expect(await worldline.statusOf(otherBank)).toBe('Authorised')
    expect(await worldline.statusOf(otherPsu, 'psu-2')).toBe('Authorised')
    expect(newerAccounts[0].AccountId).not.toBe(olderAccounts[0].AccountId)
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised', 'Inactive'])
  })
})

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

describe('delete consent', () => {
  test('204 with an empty body: Revoked, notified; data calls 400 code 122; a repeat is 204 with no change', async () => {
    const base = receiver.newEndpoint()
    const consentId = await authorisedConsent({ headers: notificationHeaders(base) })

    const first = await worldline.remove(consentId)
    const second = await worldline.remove(consentId)

    for (const answer of [first, second]) {
      expect(answer.status).toBe(204)
      expect(answer.text).toBe('')
    }
    expect(await worldline.statusOf(consentId)).toBe('Revoked')
    const accounts = await worldline.accounts()
    expect(accounts.status).toBe(400)
    expect(accounts.body.Code).toBe('122')
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised', 'Revoked'])
  })

  test('with bank-delete-fails on, DELETE gives RevokedAtTpp; turned off, Revoked again', async () => {
    const toggledOn = await worldline.control('bank-delete-fails', { enabled: true })
    const failing = await authorisedConsent()
    await worldline.remove(failing)
    const open = await worldline.createOk({ psuId: 'psu-open' })
    await worldline.remove(open.ConsentId, 'psu-open')
    await worldline.control('bank-delete-fails', { enabled: false })
    const working = await authorisedConsent({ psuId: 'psu-3' })
    await worldline.remove(working, 'psu-3')

    expect(toggledOn.body).toEqual({ enabled: true })
    expect(await worldline.statusOf(failing)).toBe('RevokedAtTpp')
    expect(await worldline.statusOf(open.ConsentId, 'psu-open')).toBe('RevokedAtTpp')
    expect(await worldline.statusOf(working, 'psu-3')).toBe('Revoked')
    expect((await worldline.control('bank-delete-fails', { enabled: 'yes' })).status).toBe(400)
  })

  test('an Open consent is Revoked and its page is gone (409); Rejected and Expired stay as they are', async () => {
    await worldline.setClock(NOON)
    const open = await worldline.createOk()
    const rejected = await worldline.createOk()
    await decide(rejected.Links.RedirectUrl.Href, 'deny')
    const expired = await authorisedConsent({ psuId: 'psu-x', body: { ValidUntilDate: '2030-06-15' } })
    await worldline.setClock('2030-06-16T00:00:01.000Z')

    const answers = [
      await worldline.remove(open.ConsentId),
      await worldline.remove(rejected.ConsentId),
      await worldline.remove(expired, 'psu-x'),
    ]

    expect(answers.map((answer) => answer.status)).toEqual([204, 204, 204])
    expect(await worldline.statusOf(open.ConsentId)).toBe('Revoked')
    expect((await openPage(open.Links.RedirectUrl.Href)).status).toBe(409)
    expect(await worldline.statusOf(rejected.ConsentId)).toBe('Rejected')
    expect(await worldline.statusOf(expired, 'psu-x')).toBe('Expired')
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

describe('ASPSP directory', () => {
  const directory = (headers: Record<string, string> = {}) =>
    worldline.call('GET', `${S}/directory/v3/aspsps?allDetails=true`, { headers: { service: 'AIS', ...headers } })

  test('lists the three sandbox banks with the documented entry fields', async () => {
    const listed = await directory()

    expect(listed.status).toBe(200)
    expect(listed.body.Service).toBe('AIS')
    expect(listed.body.ASPSP.map((aspsp: { AspspId: string }) => aspsp.AspspId)).toEqual(['20101', '20116', '20102'])
    for (const aspsp of listed.body.ASPSP) {
      expect(Object.keys(aspsp).sort()).toEqual([
        'AspspId',
        'BIC',
        'CategoryLabel',
        'Country',
        'Details',
        'Name',
        'Options',
      ])
      expect(aspsp.Name).toEqual([{ Label: expect.any(String), Language: 'en' }])
      expect(aspsp.Country).toMatch(/^[A-Z]{2}$/)
    }
    const download = listed.body.ASPSP.find((aspsp: { AspspId: string }) => aspsp.AspspId === '20102')
    expect(download.Details).toContainEqual(expect.objectContaining({ Fieldname: 'dl', Type: 'MANDATORY' }))
  })

  test('needs the Bearer token and Service: AIS', async () => {
    const noToken = await directory({ authorization: '' })
    const noService = await directory({ service: '' })
    const pis = await directory({ service: 'PIS' })

    expect(noToken.status).toBe(401)
    expect(noService.status).toBe(400)
    expect(pis.status).toBe(400)
  })
})

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
