// The provider seam: one interface every provider adapter implements, and the registry the service finds them in.
// A new provider is one folder under providers/ plus one registry entry; the core does not change.
import type { ProviderCapabilities } from '../domain/capabilities.ts'
import type { Timestamp } from '../domain/consent.ts'
import { UnsupportedByProviderError } from '../domain/errors.ts'
import type { ProviderObservation } from '../domain/observation.ts'
import type { DataScope, Provider, Region } from '../domain/provider.ts'
import type { Logger } from '../runtime/logging.ts'

/** The provider's entry of domain/capabilities.ts, and what only the adapter knows. */
export interface Capabilities extends ProviderCapabilities {
  /** Every scope combination the provider can grant, in canonical order. */
  readonly scopes: readonly (readonly DataScope[])[]
}

export interface InstitutionInfo {
  readonly id: string
  readonly name: string
  readonly country: string
  readonly region: Region
}

/** What the provider holds about a consent, mapped to the unified model. */
export interface ProviderSnapshot extends ProviderObservation {
  readonly providerConsentId: string
  /** A secret the provider issued for this consent (Yapily's consentToken): sealed by the service, never shown. */
  readonly secret?: string | null
}

/** The outcome of deleting a consent at its provider. */
export interface ProviderRemoval {
  readonly snapshot: ProviderSnapshot
  readonly deleteStatus: 'SUCCESS' | 'FAILED'
  /** Whether the bank deleted its copy too; null when the provider cannot say. */
  readonly deletedAtInstitution: boolean | null
}

/** What the user's browser brought back to our callback from the provider. */
export interface CallbackResult {
  /** The secret the callback carried (Yapily `consent=<token>`), to be checked against the provider's record. */
  readonly secret: string | null
  /**
   * Every secret the callback carried, in order, where a provider may send several (Yapily, at a bank that returns
   * one consent per account); `secret` is the first.
   */
  readonly secrets?: readonly string[]
  /** The provider's error code when the user declined or the bank failed. */
  readonly error: string | null
  /**
   * The provider's redirect says the user declined (`error=access_denied`): where the provider's status alone cannot
   * tell a refusal from a failure (Finqware `failed`), this is what makes the reason USER_DENIED.
   */
  readonly denied: boolean
}

export interface CreateConsentRequest {
  /** Our consent id, for correlation in the provider's logs where it has a field for it. */
  readonly consentId: string
  /**
   * What the provider is to know the user by (Worldline psuId, Yapily applicationUserId): opaque, one per tenant and
   * user, never the partner's raw user id. Providers that take no user reference ignore it.
   */
  readonly userRef: string
  readonly institution: InstitutionInfo
  readonly region: Region
  readonly scope: readonly DataScope[]
  readonly validityDays: number
  readonly linkExpiresInDays: number
  /** Our endpoint for this provider's notifications. */
  readonly notificationUrl: string
  /**
   * Where the provider sends the user's browser after the bank, whatever the provider (Finqware `redirect_url`,
   * Worldline `InitiatingPartyReturnUrl`, Yapily `callback`): our signed link for this consent, which reads the
   * outcome back from the provider and forwards the browser to the partner's redirect URL with our consent id. The
   * partner's own URL is never given to a provider.
   */
  readonly callbackUrl: string
}

/** How an adapter finds a consent at its provider. */
export interface ProviderConsentRef {
  readonly providerConsentId: string
  /** The user reference the consent was created with ({@link CreateConsentRequest.userRef}). */
  readonly userRef: string
  readonly institutionId: string
  /** The provider-issued secret, opened for this call (only for adapters with `usesConsentSecret`). */
  readonly secret?: string | null
  /**
   * The secrets the user's browser brought to our callback, unverified: the adapter keeps only those its provider's
   * record holds (Yapily: further consents of a bank that returns one consent per account). Only on the callback's
   * read.
   */
  readonly callbackSecrets?: readonly string[]
}

export interface ProviderCallContext {
  readonly requestId: string
  readonly logger: Logger
  /** Aborts the provider call when the caller gives up. */
  readonly signal?: AbortSignal | undefined
}

/** An inbound provider notification exactly as received: the raw body matters for signature checks. */
export interface InboundNotification {
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  /**
   * What followed the provider's notification path (`/webhooks/<provider>`), e.g. Worldline's
   * `/v3/notification/status`; empty for the path itself.
   */
  readonly path?: string
}

