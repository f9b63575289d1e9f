// Worldline status notifications (its notification spec v3.3.1, `POST /v3/notification/status`): authenticated by the
// Notification Bearer Token configured in the back office, compared in constant time; the required `X-Request-ID`
// identifies the delivery and `MessageCreateDateTime` dates it; the body names the consent and its new status.
import { createHash, timingSafeEqual } from 'node:crypto'
import { NotificationRejectedError, type InboundNotification, type ProviderEvent } from '../adapter.ts'
import { notificationSchema } from './mapping.ts'

/** Worldline posts to `{InitiatingPartyNotificationUrl}/notification/status` (form A of its notification URL). */
const NOTIFICATION_PATH = /^\/v[23]\/notification\/status\/?$/

/** A date-time with a zone (`2020-09-25T08:15:00.856Z`, `...+02:00`): a time without one means nothing to us. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

const digest = (value: string) => createHash('sha256').update(value).digest()

export function verifyWorldlineNotification(notification: InboundNotification, expectedToken: string): ProviderEvent[] {
  const authorization = notification.headers.authorization ?? ''
  const presented = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim() ?? ''
  // Equal-length digests: the comparison takes the same time whatever was presented.
  if (!presented || !timingSafeEqual(digest(presented), digest(expectedToken))) {
    throw new NotificationRejectedError('missing or wrong notification bearer token', 'unauthenticated')
  }
  if (notification.path !== undefined && !NOTIFICATION_PATH.test(notification.path)) {
    throw new NotificationRejectedError(`unexpected notification path ${notification.path.slice(0, 100)}`, 'malformed')
  }
  // Both headers are required by the spec (1 to 36 characters for the request id, an ISO 8601 date-time).
  const requestId = notification.headers['x-request-id']?.trim() ?? ''
  if (requestId.length < 1 || requestId.length > 36) {
    throw new NotificationRejectedError('missing or malformed X-Request-ID', 'malformed')
  }
  const created = notification.headers['messagecreatedatetime']?.trim() ?? ''
  const sentAt = ISO_DATE_TIME.test(created) ? new Date(created) : null
  if (!sentAt || Number.isNaN(sentAt.getTime())) {
    throw new NotificationRejectedError('missing or malformed MessageCreateDateTime', 'malformed')
  }
  let json: unknown
  try {
    json = JSON.parse(notification.body)
  } catch (error) {
    throw new NotificationRejectedError('body is not JSON', 'malformed', { cause: error })
  }
  const parsed = notificationSchema.safeParse(json)
  if (!parsed.success) throw new NotificationRejectedError('unexpected notification shape', 'malformed')
  return [
    {
      providerConsentId: parsed.data.ConsentId,
      providerStatus: parsed.data.ConsentStatus ?? null,
      deliveryId: requestId,
      sentAt: sentAt.toISOString(),
    },
  ]
}
