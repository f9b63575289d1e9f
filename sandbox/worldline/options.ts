// Configuration of the Worldline sandbox: every option with its default, in one place.
import { createPublicKey, type KeyObject } from 'node:crypto'
import type { WebhookRetryPolicy } from '../shared/webhook-dispatcher.ts'

/** A client registered in the back office: its id and the public key its token requests are signed with. */
export interface WorldlineClient {
  /** What the client sends in the `Client` header. */
  clientId: string
  /** The `keyId` of its `Signature` (on Worldline: the SHA-1 thumbprint of the uploaded certificate). */
  keyId: string
  /** PEM of the RSA public key (or certificate) that verifies its signatures. */
  publicKeyPem: string
}

export interface WorldlineSandboxOptions {
  /**
   * A secret every `/__sandbox/` control request must carry in `X-Control-Secret` (npm start generates one).
   * @default undefined (controls open, for a test's own sandbox)
   */
  controlSecret?: string
  /**
   * A JSON file holding the sandbox's state (consents, bank toggles, issued tokens, clock offset): read at start,
   * written as it changes, so a restart keeps them (npm start: `.data/sandboxes/worldline.json`).
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
   * Registered clients. With none, the token endpoint still requires every header and a well-formed `Signature`
   * but verifies no signature: "the sandbox mostly skips security" (docs/providers.md, Worldline evidence: Auth). The same client id may be
   * listed twice with two keys (certificate rotation).
   * @default []
   */
  clients?: WorldlineClient[]
  /**
   * A bearer token the AIS and directory routes accept without ever expiring, as Worldline's public sandbox does
   * (docs/providers.md, Worldline evidence: Auth). None unless given.
   * @default undefined
   * @example 'sandbox-static-token'
   */
  staticToken?: string
  /**
   * Lifetime of the tokens `POST /authorize/token` issues, on the sandbox clock (`expires_in`).
   * @default 3600
   */
  tokenTtlSeconds?: number
  /**
   * How far the token request's `Date` header may be from the sandbox clock, either way. Clients that sign with
   * their own time must follow a moved sandbox clock (its `date` response header) or get `invalid_client`.
   * @default 300
   */
  maxDateSkewSeconds?: number
  /**
   * How long after initiation (on the sandbox clock) Worldline still polls the bank for a consent: status changes
   * inside it are notified and bank-side expiry is learnt; after it, neither (docs/providers.md, Worldline evidence: Notifications "a few days").
   * @default 259_200_000 (3 days)
   */
  notificationWindowMs?: number
  /**
   * The Notification Bearer Token sent in `Authorization` with every notification (docs/providers.md, Worldline evidence: Notifications: a static
   * token configured per subscription).
   * @default 'sandbox-notification-token'
   */
  notificationToken?: string
  /**
   * Notification retry settings for the shared dispatcher.
   * @default { maxAttempts: 6, baseDelayMs: 200, factor: 2, maxDelayMs: 10_000, attemptTimeoutMs: 5_000 }
   */
  webhookRetry?: Partial<WebhookRetryPolicy>
  /**
   * How often `ValidUntilDate` expiry is swept in real time, besides every request and every clock change.
   * @default 1_000
   */
  sweepIntervalMs?: number
}

/** A registered client with its key parsed once, at start. */
export interface RegisteredClient {
  clientId: string
  keyId: string
  publicKey: KeyObject
}

export interface WorldlineSettings {
  port: number
  clients: RegisteredClient[]
  staticToken: string | null
  tokenTtlSeconds: number
  maxDateSkewSeconds: number
  notificationWindowMs: number
  notificationToken: string
  /** Passed to the dispatcher, which fills in its own defaults. */
  webhookRetry: Partial<WebhookRetryPolicy>
  sweepIntervalMs: number
}

export const DEFAULT_NOTIFICATION_WINDOW_MS = 3 * 24 * 3600 * 1000
export const DEFAULT_NOTIFICATION_TOKEN = 'sandbox-notification-token'

/** Fills the defaults; a bad PEM or a non-positive duration fails here, at start, not on the first request. */
export function resolveWorldlineSettings(options: WorldlineSandboxOptions = {}): WorldlineSettings {
  const tokenTtlSeconds = positive(options.tokenTtlSeconds ?? 3600, 'tokenTtlSeconds')
  if (options.staticToken === '') throw new RangeError('staticToken must not be empty')
  return {
    port: options.port ?? 0,
    clients: (options.clients ?? []).map((client) => ({
      clientId: client.clientId,
      keyId: client.keyId,
      publicKey: createPublicKey(client.publicKeyPem),
    })),
    staticToken: options.staticToken ?? null,
    tokenTtlSeconds,
    maxDateSkewSeconds: positive(options.maxDateSkewSeconds ?? 300, 'maxDateSkewSeconds'),
    notificationWindowMs: positive(
      options.notificationWindowMs ?? DEFAULT_NOTIFICATION_WINDOW_MS,
      'notificationWindowMs',
    ),
    notificationToken: options.notificationToken ?? DEFAULT_NOTIFICATION_TOKEN,
    webhookRetry: options.webhookRetry ?? {},
    sweepIntervalMs: positive(options.sweepIntervalMs ?? 1_000, 'sweepIntervalMs'),
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`)
  return value
}
