// Yapily webhooks: `<signature header>: sha256=<hex HMAC-SHA256 of the raw body>` under the secret Yapily returned
// when the webhook was registered. The header, the scheme and the consent event type are our guesses (Yapily publishes
// none; docs/providers.md, Yapily), so header and type are configuration: without a configured secret nothing is
// accepted, and changes are found by reading instead. The envelope Yapily documents is
// `{ id (the webhook's), applicationId, type, event, metadata: { tracingId } }`: no time, and no event id.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { NotificationRejectedError, type InboundNotification, type ProviderEvent } from '../adapter.ts'
import { webhookSchema } from './mapping.ts'

/** Our guess at the consent status events' type (YapilyConfig.webhookConsentEventType's default). */
export const CONSENT_EVENT_TYPE = 'consent.status'

/** Our guess at the signature header (YapilyConfig.webhookSignatureHeader's default). */
export const SIGNATURE_HEADER = 'X-Yapily-Signature'

export interface YapilyWebhookSettings {
  /** @default SIGNATURE_HEADER */
  readonly signatureHeader?: string | undefined
  /** @default CONSENT_EVENT_TYPE */
  readonly consentEventType?: string | undefined
}

export function verifyYapilyNotification(
  notification: InboundNotification,
  secret: string | undefined,
  settings: YapilyWebhookSettings = {},
): ProviderEvent[] {
  if (!secret) throw new NotificationRejectedError('webhooks are not configured for Yapily', 'unauthenticated')
  const signatureHeader = settings.signatureHeader ?? SIGNATURE_HEADER
  const header = notification.headers[signatureHeader.toLowerCase()] ?? ''
  const presented = /^sha256=([0-9a-f]{64})$/i.exec(header.trim())?.[1]
  const expected = createHmac('sha256', secret).update(notification.body, 'utf8').digest()
  if (!presented || !timingSafeEqual(Buffer.from(presented, 'hex'), expected)) {
    throw new NotificationRejectedError(`missing or wrong ${signatureHeader}`, 'unauthenticated')
  }
  let json: unknown
  try {
    json = JSON.parse(notification.body)
  } catch (error) {
    throw new NotificationRejectedError('body is not JSON', 'malformed', { cause: error })
  }
  const parsed = webhookSchema.safeParse(json)
  if (!parsed.success) throw new NotificationRejectedError('unexpected notification shape', 'malformed')
  // Payment and other categories are acknowledged and not ours to act on.
  if (parsed.data.type !== (settings.consentEventType ?? CONSENT_EVENT_TYPE)) return []
  const consentId = parsed.data.event?.consentId
  if (!consentId) throw new NotificationRejectedError('consent event without consentId', 'malformed')
  // `id` names the webhook, the same on every delivery. The tracing id makes the signed body one delivery's: a body
  // carrying one is processed once (two different deliveries never share every byte); without one, two equal bodies
  // may be two real changes (a status left and come back), so each is read back.
  const tracingId = parsed.data.metadata?.tracingId
  return [
    {
      providerConsentId: consentId,
      providerStatus: parsed.data.event?.status ?? null,
      deliveryId: tracingId
        ? `sha256:${createHash('sha256').update(notification.body, 'utf8').digest('base64url')}`
        : null,
      sentAt: null,
    },
  ]
}
