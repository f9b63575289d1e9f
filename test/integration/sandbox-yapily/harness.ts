// What the Yapily sandbox tests share: its fixtures, a client speaking to it as the adapter does, the bank page driven
// as a browser would, and the sandbox itself, started once per test file.
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'
import { openPage, parseForm, type PageForm } from '../../support/html-form.ts'
import { RecordingReceiver } from '../../support/webhook-receiver.ts'
import { startYapilySandbox, type YapilySandbox } from '../../../sandbox/yapily/server.ts'

// Fixtures ------------------------------------------------------------------------------------------------------------

export const KEY = 'sandbox-app-key'
export const SECRET = 'sandbox-app-secret'
export const APP_ID = '0d6b7a38-1c2e-4f5a-9b8c-3e4d5f6a7b8c'
export const OTHER = { key: 'other-app-key', secret: 'other-app-secret', id: 'e2a4c6f8-0b1d-4e3f-a5c7-9b8d6f4e2a10' }
export const CALLBACK = 'https://partner.example/yapily/callback'
export const EXACT_CALLBACK = 'https://exact.example/cb'
export const DAY_MS = 24 * 3600 * 1000
/** A fixed instant on the sandbox clock, so date assertions are exact up to the few ms a test takes. */
export const NOON = '2030-06-15T12:00:00.000Z'
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
export const EXACT_401 = {
  error: { code: 401, status: 'UNAUTHORIZED', message: 'Full authentication is required to access this resource' },
}

export function basic(key: string, secret: string): string {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`
}

export interface Answer {
  status: number
  body: any
  headers: Headers
  text: string
}

/** Talks to one sandbox as the adapter does: Basic auth, JSON bodies, the `consent` header, controls. */
export class YapilyClient {
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

export { openPage }

/** Submits the form with `decision` and the given field overrides; redirects are not followed. */
export async function submit(form: PageForm | undefined, decision: string, fields: Record<string, string> = {}) {
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
export async function decide(pageUrl: string, decision: 'approve' | 'deny', fields: Record<string, string> = {}) {
  const page = await openPage(pageUrl)
  expect(page.status, page.html).toBe(200)
  return submit(page.form, decision, fields)
}

/** The query of a redirect's Location as a plain object. */
export function callbackQuery(location: string | null): Record<string, string> {
  return Object.fromEntries(new URL(location ?? '').searchParams)
}

/** Creates a consent and approves it at the bank; returns its id and token. */
export async function authorisedConsent(body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const created = await yapily.createOk(body)
  const decided = await decide(created.authorisationUrl as string, 'approve')
  expect(decided.status).toBe(302)
  const consent = await yapily.consent(created.id as string)
  expect(consent.status).toBe('AUTHORIZED')
  return { id: consent.id as string, token: consent.consentToken as string }
}

/** Walks the embedded bank's hosted page to AUTHORIZED. */
export async function authorisedEmbeddedConsent(): Promise<{ id: string; token: string }> {
  const created = await yapily.createOk({ institutionId: 'embedded-de-sandbox' })
  const codePage = await decide(created.authorisationUrl as string, 'approve')
  const done = await submit(codePage.form, 'approve')
  expect(done.status).toBe(302)
  const consent = await yapily.consent(created.id as string)
  return { id: consent.id as string, token: consent.consentToken as string }
}

export async function statusOf(consentId: string): Promise<string> {
  return (await yapily.consent(consentId)).status as string
}

// Setup ---------------------------------------------------------------------------------------------------------------

export const receiver = new RecordingReceiver()
export let sandbox: YapilySandbox
export let yapily: YapilyClient
export let other: YapilyClient

/** Starts the sandbox (and the webhook receiver) for the calling test file and resets it before each of its tests. */
export function useYapilySandbox(): void {
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
}
