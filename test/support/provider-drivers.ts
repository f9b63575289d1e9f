// Provider drivers for the adapter contract suite: each one starts its provider's sandbox, builds the adapter against
// it, and does what only a user or the provider's clock can do (the hosted bank page, deadlines). A new provider is
// one more entry in PROVIDER_DRIVERS. Also the small tools the adapter tests share: a notification receiver, a bank
// page "browser", polling.
import { generateKeyPairSync } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { parseForm } from './html-form.ts'
import { RecordingReceiver } from './webhook-receiver.ts'
import { ulid } from 'ulid'
import { vi } from 'vitest'
import type { DataScope, Provider } from '../../domain/provider.ts'
import type {
  CreateConsentRequest,
  InboundNotification,
  InstitutionInfo,
  ProviderAdapter,
  ProviderCallContext,
  ProviderSnapshot,
} from '../../providers/adapter.ts'
import { createFinqwareAdapter } from '../../providers/finqware/adapter.ts'
import type { FinqwareConfig } from '../../providers/finqware/config.ts'
import { createWorldlineAdapter } from '../../providers/worldline/adapter.ts'
import type { WorldlineConfig } from '../../providers/worldline/config.ts'
import {
  startWorldlineSandbox,
  type WorldlineSandbox,
  type WorldlineSandboxOptions,
} from '../../sandbox/worldline/server.ts'
import { createYapilyAdapter, type YapilyAdapter } from '../../providers/yapily/adapter.ts'
import type { YapilyConfig } from '../../providers/yapily/config.ts'
import { startYapilySandbox, type YapilySandbox, type YapilySandboxOptions } from '../../sandbox/yapily/server.ts'
import { SANDBOX_BANKS } from '../../sandbox/finqware/catalogue.ts'
import { CONTROL_SECRET_HEADER } from '../../sandbox/shared/controls.ts'
import {
  startFinqwareSandbox,
  type FinqwareSandbox,
  type FinqwareSandboxOptions,
} from '../../sandbox/finqware/server.ts'
import type { Logger } from '../../runtime/logging.ts'

/** The control secret every test sandbox is started with, as npm start starts its own with a generated one. */
export const SANDBOX_CONTROL_SECRET = 'test-sandbox-control-secret-0123456789'

/** `fetch` for a `/__sandbox/` control: the same request, carrying the control secret. */
export function fetchControl(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  headers.set(CONTROL_SECRET_HEADER, SANDBOX_CONTROL_SECRET)
  return fetch(url, { ...init, headers })
}

// Drivers -------------------------------------------------------------------------------------------------------------

export type BankDecision = 'approve' | 'deny'

/** What the browser got back after submitting the bank page. */
export interface BankAnswer {
  /** 302 or 303 when the bank sends the user back (to the link it was given: the gateway's callback). */
  readonly status: number
  /** The redirect target (that link with the provider's own query added), or null without a redirect. */
  readonly location: string | null
}

/** One running sandbox with an adapter pointed at it. */
export interface ProviderHarness {
  readonly adapter: ProviderAdapter
  /** The provider's clock now (a sandbox clock runs ahead of real time once moved). */
  providerNow(): Promise<Date>
  /** Approves or denies on the hosted bank page behind `authorizationUrl`, as a browser form post does. */
  decideAtBank(authorizationUrl: string, decision: BankDecision): Promise<BankAnswer>
  /** Moves the provider's clock past the consent's authorisation link deadline (`linkExpiresAt`). */
  passLinkDeadline(consent: ProviderSnapshot): Promise<void>
  /** Moves the provider's clock past the consent's end of data access (`validUntil`). */
  passValidityEnd(consent: ProviderSnapshot): Promise<void>
  /**
   * Where this provider's notifications arrive when it sends them per application (Yapily webhooks) rather than to
   * each consent's notification URL.
   */
  readonly notificationEndpoint?: string
  /** Closes the sandbox and everything it started. */
  teardown(): Promise<void>
}

/** What the contract suite lends a driver's setup: its receiver (notifications, callbacks). */
export interface DriverSetup {
  /** Base URL of the test's receiver; anything below it is recorded. */
  readonly receiverUrl: string
  /** Where the sandbox keeps its state across a restart (as npm start keeps it); in memory without it. */
  readonly stateFile?: string
}

const stateOf = ({ stateFile }: DriverSetup) => (stateFile === undefined ? {} : { sandbox: { stateFile } })

