// Validation of `POST /psus/{psuId}/consents`: the body's business rules and the notification/return URL headers.
import type { IncomingHttpHeaders } from 'node:http'
import { findAspsp } from './aspsps.ts'
import { ALLOWED_PERMISSIONS, type NotificationTarget, type Permission } from './consent.ts'
import { aspspUnknown, badRequest, conditionalFieldMissing, schemaViolation } from './errors.ts'

/** `ValidUntilDate` may be at most this many days after today (docs/providers.md, Worldline evidence: Statuses: "at most 180 days"). */
export const MAX_VALIDITY_DAYS = 180

const DAY_MS = 24 * 3600 * 1000

export interface ConsentRequest {
  aspspId: string
  permissions: Permission[]
  validUntilDate: string
  recurringIndicator: boolean
  returnUrl: string | null
  notification: NotificationTarget | null
}

/**
 * Reads the JSON body and headers of a create call; throws the 400 Worldline would answer. Unknown body fields are
 * ignored. `today` is the sandbox clock's now.
 */
export function parseConsentRequest(body: unknown, headers: IncomingHttpHeaders, now: Date): ConsentRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw schemaViolation('the request body must be a JSON object (ConsentRequest)')
  }
  const fields = body as Record<string, unknown>
  if (typeof fields.AspspId !== 'string') throw schemaViolation('AspspId must be a string')
  const aspsp = findAspsp(fields.AspspId)
  if (!aspsp) throw aspspUnknown(fields.AspspId)
  const recurring = fields.RecurringIndicator
  if (recurring !== undefined && typeof recurring !== 'boolean') {
    throw schemaViolation('RecurringIndicator must be a boolean')
  }
  return {
    aspspId: aspsp.aspspId,
    permissions: parsePermissions(fields.Permissions),
    validUntilDate: parseValidUntilDate(fields.ValidUntilDate, now),
    // Absent means recurring [I]: an AIS consent for repeated access is the usual case.
    recurringIndicator: recurring ?? true,
    returnUrl: parseReturnUrl(header(headers, 'initiatingpartyreturnurl')),
    notification: resolveNotificationTarget(
      header(headers, 'initiatingpartynotificationurl'),
      header(headers, 'notificationversion'),
    ),
  }
}

/**
 * One of the four allowed combinations in any order, no duplicates, returned in canonical order. Absent or empty
 * permissions are refused too: what Worldline does then is unknown [?] (docs/providers.md, Worldline evidence: Consents), refusing is our pick.
 */
export function parsePermissions(value: unknown): Permission[] {
  const requested = isStringArray(value) ? [...value].sort() : null
  const match = requested
    ? ALLOWED_PERMISSIONS.find(
        (allowed) =>
          allowed.length === requested.length && [...allowed].sort().every((item, i) => item === requested[i]),
      )
    : undefined
  if (!match) {
    const allowed = ALLOWED_PERMISSIONS.map((set) => JSON.stringify(set)).join(', ')
    throw badRequest(
      'Permissions must be one of the allowed sets (any order)',
      `allowed: ${allowed}; got ${JSON.stringify(value) ?? 'nothing'}`,
    )
  }
  return [...match]
}

/**
 * A calendar date `YYYY-MM-DD` from today to today + 180 days, UTC days on the sandbox clock. Absent means the
 * maximum, 180 days (the seed docs' default for recurring consents) [I].
 */
export function parseValidUntilDate(value: unknown, now: Date): string {
  const today = startOfUtcDay(now)
  const latest = today + MAX_VALIDITY_DAYS * DAY_MS
  if (value === undefined || value === null) return isoDate(latest)
  // Not a date at all is the schema's 002; a real date outside the allowed days is the rule's 001.
  const got = `got ${JSON.stringify(value)}`
  const refuse = (why: string) => badRequest(`ValidUntilDate ${why}`, got)
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw schemaViolation('ValidUntilDate must be a date YYYY-MM-DD', got)
  }
  const day = Date.parse(`${value}T00:00:00Z`)
  // Date.parse rolls 2027-02-30 over to March; formatting it back exposes the impossible date.
  if (Number.isNaN(day) || isoDate(day) !== value) throw schemaViolation('ValidUntilDate is not a calendar date', got)
  if (day < today) throw refuse(`is in the past (today is ${isoDate(today)})`)
  if (day > latest) throw refuse(`is more than ${MAX_VALIDITY_DAYS} days ahead (latest ${isoDate(latest)})`)
  return value
}

/**
 * The two forms of `InitiatingPartyNotificationUrl` (docs/providers.md, Worldline evidence: Consents): (A) a URL whose path ends in `/v2`
 * or `/v3` gets `/notification/status` appended and forbids `NotificationVersion`; (B) any other URL is used as is
 * and requires `NotificationVersion` `v2` or `v3`. No URL: no notifications, and `NotificationVersion` is ignored.
 */
export function resolveNotificationTarget(
  url: string | undefined,
  version: string | undefined,
): NotificationTarget | null {
  if (url === undefined) return null
  const parsed = httpUrl(url)
  if (!parsed) throw schemaViolation('InitiatingPartyNotificationUrl must be an absolute http(s) URL')
  const formA = /\/(v[23])$/.exec(parsed.pathname)
  if (formA) {
    if (version !== undefined) {
      throw badRequest('NotificationVersion must be absent when InitiatingPartyNotificationUrl ends in /v2 or /v3')
    }
    parsed.pathname = `${parsed.pathname}/notification/status`
    return { url: parsed.toString(), form: 'A', version: formA[1] as 'v2' | 'v3' }
  }
  if (version !== 'v2' && version !== 'v3') {
    throw conditionalFieldMissing(
      `NotificationVersion v2 or v3 is required with a full InitiatingPartyNotificationUrl, got ${version?.slice(0, 20) ?? 'none'}`,
    )
  }
  return { url, form: 'B', version }
}

/** Where the bank page sends the browser at the end; optional (without it the page shows the outcome) [I]. */
export function parseReturnUrl(url: string | undefined): string | null {
  if (url === undefined) return null
  if (!httpUrl(url)) throw schemaViolation('InitiatingPartyReturnUrl must be an absolute http(s) URL')
  return url
}

export function isoDate(time: number): string {
  return new Date(time).toISOString().slice(0, 10)
}

function startOfUtcDay(now: Date): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

function httpUrl(text: string): URL | null {
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null
  } catch {
    return null
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  return text === undefined || text === '' ? undefined : text
}
