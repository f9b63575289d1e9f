// Public identifiers: `consent_01JD...` style (type prefix + ULID). Readable in logs, curl and webhooks, opaque to
// clients, and they double as Relay global IDs (the prefix names the GraphQL type).
export const PUBLIC_ID_PREFIXES = {
  Consent: 'consent',
  ConsentEvent: 'cevt',
} as const

export type PublicIdType = keyof typeof PUBLIC_ID_PREFIXES

const TYPE_BY_PREFIX = new Map<string, PublicIdType>(
  Object.entries(PUBLIC_ID_PREFIXES).map(([type, prefix]) => [prefix, type as PublicIdType]),
)

/** A ULID: 26 Crockford base-32 characters. */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/

export const encodePublicId = (type: PublicIdType, id: string): string => `${PUBLIC_ID_PREFIXES[type]}_${id}`

/** Parses a public id; null when it is not one of ours (wrong shape, unknown prefix, not a ULID). */
export function decodePublicId(value: string): { type: PublicIdType; id: string } | null {
  const separator = value.indexOf('_')
  if (separator < 1) return null
  const type = TYPE_BY_PREFIX.get(value.slice(0, separator))
  const id = value.slice(separator + 1)
  if (!type || !ULID.test(id)) return null
  return { type, id }
}
