// Finqware's consent bodies -> the unified snapshot. Parsing is tolerant: unknown fields are ignored, unknown
// statuses map to UNKNOWN, and only what the adapter relies on is required.
import { mapProviderStatus } from '../../domain/crosswalk.ts'
import * as z from '../../domain/zod.ts'
import type { ProviderSnapshot } from '../adapter.ts'

const isoTimestamp = z.pipe(
  z.nullish(z.string()),
  z.transform((value) => {
    if (!value) return null
    const ms = Date.parse(value)
    return Number.isNaN(ms) ? null : new Date(ms).toISOString()
  }),
)

export const createResponseSchema = z.object({
  consent_id: z.string().check(z.minLength(1)),
  web_id: z.nullish(z.string()),
  web_url: z.nullish(z.string()),
  /** direct_sca only: the bank's own authorisation URL (Finqware publishes no name for it; the sandbox's choice). */
  sca_url: z.nullish(z.string()),
  expires_at: isoTimestamp,
  consent_validity_days: z.nullish(z.number()),
})

export const consentSchema = z.object({
  consent_id: z.string().check(z.minLength(1)),
  status: z.nullish(z.string()),
  web_url: z.nullish(z.string()),
  sca_url: z.nullish(z.string()),
  expires_at: isoTimestamp,
  authorized_until: isoTimestamp,
  consent_validity_days: z.nullish(z.number()),
})

export const revokeResponseSchema = z.object({
  consent_id: z.string().check(z.minLength(1)),
  status: z.nullish(z.string()),
})

/** The token answer as OAuth2 defines it (RFC 6749 §5.1): `expires_in` in seconds. */
export const tokenSchema = z.object({
  access_token: z.string().check(z.minLength(1)),
  token_type: z.nullish(z.string()),
  expires_in: z.nullish(z.number().check(z.positive())),
})

export const errorBodySchema = z.object({
  error_id: z.nullish(z.string()),
  request_id: z.nullish(z.string()),
  code: z.string(),
  message: z.nullish(z.string()),
})

export const oauthErrorSchema = z.object({ error: z.string(), error_description: z.nullish(z.string()) })

export const providersSchema = z.object({
  providers: z.array(
    z.object({
      provider_id: z.string().check(z.minLength(1)),
      name: z.nullish(z.string()),
      country: z.nullish(z.string()),
    }),
  ),
})

type FinqwareConsent = z.infer<typeof consentSchema>

/**
 * Maps a consent body to a snapshot. `providerNow` is the provider's clock (its `Date` header): Finqware labels the
 * end of data access `revoked` too (its Get Consent page: "automatically revoked"), and only `authorized_until` tells expiry from revocation.
 */
export function snapshotFromConsent(body: FinqwareConsent, providerNow: Date): ProviderSnapshot {
  const raw = body.status ?? 'unknown'
  const mapped = mapProviderStatus('FINQWARE', raw, { validUntil: body.authorized_until, providerNow })
  return {
    providerConsentId: body.consent_id,
    providerStatus: raw,
    status: mapped.status,
    reason: mapped.reason,
    authorizationUrl: body.web_url ?? body.sca_url ?? null,
    linkExpiresAt: body.expires_at,
    validUntil: body.authorized_until,
  }
}

/** Finqware's create answer has no status; a new consent is `created` (the first status of Finqware's lifecycle). */
export function snapshotFromCreate(body: z.infer<typeof createResponseSchema>): ProviderSnapshot {
  const mapped = mapProviderStatus('FINQWARE', 'created')
  return {
    providerConsentId: body.consent_id,
    providerStatus: 'created',
    status: mapped.status,
    reason: mapped.reason,
    authorizationUrl: body.web_url ?? body.sca_url ?? null,
    linkExpiresAt: body.expires_at,
    validUntil: null,
  }
}
