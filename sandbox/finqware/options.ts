// Configuration of the Finqware sandbox: every option with its default, in one place.
import type { WebhookRetryPolicy } from '../shared/webhook-dispatcher.ts'

/**
 * How API calls authenticate. `oauth2`: a Bearer token from the token endpoint, `client_id` still in the body, the
 * body secret refused (production, per Finqware's Get Consent page). `internal`: `client_id` and `client_secret` in
 * every JSON body (the mode that page calls test-only).
 */
export type FinqwareAuthMode = 'oauth2' | 'internal'

/** An API client the sandbox accepts: its secret authenticates it at the token endpoint, or in the body (internal). */
export interface FinqwareClient {
  clientId: string
  clientSecret: string
  /**
   * What responses report as `api_client_app`. Its real shape is undocumented; the sandbox uses a name.
   * @default the clientId
   */
  apiClientApp?: string
}

/**
 * What the sandbox does when `authorized_until` passes: Finqware's Consents overview names `deactivated` for it, the
 * Get Consent enum has no `deactivated` and says the consent is "automatically revoked".
 */
export type ValidityEndStatus = 'revoked' | 'deactivated'

export interface FinqwareSandboxOptions {
  /**
   * A secret every `/__sandbox/` control request must carry in `X-Control-Secret` (npm start generates one).
   * @default undefined (controls open, for a test's own sandbox)
   */
  controlSecret?: string
  /**
   * A JSON file holding the sandbox's state (consents, clock offset, signing keys): read at start, written as it
   * changes, so a restart keeps them (npm start: `.data/sandboxes/finqware.json`).
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
   * Accepted API clients.
   * @default [{ clientId: 'sandbox-client', clientSecret: 'sandbox-secret' }]
   */
  clients?: FinqwareClient[]
  /**
   * How API calls authenticate; bearer mode because production uses it, so what runs locally is what runs there.
   * @default 'oauth2'
   */
  authMode?: FinqwareAuthMode
  /**
   * Lifetime of the tokens the token endpoint issues (its `expires_in`), on the sandbox clock: moving the clock past
   * it makes the tokens already issued be refused.
   * @default 3_600
   */
  tokenLifetimeSeconds?: number
  /**
   * Time from `authorized` to `active` (the simulated first data job), on the sandbox clock: a real-time timer fires
   * it, and moving the clock past it fires it too.
   * @default 100
   */
  activationDelayMs?: number
  /**
   * Status a consent takes when `authorized_until` passes. `revoked` matches the Get Consent enum; `deactivated` is
   * the Consents overview's word for it.
   * @default 'revoked'
   */
  validityEndStatus?: ValidityEndStatus
  /**
   * How long `/ais/consents/redirect` takes to process a bank redirect (the simulated code exchange), in real time.
   * A call that arrives meanwhile answers 202.
   * @default 50
   */
  redirectProcessingMs?: number
  /**
   * Webhook retry settings for the shared dispatcher.
   * @default { maxAttempts: 6, baseDelayMs: 200, factor: 2, maxDelayMs: 10_000, attemptTimeoutMs: 5_000 }
   */
  webhookRetry?: Partial<WebhookRetryPolicy>
  /**
   * How often deadlines (link expiry, end of validity, activation) are swept in real time, besides every request
   * and every clock change.
   * @default 1_000
   */
  sweepIntervalMs?: number
}

export interface FinqwareSettings {
  port: number
  clients: Required<FinqwareClient>[]
  authMode: FinqwareAuthMode
  tokenLifetimeSeconds: number
  activationDelayMs: number
  validityEndStatus: ValidityEndStatus
  redirectProcessingMs: number
  /** Passed to the dispatcher, which fills in its own defaults. */
  webhookRetry: Partial<WebhookRetryPolicy>
  sweepIntervalMs: number
}

export const DEFAULT_CLIENT: Required<FinqwareClient> = {
  clientId: 'sandbox-client',
  clientSecret: 'sandbox-secret',
  apiClientApp: 'sandbox-client',
}

export function resolveFinqwareSettings(options: FinqwareSandboxOptions = {}): FinqwareSettings {
  const clients = (options.clients ?? [DEFAULT_CLIENT]).map((client) => ({
    ...client,
    apiClientApp: client.apiClientApp ?? client.clientId,
  }))
  return {
    port: options.port ?? 0,
    clients,
    authMode: options.authMode ?? 'oauth2',
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3_600,
    activationDelayMs: options.activationDelayMs ?? 100,
    validityEndStatus: options.validityEndStatus ?? 'revoked',
    redirectProcessingMs: options.redirectProcessingMs ?? 50,
    webhookRetry: options.webhookRetry ?? {},
    sweepIntervalMs: options.sweepIntervalMs ?? 1_000,
  }
}
