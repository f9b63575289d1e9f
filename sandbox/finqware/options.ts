// Configuration of the Finqware sandbox: every option with its default, in one place.
import type { WebhookRetryPolicy } from '../shared/webhook-dispatcher.ts'

/** An API client the sandbox accepts (internal mode: both values travel in the JSON body). */
export interface FinqwareClient {
  clientId: string
  clientSecret: string
  /**
   * What responses report as `api_client_app`. Its real shape is undocumented [?]; the sandbox uses a name.
   * @default the clientId
   */
  apiClientApp?: string
}

/** What the sandbox does when `authorized_until` passes (finqware.md 1.3: the docs disagree). */
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
   * Time from `authorized` to `active` (the simulated first data job), on the sandbox clock: a real-time timer fires
   * it, and moving the clock past it fires it too.
   * @default 100
   */
  activationDelayMs?: number
  /**
   * Status a consent takes when `authorized_until` passes. `revoked` matches the Get Consent enum (finqware.md 1.3
   * recommends it); `deactivated` is the other crawl's reading.
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
    activationDelayMs: options.activationDelayMs ?? 100,
    validityEndStatus: options.validityEndStatus ?? 'revoked',
    redirectProcessingMs: options.redirectProcessingMs ?? 50,
    webhookRetry: options.webhookRetry ?? {},
    sweepIntervalMs: options.sweepIntervalMs ?? 1_000,
  }
}
