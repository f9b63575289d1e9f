// The status notification body (worldline.md 2.5). Its fields appear only as an image in the docs [?]: these names
// are our assumption [I]. The sandbox always sends this one shape, labelled v3, whatever version was subscribed.
import type { WorldlineConsent } from './consent.ts'

export const NOTIFICATION_VERSION = 'v3'

/** Serialised once per change: the dispatcher sends these exact bytes on every attempt. */
export function consentStatusNotification(
  consent: Pick<WorldlineConsent, 'consentId' | 'status' | 'psuId' | 'aspspId'>,
  changedAt: Date,
): string {
  return JSON.stringify({
    ConsentId: consent.consentId,
    ConsentStatus: consent.status,
    PsuId: consent.psuId,
    AspspId: consent.aspspId,
    NotificationVersion: NOTIFICATION_VERSION,
    StatusChangeDateTime: changedAt.toISOString(),
  })
}
