// The providers the gateway speaks to, the regions it serves and the data scopes a consent can grant.

export const PROVIDERS = ['FINQWARE', 'WORLDLINE', 'YAPILY'] as const
export type Provider = (typeof PROVIDERS)[number]

export const REGIONS = ['UK', 'EEA'] as const
export type Region = (typeof REGIONS)[number]

export const DATA_SCOPES = ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'] as const
export type DataScope = (typeof DATA_SCOPES)[number]

/** The default scope when a partner asks for none: everything. */
export const DEFAULT_SCOPE: readonly DataScope[] = DATA_SCOPES

/** Scope in canonical order without duplicates, so equal sets compare equal (idempotency, provider rules). */
export function normalizeScope(scope: readonly DataScope[]): DataScope[] {
  return DATA_SCOPES.filter((item) => scope.includes(item))
}

export const sameScope = (a: readonly DataScope[], b: readonly DataScope[]): boolean =>
  normalizeScope(a).join() === normalizeScope(b).join()

/** ISO 3166-1 alpha-2 codes of the EEA member states. */
const EEA_COUNTRIES: ReadonlySet<string> = new Set(
  'AT BE BG HR CY CZ DK EE FI FR DE GR HU IS IE IT LV LI LT LU MT NL NO PL PT RO SK SI ES SE'.split(' '),
)

/** The regulatory region of an institution's country: GB is UK, EEA members are EEA, anything else is neither. */
export function regionOfCountry(country: string | null | undefined): Region | null {
  const code = (country ?? '').trim().toUpperCase()
  if (code === 'GB' || code === 'UK') return 'UK'
  return EEA_COUNTRIES.has(code) ? 'EEA' : null
}
