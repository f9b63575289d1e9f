// A provider's notification taken in, whatever carries it: what became of it, for the transport to answer (http/
// answers 200, 4xx or 503 from it). A verbatim replay of a delivery already processed counts as recorded (acknowledged,
// not processed again); a consent we do not know is worth the provider's retry (it may have raced our own write), as
// is anything we could not check or record, and the same delivery still being processed.
import { isConsentGatewayError, ServiceUnavailableError } from '../domain/errors.ts'
import type { Provider } from '../domain/provider.ts'
import {
  NotificationRejectedError,
  type InboundNotification,
  type NotificationRejection,
} from '../providers/adapter.ts'
import type { ConsentService } from './consent-service.ts'
import type { Logger } from '../runtime/logging.ts'

export type NotificationIntake =
  /** Every event in it is recorded (or was, by an earlier delivery of the same). */
  | { readonly kind: 'recorded'; readonly events: number }
  /** It names a consent we do not know. */
  | { readonly kind: 'unknown_consent' }
  /** The same delivery is being processed right now. */
  | { readonly kind: 'in_progress' }
  /** Not authentic, not understood, or dated outside the tolerance: a retry of the same changes nothing. */
  | { readonly kind: 'rejected'; readonly reason: NotificationRejection }
  /** We could not check or record it (the store or the provider failing): the provider should retry after this. */
  | { readonly kind: 'not_recorded'; readonly retryAfterSeconds: number }

/** What a failure to record asks the provider to wait when the failure itself does not say. */
const DEFAULT_RETRY_AFTER_SECONDS = 30

export async function receiveProviderNotification(
  consents: ConsentService,
  logger: Logger,
  provider: Provider,
  notification: InboundNotification,
  requestId: string,
): Promise<NotificationIntake> {
  try {
    const outcomes = await consents.ingestNotification(provider, notification, requestId)
    const unknown = outcomes.filter((outcome) => outcome.result === 'unknown_consent')
    if (unknown.length > 0) {
      logger.warn('notification for an unknown consent', {
        provider,
        providerConsentIds: unknown.map((u) => u.providerConsentId),
      })
      return { kind: 'unknown_consent' }
    }
    if (outcomes.some((outcome) => outcome.result === 'in_progress')) return { kind: 'in_progress' }
    return { kind: 'recorded', events: outcomes.length }
  } catch (error) {
    if (error instanceof NotificationRejectedError) {
      logger.warn('notification rejected', { provider, reason: error.message })
      return { kind: 'rejected', reason: error.reason }
    }
    const code = isConsentGatewayError(error) ? error.code : 'INTERNAL_SERVER_ERROR'
    logger.error('notification not recorded; the provider will retry', { provider, code, error })
    const retryAfterSeconds =
      error instanceof ServiceUnavailableError
        ? error.retryAfterSeconds
        : ((error as { retryAfterSeconds?: number | null }).retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS)
    return { kind: 'not_recorded', retryAfterSeconds }
  }
}
