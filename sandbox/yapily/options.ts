// Configuration of the Yapily sandbox: every option with its default, in one place.
import type { WebhookRetryPolicy } from '../shared/webhook-dispatcher.ts'
import { DEFAULT_CONSENT_EVENT_TYPE, DEFAULT_SIGNATURE_HEADER } from './webhook-events.ts'

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** An application registered in the Console: its Basic credentials and its id (Yapily API 12.13.0). */
export interface YapilyApplication {
  /** The Application ID, sent as the Basic username. */
  key: string
  /** The Application Secret, sent as the Basic password. */
  secret: string
  /**
   * What webhook registrations name as `applicationId`, and what webhook events carry: a UUID, as Yapily API 12.13.0
   * types `applicationId`.
   */
  id: string
}

export interface YapilySandboxOptions {
  /**
   * A secret every `/__sandbox/` control request must carry in `X-Control-Secret` (npm start generates one).
   * @default undefined (controls open, for a test's own sandbox)
   */
  controlSecret?: string
  /**
   * A JSON file holding the sandbox's state (consents, users, webhook registrations, the bank toggle, clock offset):
   * read at start, written as it changes, so a restart keeps them (npm start: `.data/sandboxes/yapily.json`).
   * @default undefined (state in memory only)
   */
  stateFile?: string
  /**
   * Port on 127.0.0.1; 0 picks a free one.
   * @default 0
   */
  port?: number
  /** The address to listen on (`0.0.0.0`: the network too). @default '127.0.0.1' */
  host?: string
  /** The host the sandbox's URLs (bank pages) name, for browsers elsewhere. @default the listening host */
  publicHost?: string
  /**
   * Applications whose Basic credentials the API accepts. Each sees only its own users, consents and webhooks.
   * @default [{ key: 'sandbox-app-key', secret: 'sandbox-app-secret', id: '0d6b7a38-1c2e-4f5a-9b8c-3e4d5f6a7b8c' }]
   */
  applications?: YapilyApplication[]
  /**
   * The registered Authorisation Callbacks (Yapily, "Callback URL", https://docs.yapily.com/knowledge/callback_url). An
   * entry ending in `/` covers every URL below it (same scheme, host and port, path under the entry's); any other entry
   * must equal the callback. A create call whose `callback` no entry covers is refused with 400.
   * @default ['https://display-parameters.com/'] (the callback of the docs' request example)
   * @example ['http://127.0.0.1:4000/yapily/callback', 'https://partner.example/']
   */
  callbacks?: string[]
  /**
   * Sign webhook deliveries with `<webhookSignatureHeader>: sha256=<hex HMAC-SHA256 of the raw body>`, keyed by the
   * webhook's `webhookSecret`. The scheme is our guess from third-party clients (Yapily documents none; see
   * docs/providers.md, Yapily), hence the switch.
   * @default true
   */
  signWebhooks?: boolean
  /**
   * The header webhook signatures travel in: our guess, as the gateway's `YAPILY_WEBHOOK_SIGNATURE_HEADER` is.
   * @default 'X-Yapily-Signature'
   */
  webhookSignatureHeader?: string
  /**
   * The webhook category consent status events are registered and sent under (their `type`): our guess, as the
   * gateway's `YAPILY_WEBHOOK_EVENT_TYPE` is.
   * @default 'consent.status'
   */
  consentEventType?: string
  /**
   * Webhook retry settings for the shared dispatcher.
   * @default { maxAttempts: 6, baseDelayMs: 200, factor: 2, maxDelayMs: 10_000, attemptTimeoutMs: 5_000 }
   */
  webhookRetry?: Partial<WebhookRetryPolicy>
  /**
   * How often `expiresAt` is swept in real time, besides every request and every clock change.
   * @default 1_000
   */
  sweepIntervalMs?: number
}

export interface YapilySettings {
  port: number
  applications: YapilyApplication[]
  callbacks: string[]
  signWebhooks: boolean
  webhookSignatureHeader: string
  consentEventType: string
  /** Passed to the dispatcher, which fills in its own defaults. */
  webhookRetry: Partial<WebhookRetryPolicy>
  sweepIntervalMs: number
}

export const DEFAULT_APPLICATION: YapilyApplication = {
  key: 'sandbox-app-key',
  secret: 'sandbox-app-secret',
  id: '0d6b7a38-1c2e-4f5a-9b8c-3e4d5f6a7b8c',
}

export const DEFAULT_CALLBACKS: readonly string[] = ['https://display-parameters.com/']

/** Fills the defaults; a bad callback entry or an ambiguous application list fails here, at start. */
export function resolveYapilySettings(options: YapilySandboxOptions = {}): YapilySettings {
  const applications = (options.applications ?? [DEFAULT_APPLICATION]).map((application) => ({ ...application }))
  if (applications.length === 0) throw new RangeError('applications must list at least one application')
  for (const [index, application] of applications.entries()) {
    if (!application.key || !application.secret || !application.id) {
      throw new RangeError(`applications[${index}] needs a non-empty key, secret and id`)
    }
    if (application.key.includes(':')) throw new RangeError(`applications[${index}].key must not contain ":"`)
  }
  if (new Set(applications.map((application) => application.key)).size !== applications.length) {
    throw new RangeError('application keys must be unique')
  }
  if (new Set(applications.map((application) => application.id)).size !== applications.length) {
    throw new RangeError('application ids must be unique')
  }
  const callbacks = [...(options.callbacks ?? DEFAULT_CALLBACKS)]
  for (const callback of callbacks) {
    if (!URL.canParse(callback)) throw new RangeError(`callbacks: ${callback} is not an absolute URL`)
  }
  const webhookSignatureHeader = options.webhookSignatureHeader ?? DEFAULT_SIGNATURE_HEADER
  if (!HEADER_NAME.test(webhookSignatureHeader)) {
    throw new RangeError(`webhookSignatureHeader: ${webhookSignatureHeader} is not a header name`)
  }
  const consentEventType = options.consentEventType ?? DEFAULT_CONSENT_EVENT_TYPE
  if (!consentEventType) throw new RangeError('consentEventType must not be empty')
  const sweepIntervalMs = options.sweepIntervalMs ?? 1_000
  if (!Number.isFinite(sweepIntervalMs) || sweepIntervalMs <= 0) {
    throw new RangeError(`sweepIntervalMs must be a positive number, got ${sweepIntervalMs}`)
  }
  return {
    port: options.port ?? 0,
    applications,
    callbacks,
    signWebhooks: options.signWebhooks ?? true,
    webhookSignatureHeader,
    consentEventType,
    webhookRetry: options.webhookRetry ?? {},
    sweepIntervalMs,
  }
}
