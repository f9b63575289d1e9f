// The status notification Worldline posts (its notification spec v3.3.1, `POST {base}/v3/notification/status`): the
// body is `ConsentDetailedInformation` (ConsentId and ConsentStatus required; AspspId given), and every request carries
// the required headers `X-Request-ID` (a UUID per request) and `MessageCreateDateTime` (when it was made) beside the
// Bearer token. The sandbox labels every notification v3, whatever version was subscribed.
import { randomUUID } from 'node:crypto'
import type { WorldlineConsent } from './consent.ts'

export const NOTIFICATION_VERSION = 'v3'

/** Serialised once per change: the dispatcher sends these exact bytes on every attempt. */
export function consentStatusNotification(consent: Pick<WorldlineConsent, 'consentId' | 'status' | 'aspspId'>): string {
  return JSON.stringify({ ConsentId: consent.consentId, ConsentStatus: consent.status, AspspId: consent.aspspId })
}

/**
 * The headers of one notification request, made afresh for every attempt (each attempt is a new request): a new
 * request id, and the time by the sandbox's clock, as Worldline dates its messages by its own.
 */
export function notificationHeaders(token: string, now: Date): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'X-Request-ID': randomUUID(),
    MessageCreateDateTime: now.toISOString(),
  }
}
