// Yapily's bodies -> the unified snapshot, and the unified scope -> Yapily feature scopes. Parsing is tolerant:
// unknown fields are ignored, unknown statuses (the enum changes between versions) map to UNKNOWN.
import { mapProviderStatus } from '../../domain/crosswalk.ts'
import type { DataScope } from '../../domain/provider.ts'
import * as z from '../../domain/zod.ts'
import type { ProviderSnapshot } from '../adapter.ts'

const timestamp = z.pipe(
  z.nullish(z.string()),
  z.transform((value) => {
    if (!value) return null
    const ms = Date.parse(value)
    return Number.isNaN(ms) ? null : new Date(ms).toISOString()
  }),
)

export const consentSchema = z.object({
  id: z.string().check(z.minLength(1)),
  status: z.nullish(z.string()),
  institutionId: z.nullish(z.string()),
  applicationUserId: z.nullish(z.string()),
  consentToken: z.nullish(z.string()),
  authorisationUrl: z.nullish(z.string()),
  expiresAt: timestamp,
  authorizedAt: timestamp,
  lastConfirmedAt: timestamp,
  reconfirmBy: timestamp,
  isDeletedByInstitution: z.nullish(z.boolean()),
})

export const deleteSchema = z.object({
  id: z.nullish(z.string()),
  deleteStatus: z.nullish(z.string()),
})

export const institutionsSchema = z.array(
  z.object({
    id: z.string().check(z.minLength(1)),
    name: z.nullish(z.string()),
    fullName: z.nullish(z.string()),
    countries: z.nullish(z.array(z.object({ countryCode2: z.nullish(z.string()) }))),
    features: z.nullish(z.array(z.string())),
  }),
)

/** The features that let an institution take an AIS consent: the redirect and the embedded account authorisation. */
export const ACCOUNT_AUTHORISATION_FEATURES: ReadonlySet<string> = new Set([
  'INITIATE_ACCOUNT_REQUEST',
  'INITIATE_EMBEDDED_ACCOUNT_REQUEST',
])

/** The legacy envelope `{error: {code, status, message}}` and the newer one with `issues[]` (Yapily API 12.13.0). */
export const errorSchema = z.object({
  error: z.object({
    code: z.nullish(z.union([z.number(), z.string()])),
    status: z.nullish(z.string()),
    message: z.nullish(z.string()),
    issues: z.nullish(
      z.array(z.object({ code: z.nullish(z.union([z.number(), z.string()])), message: z.nullish(z.string()) })),
    ),
  }),
})

export const webhookSchema = z.object({
  id: z.nullish(z.string()),
  type: z.string(),
  event: z.nullish(
    z.partial(
      z.object({
        consentId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
        status: z.nullish(z.string().check(z.maxLength(64))),
      }),
    ),
  ),
  metadata: z.nullish(z.partial(z.object({ tracingId: z.nullish(z.string()) }))),
})

/** The feature-scope sets we ask Yapily for; every set lists the accounts (Yapily API 12.13.0 featureScope). */
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
  // REVOKED is Yapily's word for a revocation at the bank, and also what a consent deleted through its API shows;
  // `isDeletedByInstitution` is set only by such a DELETE, so with it the revocation is ours.
  const deletedByUs = mapped.status === 'REVOKED' && body.isDeletedByInstitution != null
  return {
    providerConsentId: body.id,
    providerStatus: raw,
    status: mapped.status,
    reason: deletedByUs ? 'REVOKED_BY_TPP' : mapped.reason,
    authorizationUrl: authorizationUrl ?? body.authorisationUrl ?? null,
    validUntil: body.expiresAt,
    ...(body.lastConfirmedAt !== null ? { lastConfirmedAt: body.lastConfirmedAt } : {}),
    ...(body.reconfirmBy !== null ? { reconfirmBy: body.reconfirmBy } : {}),
    ...(body.consentToken ? { secret: body.consentToken } : {}),
  }
}
