// A provider notification as an HTTP exchange, whatever carries it (node:http locally, a Lambda URL on AWS):
// 200 once recorded (and for a verbatim replay of one already processed: acknowledged, not processed again), 401/400
// when it is not authentic, not understood or dated outside the tolerance, 404 for a consent we do not know (the
// provider retries, which covers a notification racing our own write), 503 with Retry-After when we could not check
// or record it, and 503 while the same delivery is being processed.
import { isConsentGatewayError, ServiceUnavailableError } from '../domain/errors.ts'
import type { Provider } from '../domain/provider.ts'
import { NotificationRejectedError, type InboundNotification, type Logger } from '../providers/adapter.ts'
import { StaleNotificationError, type ConsentService } from './consent-service.ts'

export interface NotificationReply {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly headers?: Readonly<Record<string, string>>
}

/** What a 503 asks the provider to wait when the failure itself does not say. */
const DEFAULT_RETRY_AFTER_SECONDS = 30

export async function receiveProviderNotification(
  consents: ConsentService,
  logger: Logger,
  provider: Provider,
  notification: InboundNotification,
  requestId: string,
): Promise<NotificationReply> {
  try {
    const outcomes = await consents.ingestNotification(provider, notification, requestId)
    const unknown = outcomes.filter((outcome) => outcome.result === 'unknown_consent')
    if (unknown.length > 0) {
      logger.warn('notification for an unknown consent', {
        provider,
        providerConsentIds: unknown.map((u) => u.providerConsentId),
      })
      return { status: 404, body: { error: 'unknown_consent', requestId } }
    }
    if (outcomes.some((outcome) => outcome.result === 'in_progress')) {
      return { status: 503, body: { error: 'retry_later', requestId } }
    }
    return { status: 200, body: { received: outcomes.length, requestId } }
  } catch (error) {
    if (error instanceof NotificationRejectedError) {
      logger.warn('notification rejected', { provider, reason: error.message })
      return {
        status: error.httpStatus,
        body: {
          error:
            error.httpStatus === 401
              ? 'unauthenticated'
              : error instanceof StaleNotificationError
                ? 'stale_notification'
                : 'bad_request',
          requestId,
        },
      }
    }
    const code = isConsentGatewayError(error) ? error.code : 'INTERNAL_SERVER_ERROR'
    logger.error('notification not recorded; the provider will retry', { provider, code, error })
    const retryAfter =
      error instanceof ServiceUnavailableError
        ? error.retryAfterSeconds
        : ((error as { retryAfterSeconds?: number | null }).retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS)
    return { status: 503, headers: { 'retry-after': String(retryAfter) }, body: { error: 'retry_later', requestId } }
  }
}
