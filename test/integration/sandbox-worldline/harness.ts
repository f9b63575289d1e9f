// What the Worldline sandbox tests share: its fixtures and keys, a client speaking to it as the adapter does (signed
// token requests included), the bank page driven as a browser would, and the sandbox itself, started once per test
// file.
import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'
import { openPage, type PageForm } from '../../support/html-form.ts'
import { RecordingReceiver } from '../../support/webhook-receiver.ts'
import { startWorldlineSandbox, type WorldlineSandbox } from '../../../sandbox/worldline/server.ts'

// Fixtures ------------------------------------------------------------------------------------------------------------

export const S = '/xs2a/routingservice/services'
export const A = `${S}/ob/ais/v3`
const STATIC_TOKEN = 'static-test-token'
export const NOTIFICATION_TOKEN = 'test-notification-token'
export const CLIENT_ID = 'tpp-client'
export const KEY_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const DAY_MS = 24 * 3600 * 1000
export const WINDOW_MS = 3 * DAY_MS
/** A fixed noon on the sandbox clock, so date rules never straddle midnight while a test runs. */
export const NOON = '2030-06-15T12:00:00.000Z'
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export const FULL_PERMISSIONS = ['Accounts', 'Balances', 'Transactions']

/** The token endpoint's error body (Worldline's OAuth spec v1.4.5: `Error` over `MessageBody`). */
export function tokenError(code: unknown) {
  return { code, message: expect.any(String), MessageCreateDateTime: expect.any(String), MessageId: expect.any(String) }
}

function rsaKeys(): { privateKey: KeyObject; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

/** `YYYY-MM-DD` of the day `days` after `from`, UTC. */
export function dayAfter(from: string, days: number): string {
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
export class WorldlineClient {
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

export interface SignedTokenRequest {
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
export async function requestToken(baseUrl: string, request: SignedTokenRequest = {}): Promise<Answer> {
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

export { openPage }

/** Submits the form with `decision` and the given field overrides; redirects are not followed. */
export async function submit(form: PageForm | undefined, decision: string, fields: Record<string, string> = {}) {
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
export async function decide(pageUrl: string, decision: 'approve' | 'deny', fields: Record<string, string> = {}) {
  const page = await openPage(pageUrl)
  expect(page.status, page.html).toBe(200)
  return submit(page.form, decision, fields)
}

/** Creates a consent and approves it with one holder. */
export async function authorisedConsent(options: CreateOptions = {}): Promise<string> {
  const created = await worldline.createOk(options)
  await decide(created.Links.RedirectUrl.Href, 'approve')
  expect(await worldline.statusOf(created.ConsentId, options.psuId)).toBe('Authorised')
  return created.ConsentId
}

export function notificationHeaders(base: string): Record<string, string> {
  return { initiatingpartynotificationurl: `${base}/v3` }
}

export function statusesAt(base: string): string[] {
  return receiver.at(`${new URL(base).pathname}/v3/notification/status`).map((n) => n.body.ConsentStatus as string)
}

// Setup ---------------------------------------------------------------------------------------------------------------

export const receiver = new RecordingReceiver()
export const keys = rsaKeys()
export const rotatedKeys = rsaKeys()
export let sandbox: WorldlineSandbox
export let worldline: WorldlineClient

/** Starts the sandbox (and the webhook receiver) for the calling test file and resets it before each of its tests. */
export function useWorldlineSandbox(): void {
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
}