export interface ProviderDriver {
  readonly provider: Provider
  /** For test names. */
  readonly name: string
  /** Every institution the sandbox offers. */
  readonly sandboxInstitutionIds: readonly string[]
  /** An institution where a consent can be created and authorised. */
  readonly institutionId: string
  /** A scope combination the provider cannot grant. */
  readonly unsupportedScope: readonly DataScope[]
  /**
   * Whether an unused authorisation link lapses on its own (Finqware `expires_at`). Without it the contract checks
   * only validity expiry.
   */
  readonly hasLinkExpiry: boolean
  /** How coarse the provider's end of validity is: 0 for a timestamp, a day for a date (Worldline `ValidUntilDate`). */
  readonly validityResolutionMs: number
  /** The same notification made inauthentic the way an attacker could: it must be rejected with 401. */
  tamper(notification: InboundNotification): InboundNotification
  setup(context: DriverSetup): Promise<ProviderHarness>
}

/** One byte of the body changed: what a signature over the body must catch. */
function flipOneByte(notification: InboundNotification): InboundNotification {
  const middle = Math.floor(notification.body.length / 2)
  const flipped = notification.body[middle] === 'a' ? 'b' : 'a'
  return {
    ...notification,
    body: `${notification.body.slice(0, middle)}${flipped}${notification.body.slice(middle + 1)}`,
  }
}

// Finqware ------------------------------------------------------------------------------------------------------------

/** The sandbox's default API client (sandbox/finqware/options.ts). */
export const FINQWARE_CLIENT = { clientId: 'sandbox-client', clientSecret: 'sandbox-secret' } as const

/** Fast deadlines and webhook retries, so tests wait milliseconds rather than seconds. */
export const FAST_FINQWARE_SANDBOX: FinqwareSandboxOptions = {
  activationDelayMs: 20,
  webhookRetry: { baseDelayMs: 10, maxDelayMs: 50, attemptTimeoutMs: 2_000 },
}

/** Adapter settings for a sandbox at `baseUrl`; short backoffs, the adapter's other defaults kept. */
export function finqwareAdapterConfig(baseUrl: string, overrides: Partial<FinqwareConfig> = {}): FinqwareConfig {
  return {
    baseUrl,
    ...FINQWARE_CLIENT,
    ...overrides,
    http: { backoffBaseMs: 10, backoffMaxMs: 50, ...overrides.http },
  }
}

export interface FinqwareHarness extends ProviderHarness {
  readonly sandbox: FinqwareSandbox
  /** A `/__sandbox/` control call over HTTP, e.g. `control('faults', { failNext: 1 })`; GET when `body` is absent. */
  control(path: string, body?: unknown): Promise<any>
}

/** Starts a Finqware sandbox (fast settings unless overridden) and an adapter against it. */
export async function startFinqwareHarness(
  options: { sandbox?: FinqwareSandboxOptions; adapter?: Partial<FinqwareConfig> } = {},
): Promise<FinqwareHarness> {
  const sandbox = await startFinqwareSandbox({
    ...FAST_FINQWARE_SANDBOX,
    controlSecret: SANDBOX_CONTROL_SECRET,
    ...options.sandbox,
  })
  const adapter = createFinqwareAdapter(finqwareAdapterConfig(sandbox.url, options.adapter))
  const { control, providerNow, advancePast } = sandboxClockControls(sandbox.url)
  return {
    adapter,
    sandbox,
    control,
    providerNow,
    decideAtBank: submitBankDecision,
    passLinkDeadline: (consent) => advancePast(consent.linkExpiresAt, 'linkExpiresAt'),
    passValidityEnd: (consent) => advancePast(consent.validUntil, 'validUntil'),
    teardown: () => sandbox.close(),
  }
}

export const finqwareDriver: ProviderDriver = {
  provider: 'FINQWARE',
  name: 'Finqware',
  sandboxInstitutionIds: SANDBOX_BANKS.map((bank) => bank.providerId),
  institutionId: 'bt_ro',
  // Finqware grants only [accounts, balances, transactions] and [accounts, balances] (its Consents page; docs/providers.md).
  unsupportedScope: ['TRANSACTIONS'],
  hasLinkExpiry: true,
  validityResolutionMs: 0,
  // Finqware signs the body (JWS): any change to it must fail verification.
  tamper: flipOneByte,
  setup: (context) => startFinqwareHarness(stateOf(context)),
}

// Worldline -----------------------------------------------------------------------------------------------------------

