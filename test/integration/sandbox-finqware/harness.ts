// What the Finqware sandbox tests share: its fixtures, a client speaking to it as the adapter does, the hosted WebUI
// and bank page driven as a browser would, and the sandbox itself (internal authentication mode), started once per test
// file.
import type { JSONWebKeySet } from 'jose'
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'
import { startFinqwareSandbox, type FinqwareSandbox } from '../../../sandbox/finqware/server.ts'
import { openPage, parseForm, type PageForm } from '../../support/html-form.ts'
import { RecordingReceiver } from '../../support/webhook-receiver.ts'

// Fixtures ------------------------------------------------------------------------------------------------------------

export const AUTH = { client_id: 'sandbox-client', client_secret: 'sandbox-secret' }
export const OTHER_AUTH = { client_id: 'other-client', client_secret: 'other-secret' }
export const DAY_MS = 24 * 3600 * 1000
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The Finqware statuses of the webhooks received at `hook`, in arrival order. */
export const statusesAt = (hook: string): string[] =>
  receiver.at(hook).map((webhook) => (webhook.body as { status: string }).status)

export interface ApiResult {
  status: number

  body: any
  headers: Headers
}

export interface Delivery {
  url: string
  body: string
  attempts: number
  lastStatus: number | null
  state: string
  duplicate: boolean
}

/** Talks to one sandbox the way a client does: JSON POSTs, control calls, and the bank page as a browser would. */
export class SandboxClient {
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

export { openPage, parseForm }

/** Clicks a submit button: posts the fields plus the button as x-www-form-urlencoded; redirects are not followed. */
export async function clickButton(form: PageForm | undefined, name: string, value: string): Promise<Response> {
  if (!form) throw new Error('the page has no form')
  expect(form.buttons).toContainEqual({ name, value })
  return fetch(form.action, {
    method: form.method.toUpperCase(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([...form.inputs.map((input) => [input.name, input.value]), [name, value]]).toString(),
    redirect: 'manual',
  })
}

/** Opens the link and takes the bank decision, as a user in a browser would. */
export async function decideAtBank(webUrl: string, decision: 'approve' | 'deny'): Promise<Response> {
  const page = await openPage(webUrl)
  expect(page.status).toBe(200)
  return clickButton(page.form, 'decision', decision)
}

export function expectErrorBody(result: ApiResult, status: number, code: string, requestId?: string): void {
  expect(result.status).toBe(status)
  expect(Object.keys(result.body as object).sort()).toEqual(['code', 'error_id', 'message', 'request_id'])
  expect(result.body.code).toBe(code)
  expect(result.body.error_id).toMatch(UUID)
  expect(typeof result.body.message).toBe('string')
  if (requestId) expect(result.body.request_id).toBe(requestId)
  expect(result.headers.get('x-request-id')).toBe(result.body.request_id)
}

// Setup ---------------------------------------------------------------------------------------------------------------

export const receiver = new RecordingReceiver()
export let sandbox: FinqwareSandbox
export let finqware: SandboxClient

/** Starts the sandbox (and the webhook receiver) for the calling test file and resets it before each of its tests. */
export function useFinqwareSandbox(): void {
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
}
