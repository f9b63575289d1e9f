// What the partner is told about a change: the webhook body, built from the history event it reports.
import type { Consent, ConsentEvent } from './consent.ts'
import { encodePublicId } from './ids.ts'

/**
 * The partner webhook body. Keeps the seed's shape `{type, consent_id, status}` and adds what a receiver needs to
 * order, de-duplicate and audit deliveries.
 */
export interface ConsentNotification {
  readonly type: 'consent_status_update'
  readonly event_id: string
  readonly consent_id: string
  readonly status: Consent['status']
  readonly previous_status: Consent['status'] | null
  readonly status_reason: Consent['statusReason']
  readonly provider: Consent['provider']
  readonly provider_status: string | null
  readonly occurred_at: string
  /** Per-consent sequence number (the consent version the event produced): order and gaps are visible. */
  readonly sequence: number
}

export function notificationFor(event: ConsentEvent, consent: Pick<Consent, 'provider'>): ConsentNotification {
  return {
    type: 'consent_status_update',
    event_id: encodePublicId('ConsentEvent', event.id),
    consent_id: encodePublicId('Consent', event.consentId),
    status: event.to,
    previous_status: event.from,
    status_reason: event.reason,
    provider: consent.provider,
    provider_status: event.providerStatus,
    occurred_at: event.at,
    sequence: event.version,
  }
}
