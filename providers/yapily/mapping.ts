// Yapily's bodies -> the unified snapshot, and the unified scope -> Yapily feature scopes. Parsing is tolerant:
// unknown fields are ignored, unknown statuses (the enum changes between versions) map to UNKNOWN.
import { z } from 'zod'
import { mapProviderStatus } from '../../domain/crosswalk.ts'
import type { DataScope } from '../../domain/provider.ts'
import type { ProviderSnapshot } from '../adapter.ts'

const timestamp = z
  .string()
  .nullish()
  .transform((value) => {
    if (!value) return null
    const ms = Date.parse(value)
    return Number.isNaN(ms) ? null : new Date(ms).toISOString()
  })

export const consentSchema = z.object({
  id: z.string().min(1),
  status: z.string().nullish(),
  institutionId: z.string().nullish(),
  applicationUserId: z.string().nullish(),
  consentToken: z.string().nullish(),
  authorisationUrl: z.string().nullish(),
  expiresAt: timestamp,
  authorizedAt: timestamp,
  lastConfirmedAt: timestamp,
  reconfirmBy: timestamp,
  isDeletedByInstitution: z.boolean().nullish(),
})

export const deleteSchema = z.object({
  id: z.string().nullish(),
  deleteStatus: z.string().nullish(),
})

export const institutionsSchema = z.array(
  z.object({
    id: z.string().min(1),
    name: z.string().nullish(),
    fullName: z.string().nullish(),
    countries: z.array(z.object({ countryCode2: z.string().nullish() })).nullish(),
  }),
)

/** The legacy envelope `{error: {code, status, message}}` and the newer one with `issues[]` (yapily.md 3.1). */
export const errorSchema = z.object({
  error: z.object({
    code: z.union([z.number(), z.string()]).nullish(),
    status: z.string().nullish(),
    message: z.string().nullish(),
    issues: z
      .array(z.object({ code: z.union([z.number(), z.string()]).nullish(), message: z.string().nullish() }))
      .nullish(),
  }),
})

export const webhookSchema = z.object({
  id: z.string().nullish(),
  type: z.string(),
  event: z
    .object({ consentId: z.string().min(1).max(128).optional(), status: z.string().max(64).nullish() })
    .partial()
    .nullish(),
  metadata: z.object({ tracingId: z.string().nullish() }).partial().nullish(),
})

/** The feature-scope sets we ask Yapily for; every set lists the accounts (yapily.md 3.2 featureScope). */
export const SCOPE_SETS: readonly (readonly DataScope[])[] = [
  ['ACCOUNTS'],
  ['ACCOUNTS', 'BALANCES'],
  ['ACCOUNTS', 'TRANSACTIONS'],
  ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'],
]

const FEATURE_OF: Readonly<Record<DataScope, string>> = {
  ACCOUNTS: 'ACCOUNTS',
  BALANCES: 'ACCOUNT_BALANCES',
  TRANSACTIONS: 'ACCOUNT_TRANSACTIONS',
}

export const featureScopeOf = (scope: readonly DataScope[]): string[] => scope.map((item) => FEATURE_OF[item])

/**
 * A Yapily consent as a snapshot. The consentToken travels as `secret` (the service seals it); `expiresAt` is the
 * end of access; UK consents carry Yapily's own reconfirmation clock.
 */
export function snapshotFromConsent(
  body: z.infer<typeof consentSchema>,
  authorizationUrl: string | null = null,
): ProviderSnapshot {
  const raw = body.status ?? 'UNKNOWN'
  const mapped = mapProviderStatus('YAPILY', raw)
  return {
    providerConsentId: body.id,
    providerStatus: raw,
    status: mapped.status,
    reason: mapped.reason,
    authorizationUrl: authorizationUrl ?? body.authorisationUrl ?? null,
    validUntil: body.expiresAt,
    ...(body.lastConfirmedAt !== null ? { lastConfirmedAt: body.lastConfirmedAt } : {}),
    ...(body.reconfirmBy !== null ? { reconfirmBy: body.reconfirmBy } : {}),
    ...(body.consentToken ? { secret: body.consentToken } : {}),
  }
}