export const WORLDLINE_CLIENT_ID = 'gateway-contract'
export const WORLDLINE_KEY_ID = 'contract-key'
export const WORLDLINE_NOTIFICATION_TOKEN = 'contract-notification-token'

/** Fast webhook retries; everything else as the sandbox defaults it. */
export const FAST_WORLDLINE_SANDBOX: WorldlineSandboxOptions = {
  webhookRetry: { baseDelayMs: 10, maxDelayMs: 50, attemptTimeoutMs: 2_000 },
}

export interface WorldlineHarness extends ProviderHarness {
  readonly sandbox: WorldlineSandbox
  readonly adapterConfig: WorldlineConfig
  control(path: string, body?: unknown): Promise<any>
}

/** Starts a Worldline sandbox that knows our signing key, and an adapter against it. */
export async function startWorldlineHarness(
  options: { sandbox?: WorldlineSandboxOptions; adapter?: Partial<WorldlineConfig> } = {},
): Promise<WorldlineHarness> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const sandbox = await startWorldlineSandbox({
    clients: [
      {
        clientId: WORLDLINE_CLIENT_ID,
        keyId: WORLDLINE_KEY_ID,
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    ],
    notificationToken: WORLDLINE_NOTIFICATION_TOKEN,
    controlSecret: SANDBOX_CONTROL_SECRET,
    ...FAST_WORLDLINE_SANDBOX,
    ...options.sandbox,
  })
  const adapterConfig: WorldlineConfig = {
    baseUrl: sandbox.url,
    clientId: WORLDLINE_CLIENT_ID,
    keyId: WORLDLINE_KEY_ID,
    initiatingPartyId: '433',
    initiatingPartySubId: '5',
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    notificationToken: WORLDLINE_NOTIFICATION_TOKEN,
    ...options.adapter,
    http: { backoffBaseMs: 10, backoffMaxMs: 50, ...options.adapter?.http },
  }
  const adapter = createWorldlineAdapter(adapterConfig)
  const { control, providerNow, advancePast } = sandboxClockControls(sandbox.url)
  return {
    adapter,
    adapterConfig,
    sandbox,
    control,
    providerNow,
    decideAtBank: submitBankDecision,
    passLinkDeadline: () => Promise.reject(new Error('Worldline links have no deadline')),
    passValidityEnd: (consent) => advancePast(consent.validUntil, 'validUntil'),
    teardown: () => sandbox.close(),
  }
}

export const worldlineDriver: ProviderDriver = {
  provider: 'WORLDLINE',
  name: 'Worldline',
  sandboxInstitutionIds: ['20101', '20116', '20102'],
  institutionId: '20101',
  // Every Worldline permission set includes Accounts (docs/providers.md, Worldline).
  unsupportedScope: ['BALANCES', 'TRANSACTIONS'],
  hasLinkExpiry: false,
  // `ValidUntilDate` is a date; access lasts to the end of it.
  validityResolutionMs: 86_400_000,
  // Worldline authenticates notifications with a bearer token, not a signature over the body.
  tamper: (notification) => ({ ...notification, headers: { ...notification.headers, authorization: 'Bearer forged' } }),
  setup: (context) => startWorldlineHarness(stateOf(context)),
}

// Yapily --------------------------------------------------------------------------------------------------------------

export const YAPILY_APPLICATION = {
  key: 'contract-app-key',
  secret: 'contract-app-secret',
  id: '7c1f3a52-9d4e-4b6a-8f20-5e3b1c9d0a47',
} as const

export interface YapilyHarness extends ProviderHarness {
  readonly adapter: YapilyAdapter
  readonly sandbox: YapilySandbox
  readonly adapterConfig: YapilyConfig
  control(path: string, body?: unknown): Promise<any>
}

/**
 * Starts a Yapily sandbox that accepts callbacks below `callbackPrefix` and, when `webhookUrl` is given, registers our
 * webhook there (Yapily shows its secret once, at registration), then an adapter against it.
 */
