// What the partner is told about a change: the webhook body, built from the history event it reports.
import type { Consent, ConsentEvent } from './consent.ts'
import { encodePublicId } from './ids.ts'

/**
 * The partner webhook body. Keeps the seed's shape `{type, consent_id, status}` and adds what a receiver needs to
 * order, de-duplicate and audit deliveries.
 */
/** The webhook `type` per event kind; status changes keep the seed's `consent_status_update`. */
export const NOTIFICATION_TYPES = {
  CHANGE: 'consent_status_update',
  EXPIRY_WARNING: 'consent_expiry_warning',
  RECONFIRMATION_WARNING: 'consent_reconfirmation_warning',
  RECONFIRMATION_LAPSED: 'consent_reconfirmation_lapsed',
} as const satisfies Record<ConsentEvent['kind'], string>

export interface ConsentNotification {
  readonly type: (typeof NOTIFICATION_TYPES)[ConsentEvent['kind']]
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
  /** When a deadline caused the event (a warning, a lapse, an expiry): the deadline (`linkExpiresAt`, `validUntil`, `reconfirmBy`). */
  readonly deadline_at: string | null
}

/** The body's keys in the order a reader expects them (DynamoDB does not keep a map's order). */
const BODY_KEYS = [
  'type',
  'event_id',
  'consent_id',
  'status',
  'previous_status',
  'status_reason',
  'provider',
  'provider_status',
  'occurred_at',
  'sequence',
  'deadline_at',
] as const satisfies readonly (keyof ConsentNotification)[]

/** The webhook body, byte for byte what is signed and sent: keys in a fixed order, whatever order they were stored in. */
export function serializeNotification(notification: ConsentNotification): string {
  return JSON.stringify(Object.fromEntries(BODY_KEYS.map((key) => [key, notification[key] ?? null])))
}

export function notificationFor(event: ConsentEvent, consent: Pick<Consent, 'provider'>): ConsentNotification {
  return {
    type: NOTIFICATION_TYPES[event.kind],
    event_id: encodePublicId('ConsentEvent', event.id),
    consent_id: encodePublicId('Consent', event.consentId),
    status: event.to,
    previous_status: event.from,
    status_reason: event.reason,
    provider: consent.provider,
    provider_status: event.providerStatus,
    occurred_at: event.at,
    sequence: event.version,
    deadline_at: event.deadline,
  }
}

/** Delivery of one outbox message: PENDING until delivered, DEAD after the retry period, NO_ENDPOINT without a URL. */
export const DELIVERY_STATES = ['PENDING', 'DELIVERED', 'DEAD', 'NO_ENDPOINT'] as const
export type DeliveryState = (typeof DELIVERY_STATES)[number]

export interface DeliveryAttempt {
  readonly at: string
  readonly url: string
  /** The partner's HTTP status; null when no answer came (refused, timed out, unreachable). */
  readonly status: number | null
  readonly error: string | null
  readonly durationMs: number
}

export interface OutboxMessage {
  readonly tenantId: string
  readonly consentId: string
  /** The per-consent sequence number (the consent version the event produced). */
  readonly sequence: number
  readonly eventId: string
  /** The consent's own webhook URL when the event was written; null: the tenant's default applies. */
  readonly webhookUrl: string | null
  readonly notification: ConsentNotification
  readonly deliveryState: DeliveryState
  readonly attempts: number
  /** When it is tried next; for a message waiting behind an earlier one, that one's next attempt. */
  readonly nextAttemptAt: string | null
  /**
   * A PENDING message behind an earlier pending one of its consent waits for it (messages go out in sequence order):
   * that message's sequence. Null when nothing is ahead of it.
   */
  readonly waitingForSequence: number | null
  readonly lastAttempt: DeliveryAttempt | null
  readonly deliveredAt: string | null
  readonly createdAt: string
}
