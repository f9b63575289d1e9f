// Worldline status notifications (worldline.md 2.5): authenticated by the Notification Bearer Token configured in the
// back office, compared in constant time; the body names the consent and its new status.
import { createHash, timingSafeEqual } from 'node:crypto'
import { NotificationRejectedError, type InboundNotification, type ProviderEvent } from '../adapter.ts'
import { notificationSchema } from './mapping.ts'

/** Worldline posts to `{InitiatingPartyNotificationUrl}/notification/status` (form A, worldline.md 2.2). */
const NOTIFICATION_PATH = /^\/v[23]\/notification\/status\/?$/

const digest = (value: string) => createHash('sha256').update(value).digest()

export function verifyWorldlineNotification(notification: InboundNotification, expectedToken: string): ProviderEvent[] {
  const authorization = notification.headers.authorization ?? ''
  const presented = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim() ?? ''
  // Equal-length digests: the comparison takes the same time whatever was presented.
  if (!presented || !timingSafeEqual(digest(presented), digest(expectedToken))) {
    throw new NotificationRejectedError('missing or wrong notification bearer token', 401)
  }
  if (notification.path !== undefined && !NOTIFICATION_PATH.test(notification.path)) {
    throw new NotificationRejectedError(`unexpected notification path ${notification.path.slice(0, 100)}`, 400)
  }
  let json: unknown
  try {
    json = JSON.parse(notification.body)
  } catch (error) {
    throw new NotificationRejectedError('body is not JSON', 400, { cause: error })
  }
  const parsed = notificationSchema.safeParse(json)
  if (!parsed.success) throw new NotificationRejectedError('unexpected notification shape', 400)
  return [
    {
      providerConsentId: parsed.data.ConsentId,
      providerStatus: parsed.data.ConsentStatus ?? null,
      providerEventId: null,
      occurredAt: parsed.data.StatusChangeDateTime ?? null,
    },
  ]
}