export async function startYapilyHarness(options: {
  callbackPrefix: string
  webhookUrl?: string
  sandbox?: YapilySandboxOptions
  adapter?: Partial<YapilyConfig>
}): Promise<YapilyHarness> {
  const sandbox = await startYapilySandbox({
    applications: [YAPILY_APPLICATION],
    callbacks: [options.callbackPrefix],
    webhookRetry: { baseDelayMs: 10, maxDelayMs: 50, attemptTimeoutMs: 2_000 },
    controlSecret: SANDBOX_CONTROL_SECRET,
    ...options.sandbox,
  })
  const basic = `Basic ${Buffer.from(`${YAPILY_APPLICATION.key}:${YAPILY_APPLICATION.secret}`).toString('base64')}`
  let webhookSecret: string | undefined
  if (options.webhookUrl) {
    const registered = await fetch(`${sandbox.url}/webhook/events`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({
        applicationId: YAPILY_APPLICATION.id,
        categories: [options.sandbox?.consentEventType ?? 'consent.status'],
        callbackUrl: { main: { url: options.webhookUrl } },
      }),
    })
    webhookSecret = ((await registered.json()) as { data: { webhookSecret: string } }).data.webhookSecret
  }
  const adapterConfig: YapilyConfig = {
    baseUrl: sandbox.url,
    applicationKey: YAPILY_APPLICATION.key,
    applicationSecret: YAPILY_APPLICATION.secret,
    webhookSecret,
    ...options.adapter,
    http: { backoffBaseMs: 10, backoffMaxMs: 50, ...options.adapter?.http },
  }
  const adapter = createYapilyAdapter(adapterConfig)
  const { control, providerNow, advancePast } = sandboxClockControls(sandbox.url)
  return {
    adapter,
    adapterConfig,
    sandbox,
    control,
    providerNow,
    ...(options.webhookUrl ? { notificationEndpoint: options.webhookUrl } : {}),
    decideAtBank: submitBankDecision,
    passLinkDeadline: () => Promise.reject(new Error('Yapily links have no documented deadline')),
    passValidityEnd: (consent) => advancePast(consent.validUntil, 'validUntil'),
    teardown: () => sandbox.close(),
  }
}

export const yapilyDriver: ProviderDriver = {
  provider: 'YAPILY',
  name: 'Yapily',
  sandboxInstitutionIds: ['modelo-sandbox', 'santander-es-sandbox', 'embedded-de-sandbox', 'per-account-gb-sandbox'],
  // UK: 90 days is the maximum, so no hard expiresAt is asked for and Yapily's own lifetime applies.
  institutionId: 'modelo-sandbox',
  unsupportedScope: ['TRANSACTIONS'],
  hasLinkExpiry: false,
  validityResolutionMs: 0,
  // Yapily signs webhooks with an HMAC over the body.
  tamper: flipOneByte,
  setup: (context) =>
    startYapilyHarness({
      callbackPrefix: `${context.receiverUrl}/`,
      webhookUrl: `${context.receiverUrl}/yapily-webhooks`,
      ...stateOf(context),
    }),
}

/** Every provider the contract suite runs against. */
export const PROVIDER_DRIVERS: readonly ProviderDriver[] = [finqwareDriver, worldlineDriver, yapilyDriver]

// Calls ---------------------------------------------------------------------------------------------------------------

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** A provider call context as the service builds one, with a fresh request id. */
export function testCallContext(): ProviderCallContext {
  return { requestId: `test-${ulid()}`, logger: silentLogger }
}

/** A create request for `institution`, with the adapter's first grantable scope; `overrides` win. */
export function aConsentRequest(
  adapter: ProviderAdapter,
  institution: InstitutionInfo,
  notificationUrl: string,
  overrides: Partial<CreateConsentRequest> = {},
): CreateConsentRequest {
  return {
    consentId: ulid(),
    userRef: 'user-contract',
    institution,
    region: institution.region,
    scope: adapter.capabilities.scopes[0] ?? [],
    validityDays: 90,
    linkExpiresInDays: 7,
    notificationUrl,
    // Where every provider sends the browser after the bank (the gateway's callback): beside the notification endpoint.
    callbackUrl: `${new URL(notificationUrl).origin}/callbacks/${ulid()}`,
    ...overrides,
  }
}

/** The institution with `id` as the adapter lists it. */
export async function institutionOf(adapter: ProviderAdapter, id: string): Promise<InstitutionInfo> {
  const institution = (await adapter.listInstitutions(testCallContext())).find((candidate) => candidate.id === id)
  if (!institution) throw new Error(`${adapter.provider} lists no institution "${id}"`)
  return institution
}

/** A sandbox's control calls, its clock, and moving that clock a minute past a consent's deadline. */
function sandboxClockControls(baseUrl: string) {
  const control = (path: string, body?: unknown) => sandboxControl(baseUrl, path, body)
  const providerNow = async () => new Date((await control('clock')).now as string)
  const advancePast = async (deadline: string | null | undefined, what: string) => {
    if (!deadline) throw new Error(`the consent has no ${what} to pass`)
    const seconds = Math.ceil((Date.parse(deadline) - (await providerNow()).getTime()) / 1000)
    // A minute beyond: the deadline has clearly passed, even in the provider's second-resolution Date header.
    await control('clock', { advanceSeconds: Math.max(seconds, 0) + 60 })
  }
  return { control, providerNow, advancePast }
}

