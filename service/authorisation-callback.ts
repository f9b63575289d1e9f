// The user's browser coming back from any provider: every adapter gives its provider the consent's signed link under
// /callbacks/<provider>/ as the redirect. The link names the consent; the provider is read back and only its own record
// counts (whatever the provider appended to the link is ignored, save a refusal and Yapily's token, which is accepted
// only if it is the one the provider holds); then the browser goes on to the partner's redirect URL with our consent
// id and the unified status. Never the secret, never the provider's own ids. What happened is returned as a
// `CallbackReply` (or a `CallbackFailure`); http/callbacks.ts turns it into the browser's answer.
import type { Consent } from '../domain/consent.ts'
import { effectiveStatus } from '../domain/derived.ts'
import { ServiceUnavailableError } from '../domain/errors.ts'
import { encodePublicId } from '../domain/ids.ts'
import type { Provider } from '../domain/provider.ts'
import type { CallbackResult, ProviderRegistry, ProviderSnapshot } from '../providers/adapter.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import type { CallbackLinks } from './callback-links.ts'
import { providerInitiator, type ConsentRecorder } from './consent-recorder.ts'
import type { Logger } from '../runtime/logging.ts'

export interface AuthorisationCallbackDependencies {
  readonly consents: ConsentRepository
  readonly recorder: ConsentRecorder
  readonly providers: ProviderRegistry
  readonly callbackLinks: CallbackLinks
  readonly clock: () => Date
  readonly logger: Logger
}

export type CallbackReply =
  /** Send the browser on to the partner (the URL carries our consent id and the unified status). */
  | { readonly kind: 'redirect'; readonly location: string; readonly consent: Consent }
  /** The partner gave no redirect URL: show a page saying the user may close the window. */
  | { readonly kind: 'done'; readonly consent: Consent }
  | { readonly kind: 'unknown_link' }

/**
 * The partner's redirect URL with what happened, as the API would show it now: `consent_id` (our public id),
 * `status` and, when there is one, `status_reason`. Never anything secret.
 */
export function partnerRedirect(consent: Consent, now: Date): string | null {
  if (!consent.redirectUrl) return null
  const url = new URL(consent.redirectUrl)
  const shown = effectiveStatus(consent, now)
  url.searchParams.set('consent_id', encodePublicId('Consent', consent.id))
  url.searchParams.set('status', shown.status)
  if (shown.reason) url.searchParams.set('status_reason', shown.reason)
  return url.toString()
}

/**
 * What the provider's record says, with what only the browser's return can add: a refusal, where the provider's
 * status does not tell a refusal from a failure (Finqware labels both `failed`).
 */
function withCallbackEvidence(snapshot: ProviderSnapshot, brought: CallbackResult): ProviderSnapshot {
  const ended = snapshot.status === 'FAILED' || snapshot.status === 'REJECTED'
  return brought.denied && ended && snapshot.reason === null ? { ...snapshot, reason: 'USER_DENIED' } : snapshot
}

export async function completeAuthorisation(
  deps: AuthorisationCallbackDependencies,
  provider: Provider,
  token: string,
  query: URLSearchParams,
  requestId: string,
): Promise<CallbackReply> {
  const target = deps.callbackLinks.read(token)
  const consent = target && (await deps.consents.get(target.tenantId, target.consentId, { consistent: true }))
  if (!consent || consent.provider !== provider) return { kind: 'unknown_link' }

  const adapter = await deps.providers.get(provider)
  const brought = adapter.readCallback?.(query) ?? { secret: null, error: null, denied: false }
  const context = { requestId, logger: deps.logger }
  let recorded = consent
  try {
    // The adapter keeps only the brought secrets its provider's record holds: a replayed or forged one is dropped.
    const callbackSecrets = brought.secrets ?? (brought.secret ? [brought.secret] : [])
    const ref = await deps.recorder.refFor(consent, adapter)
    const snapshot = await adapter.fetch(callbackSecrets.length > 0 ? { ...ref, callbackSecrets } : ref, context)
    if (brought.error)
      deps.logger.info('provider reported an authorisation error', { consentId: consent.id, error: brought.error })
    recorded = await deps.recorder.record(
      consent,
      withCallbackEvidence(snapshot, brought),
      'PROVIDER_REDIRECT',
      providerInitiator(adapter),
      context,
    )
  } catch (error) {
    // The user is on their way back: a provider (or table) that cannot answer just now must not strand them here.
    // The partner's page hears what we know; the provider's notification or the next re-check records the rest.
    deps.logger.warn('callback could not read the consent back; sending the browser on with what is known', {
      consentId: consent.id,
      provider,
      error,
    })
  }
  const location = partnerRedirect(recorded, deps.clock())
  return location ? { kind: 'redirect', location, consent: recorded } : { kind: 'done', consent: recorded }
}

/** Why a callback could not be completed: the store unavailable (try again shortly), or anything else. */
export type CallbackFailure =
  { readonly kind: 'unavailable'; readonly retryAfterSeconds: number } | { readonly kind: 'failed' }

/** The failure a callback's error amounts to, logged unless it is the store being down (counted elsewhere). */
export function callbackFailure(error: unknown, logger: Logger, provider: Provider): CallbackFailure {
  logger.error('authorisation callback failed', { provider, error })
  return error instanceof ServiceUnavailableError
    ? { kind: 'unavailable', retryAfterSeconds: error.retryAfterSeconds }
    : { kind: 'failed' }
}
