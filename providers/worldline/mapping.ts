// Worldline's AIS v3 bodies -> the unified snapshot, and the unified scope -> Worldline permissions. Parsing is
// tolerant: unknown fields are ignored, unknown statuses map to UNKNOWN.
import { mapProviderStatus } from '../../domain/crosswalk.ts'
import type { DataScope } from '../../domain/provider.ts'
import * as z from '../../domain/zod.ts'
import type { ProviderSnapshot } from '../adapter.ts'

const link = z.nullish(z.partial(z.object({ Href: z.string() })))

export const tokenSchema = z.object({
  access_token: z.string().check(z.minLength(1)),
  token_type: z.nullish(z.string()),
  expires_in: z.nullish(z.coerce.number().check(z.positive())),
})

export const createResponseSchema = z.object({
  ConsentId: z.string().check(z.minLength(1)),
  ConsentStatus: z.nullish(z.string()),
  Links: z.nullish(z.partial(z.object({ RedirectUrl: link, GetConsentStatus: link }))),
})

export const statusSchema = z.object({
  ConsentId: z.string().check(z.minLength(1)),
  ConsentStatus: z.nullish(z.string()),
  ValidUntilDate: z.nullish(z.string()),
  Links: z.nullish(z.partial(z.object({ RedirectUrl: link, StartAuthorisation: link }))),
})

export const authorisationSchema = z.object({
  AuthorisationId: z.nullish(z.string()),
  Links: z.nullish(z.partial(z.object({ RedirectUrl: link }))),
})

const errorCode = z.pipe(z.union([z.string(), z.number()]), z.transform(String))

/**
 * A Worldline error body. Its Open Banking specs write `Code` / `Message` / `Details`, its token spec lowercase; which
 * casing the AIS service sends is unconfirmed, so both are read (the capitalised one first).
 */
export const errorSchema = z.pipe(
  z
    .object({
      Code: z.optional(errorCode),
      code: z.optional(errorCode),
      Message: z.nullish(z.string()),
      message: z.nullish(z.string()),
    })
    .check(z.refine((body) => body.Code !== undefined || body.code !== undefined)),
  z.transform((body) => ({ code: body.Code ?? body.code ?? '', message: body.Message ?? body.message ?? null })),
)

export const directorySchema = z.object({
  ASPSP: z.array(
    z.object({
      AspspId: z.pipe(z.union([z.string(), z.number()]), z.transform(String)),
      Name: z.nullish(z.array(z.object({ Label: z.string(), Language: z.nullish(z.string()) }))),
      Country: z.nullish(z.string()),
    }),
  ),
})

/** The consent notification body (`ConsentDetailedInformation` of Worldline's notification spec v3.3.1). */
export const notificationSchema = z.object({
  ConsentId: z.string().check(z.minLength(1), z.maxLength(1024)),
  ConsentStatus: z.nullish(z.string().check(z.maxLength(64))),
})

/** The permission sets Worldline accepts (docs/providers.md, Worldline evidence: Consents), in the unified scope's terms. */
export const PERMISSION_SETS: readonly (readonly DataScope[])[] = [
  ['ACCOUNTS'],
  ['ACCOUNTS', 'BALANCES'],
  ['ACCOUNTS', 'TRANSACTIONS'],
  ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'],
]

const PERMISSION_OF: Readonly<Record<DataScope, string>> = {
  ACCOUNTS: 'Accounts',
  BALANCES: 'Balances',
  TRANSACTIONS: 'Transactions',
}

export const permissionsOf = (scope: readonly DataScope[]): string[] => scope.map((item) => PERMISSION_OF[item])

/** `ValidUntilDate` is a date; access lasts to the end of that day (UTC). */
export function endOfDay(date: string | null | undefined): string | null {
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return null
  return new Date(`${date}T23:59:59.999Z`).toISOString()
}

/** A date and time with a zone (RFC 3339), as `format: date-time` requires. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i

/**
 * `ValidUntilDate` as Worldline answers it: a `date-time` in its notification spec (v3.3.1), taken as it is; a bare
 * date (what we send) lasts to the end of that day (UTC).
 */
export function validUntilOf(value: string | null | undefined): string | null {
  if (value && DATE_TIME.test(value)) {
    const at = Date.parse(value)
    return Number.isNaN(at) ? null : new Date(at).toISOString()
  }
  return endOfDay(value)
}

export const validUntilDate = (now: Date, validityDays: number): string =>
  new Date(now.getTime() + validityDays * 86_400_000).toISOString().slice(0, 10)

export function snapshotFromStatus(
  body: z.infer<typeof statusSchema>,
  authorizationUrl: string | null,
): ProviderSnapshot {
  const raw = body.ConsentStatus ?? 'Unknown'
  const mapped = mapProviderStatus('WORLDLINE', raw)
  return {
    providerConsentId: body.ConsentId,
    providerStatus: raw,
    status: mapped.status,
    reason: mapped.reason,
    authorizationUrl,
    validUntil: validUntilOf(body.ValidUntilDate),
  }
}