/** A `/__sandbox/` control call; answers the parsed JSON, throws on a non-2xx answer. */
export async function sandboxControl(baseUrl: string, path: string, body?: unknown): Promise<any> {
  const response = await fetchControl(`${baseUrl}/__sandbox/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`sandbox control ${path} answered ${response.status}: ${text}`)
  return JSON.parse(text)
}

/**
 * Reads until `done` holds (provider state moves on real-time timers, notifications arrive asynchronously), through
 * vitest's `vi.waitFor`; throws after 15 seconds with the last value read.
 */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  return vi.waitFor(
    async () => {
      const last = await read()
      if (!done(last)) throw new Error(`${what} did not happen; last seen: ${JSON.stringify(last)}`)
      return last
    },
    { timeout: 15_000, interval: 10 },
  )
}

/** The error a promise rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection, but the promise resolved')
}

// The hosted bank page ------------------------------------------------------------------------------------------------

/**
 * Opens the bank page and clicks the `decision` button, as a browser does: GET the page, then POST its form (hidden
 * fields plus the clicked button) to the form's action. The redirect back to the partner is reported, not followed.
 */
export async function submitBankDecision(
  authorizationUrl: string,
  decision: BankDecision,
  /** Values typed into the form's fields, e.g. `{ holders: '2' }` on Worldline's page. */
  typed: Readonly<Record<string, string>> = {},
): Promise<BankAnswer> {
  const page = await fetch(authorizationUrl)
  const html = await page.text()
  const form = parseForm(html, authorizationUrl)
  if (page.status !== 200 || !form || !form.buttons.some((b) => b.name === 'decision' && b.value === decision)) {
    throw new Error(`no "${decision}" button at ${authorizationUrl} (HTTP ${page.status}): ${html.slice(0, 300)}`)
  }
  const fields = form.inputs.map(({ name, value }): [string, string] => [name, typed[name] ?? value])
  const missing = Object.keys(typed).filter((name) => !fields.some(([field]) => field === name))
  if (missing.length) throw new Error(`the bank page at ${authorizationUrl} has no field ${missing.join(', ')}`)
  const answer = await fetch(form.action, {
    method: form.method.toUpperCase(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([...fields, ['decision', decision]]).toString(),
    redirect: 'manual',
  })
  await answer.arrayBuffer()
  return { status: answer.status, location: answer.headers.get('location') }
}

// Notifications -------------------------------------------------------------------------------------------------------

/**
 * The gateway's notification endpoint, as a provider sees it: a node:http server on 127.0.0.1 that answers 204 and
 * keeps every POST exactly as received (raw body, lower-case headers). Each endpoint path collects its own.
 */
export class NotificationReceiver {
  readonly #receiver = new RecordingReceiver()

  start(): Promise<void> {
    return this.#receiver.start()
  }

  /** Base URL of the receiver. */
  get url(): string {
    return this.#receiver.url
  }

  /** A fresh endpoint URL, so each test reads only its own notifications. */
  newEndpoint(): string {
    return this.#receiver.newEndpoint()
  }

  /**
   * What arrived at `endpoint` or below it (Worldline appends `/v3/notification/status`); each notification's `path`
   * is what followed the endpoint, as the gateway's router passes it.
   */
  receivedAt(endpoint: string): InboundNotification[] {
    const base = new URL(endpoint).pathname
    return this.#receiver.received
      .filter((entry) => entry.path === base || entry.path.startsWith(`${base}/`))
      .map((entry) => ({ headers: flatHeaders(entry.headers), body: entry.text, path: entry.path.slice(base.length) }))
  }

  /** Waits for a notification at `endpoint` that satisfies `matches` (any one when omitted). */
  async waitFor(
    endpoint: string,
    matches: (notification: InboundNotification) => boolean = () => true,
  ): Promise<InboundNotification> {
    const found = await eventually(
      async () => this.receivedAt(endpoint).find(matches),
      (notification) => notification !== undefined,
      `a notification at ${endpoint}`,
    )
    return found as InboundNotification
  }

  close(): Promise<void> {
    return this.#receiver.close()
  }
}

/** Node's headers as the gateway's routers hand them to adapters: one string per name. */
function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}
