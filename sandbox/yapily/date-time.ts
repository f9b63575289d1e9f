// The `date-time` values the API reads: ISO-8601 with a time and an offset, as the spec's Java side parses them.

/** Date, time (seconds and fraction optional), and `Z` or an offset such as `+01:00` / `+0100`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i

/** The instant, or null when `value` is not such a string (a time without an offset is ambiguous: refused). */
export function parseDateTime(value: unknown): Date | null {
  if (typeof value !== 'string' || !DATE_TIME.test(value.trim())) return null
  const parsed = Date.parse(value.trim())
  return Number.isNaN(parsed) ? null : new Date(parsed)
}
