// Finqware webhook verification: `x-signature` is a compact JWS whose payload must equal the raw body, signed by a key
// of the JWKS Finqware publishes (two keys, rotated about every 90 days). An unknown kid refetches the JWKS once (at
// most once per cooldown), then the notification is rejected. The signed payload is the body itself
// (`{type, consent_id, status}`): no claims (iat, jti), no id, no time, so a replay cannot be told from a real repeat.
import { compactVerify, createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors } from 'jose'
import * as z from '../../domain/zod.ts'
import { NotificationRejectedError, type InboundNotification, type ProviderEvent } from '../adapter.ts'

const notificationSchema = z.object({
  type: z.string(),
  consent_id: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  status: z.optional(z.string().check(z.maxLength(64))),
})

const ALGORITHMS = ['RS256', 'ES256']

/** Verification failures that mean the notification is not authentic (`unauthenticated`: never retried into success). */
const SENDER_FAULTS = [
  joseErrors.JWSSignatureVerificationFailed,
  joseErrors.JWKSNoMatchingKey,
  joseErrors.JWKSMultipleMatchingKeys,
  joseErrors.JWSInvalid,
  joseErrors.JOSEAlgNotAllowed,
  joseErrors.JOSENotSupported,
]

export class FinqwareNotificationVerifier {
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>

  constructor(jwksUrl: string, refetchCooldownMs: number) {
    this.#jwks = createRemoteJWKSet(new URL(jwksUrl), {
      cooldownDuration: refetchCooldownMs,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 5_000,
    })
  }

  async verify(notification: InboundNotification): Promise<ProviderEvent[]> {
    const signature = notification.headers['x-signature']
    if (!signature) throw new NotificationRejectedError('missing x-signature header', 'unauthenticated')
    let kid: string | undefined
    try {
      kid = decodeProtectedHeader(signature).kid
    } catch (error) {
      throw new NotificationRejectedError('x-signature is not a compact JWS', 'unauthenticated', { cause: error })
    }
    const announcedKid = notification.headers['x-signature-kid']
    if (announcedKid !== undefined && announcedKid !== kid) {
      throw new NotificationRejectedError('x-signature-kid does not match the signed header', 'unauthenticated')
    }

    let payload: Uint8Array
    try {
      ;({ payload } = await compactVerify(signature, this.#jwks, { algorithms: ALGORITHMS }))
    } catch (error) {
      if (!SENDER_FAULTS.some((fault) => error instanceof fault)) {
        // We could not check (JWKS unreachable, timed out, malformed): not the sender's fault; a server error makes
        // Finqware retry later.
        throw error
      }
      const reason =
        error instanceof joseErrors.JWKSNoMatchingKey ? `unknown signing key "${kid}"` : 'invalid signature'
      throw new NotificationRejectedError(reason, 'unauthenticated', { cause: error })
    }
    if (!Buffer.from(payload).equals(Buffer.from(notification.body, 'utf8'))) {
      throw new NotificationRejectedError('signed payload differs from the body', 'unauthenticated')
    }

    let json: unknown
    try {
      json = JSON.parse(notification.body)
    } catch (error) {
      throw new NotificationRejectedError('body is not JSON', 'malformed', { cause: error })
    }
    const parsed = notificationSchema.safeParse(json)
    if (!parsed.success) throw new NotificationRejectedError('unexpected notification shape', 'malformed')
    // Job notifications (job_status_update) are not about the consent's state: acknowledged, nothing to do.
    if (parsed.data.type !== 'consent_status_update') return []
    if (!parsed.data.consent_id)
      throw new NotificationRejectedError('consent_status_update without consent_id', 'malformed')
    return [
      {
        providerConsentId: parsed.data.consent_id,
        providerStatus: parsed.data.status ?? null,
        deliveryId: null,
        sentAt: null,
      },
    ]
  }
}
