// Webhook event categories, the consent status event body, and its HMAC signature.
import { createHmac } from 'node:crypto'
import type { YapilyConsent } from './consent.ts'

/**
 * Our guess at the consent events' category (the `consentEventType` option's default): Yapily publishes no consent
 * category (docs/providers.md, Yapily).
 */
export const DEFAULT_CONSENT_EVENT_TYPE = 'consent.status'

/** Our guess at the signature header (the `webhookSignatureHeader` option's default), from third-party clients. */
export const DEFAULT_SIGNATURE_HEADER = 'X-Yapily-Signature'

export interface WebhookCategory {
  name: string
  description: string
}

/** `GET /webhook/events/categories`: the consent category plus the two payment categories the spec's example lists. */
export function webhookCategories(consentEventType: string = DEFAULT_CONSENT_EVENT_TYPE): WebhookCategory[] {
  return [
    { name: consentEventType, description: 'An event sent whenever a consent changes status (sandbox category)' },
    { name: 'payment.state.success', description: 'An event sent when payment reaches a terminal successful status' },
    { name: 'payment.state.failed', description: 'An event sent when payment reaches a terminal failed status' },
  ]
}

export interface ConsentStatusEvent {
  /** The webhook the event is delivered for: Yapily's sample names `id` "the webhook id used to trigger this event". */
  webhookId: string
  applicationId: string
  consent: Pick<YapilyConsent, 'id' | 'status' | 'institutionId' | 'applicationUserId'>
  /** Unique per delivery target and change (two webhooks get two), so each delivery is signed with its secret. */
  tracingId: string
  /** The webhook's registration metadata, "returned on every Webhook trigger" (spec `WebhookMetadata`). */
  metadata: Readonly<Record<string, string>> | null
  /** The event's `type`. @default DEFAULT_CONSENT_EVENT_TYPE */
  type?: string
}

/**
 * The delivery envelope of Yapily's sample notification, `{ id, applicationId, type, event, metadata: { tracingId } }`:
 * no event id and no time (`id` is the webhook's). The `event` field names are ours (our guess): Yapily's consent
 * categories are not published. Serialised once: the signature covers exactly these bytes.
 */
export function consentStatusEventBody(event: ConsentStatusEvent): string {
  return JSON.stringify({
    id: event.webhookId,
    applicationId: event.applicationId,
    type: event.type ?? DEFAULT_CONSENT_EVENT_TYPE,
    event: {
      consentId: event.consent.id,
      status: event.consent.status,
      institutionId: event.consent.institutionId,
      applicationUserId: event.consent.applicationUserId,
    },
    metadata: { ...event.metadata, tracingId: event.tracingId },
  })
}

/**
 * `sha256=<lowercase hex HMAC-SHA256(raw body)>` keyed by the webhook secret's UTF-8 bytes: the scheme third-party
 * clients assume, unverified against Yapily.
 */
export function webhookSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`
}