/** One status change a provider told us about. */
export interface ProviderEvent {
  readonly providerConsentId: string
  /** The raw status the provider sent, when it sent one. */
  readonly providerStatus: string | null
  /**
   * What tells this delivery apart from every other one the provider sends (Worldline's `X-Request-ID`), carried
   * unchanged by a verbatim replay: the gateway processes a delivery once. Null when the notification carries nothing
   * that does (a replay is then read back like any notification).
   */
  readonly deliveryId: string | null
  /** When the provider says it sent the notification (Worldline's `MessageCreateDateTime`); null when it does not. */
  readonly sentAt: Timestamp | null
}

export interface ProviderAdapter {
  readonly provider: Provider
  readonly displayName: string
  readonly capabilities: Capabilities
  listInstitutions(context: ProviderCallContext): Promise<InstitutionInfo[]>
  create(request: CreateConsentRequest, context: ProviderCallContext): Promise<ProviderSnapshot>
  fetch(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot>
  /** Revokes at the provider; revoking twice is not an error. Returns the state after revoking. */
  revoke(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot>
  /**
   * Checks a notification's authenticity first (throws {@link NotificationRejectedError} when it fails), then
   * parses it. Replays (by `deliveryId`), stale ones (by `sentAt`) and out-of-order events are the caller's to handle.
   */
  verifyNotification(notification: InboundNotification): Promise<ProviderEvent[]>
  /**
   * The provider's time as best known (from the `Date` of its answers), for providers that date their notifications:
   * `sentAt` is compared with it, so a skewed provider clock is not taken for a stale notification.
   */
  providerNow?(): Date
  /** Starts re-authorisation of the same consent (capability `reauthorize`). */
  reauthorize?(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot>
  /** Records the user's UK reconfirmation (capability `reconfirm`). */
  reconfirm?(ref: ProviderConsentRef, confirmedAt: Date, context: ProviderCallContext): Promise<ProviderSnapshot>
  /** Deletes the consent at the provider (capability `delete`). */
  remove?(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderRemoval>
  /** Reads what the provider's redirect brought to our callback (providers that redirect to us). */
  readCallback?(query: URLSearchParams): CallbackResult
  /**
   * The secret to keep where `stored` is kept and a call issued `issued` (providers whose secret can hold more than a
   * call may know): a call that opened an older secret knows less than one stored since (Yapily: the further consents
   * a callback brought), and must not take it away. Without it, `issued` replaces `stored`.
   */
  mergeSecrets?(providerConsentId: string, stored: string, issued: string): string
}

/**
 * Why a provider notification is refused: not authentic, not understood, or (the consent service's check of its
 * `sentAt`) dated outside the tolerance. A retry of the same changes nothing.
 */
export type NotificationRejection = 'unauthenticated' | 'malformed' | 'stale'

/**
 * A provider notification that failed its authenticity, shape or freshness check: never processed. It says
 * what went wrong; the transport decides what that answers (a status is HTTP's business, not a provider's).
 */
export class NotificationRejectedError extends Error {
  override readonly name = 'NotificationRejectedError'
  constructor(
    message: string,
    readonly reason: NotificationRejection,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export type AdapterFactory = () => Promise<ProviderAdapter>

/**
 * The providers this deployment talks to. Adapters are built on first use, so a Lambda that never sees a provider
 * never loads its code.
 */
export class ProviderRegistry {
  readonly #factories = new Map<Provider, AdapterFactory>()
  readonly #adapters = new Map<Provider, Promise<ProviderAdapter>>()

  register(provider: Provider, factory: AdapterFactory): this {
    this.#factories.set(provider, factory)
    return this
  }

  /** The configured providers, in registration order. */
  providers(): Provider[] {
    return [...this.#factories.keys()]
  }

  has(provider: Provider): boolean {
    return this.#factories.has(provider)
  }

  /** The adapter for `provider`; UNSUPPORTED_BY_PROVIDER when this deployment has none. */
  get(provider: Provider): Promise<ProviderAdapter> {
    const existing = this.#adapters.get(provider)
    if (existing) return existing
    const factory = this.#factories.get(provider)
    if (!factory) return Promise.reject(new UnsupportedByProviderError(provider, 'consents (provider not configured)'))
    const adapter = factory()
    // A failed load (bad configuration) is retried on the next use rather than cached.
    adapter.catch(() => this.#adapters.delete(provider))
    this.#adapters.set(provider, adapter)
    return adapter
  }
}
