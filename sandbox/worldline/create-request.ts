// Validation of `POST /psus/{psuId}/consents`: the body's business rules and the notification/return URL headers.
import type { IncomingHttpHeaders } from 'node:http'
import { findAspsp } from './aspsps.ts'
import { ALLOWED_PERMISSIONS, type NotificationTarget, type Permission } from './consent.ts'
import { WorldlineApiError, aspspUnknown, badRequest } from './errors.ts'

/** `ValidUntilDate` may be at most this many days after today (worldline.md 2.4: "at most 180 days"). */
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
    throw badRequest('the request body must be a JSON object (ConsentRequest)')
  }
  const fields = body as Record<string, unknown>
  if (typeof fields.AspspId !== 'string') throw badRequest('AspspId must be a string')
  const aspsp = findAspsp(fields.AspspId)
  if (!aspsp) throw aspspUnknown(fields.AspspId)
  const recurring = fields.RecurringIndicator
  if (recurring !== undefined && typeof recurring !== 'boolean') {
    throw badRequest('RecurringIndicator must be a boolean')
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
 * permissions are refused too: what Worldline does then is unknown [?] (worldline.md 2.2), refusing is our pick.
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
    throw new WorldlineApiError(
      400,
      'PERMISSIONS_INVALID',
      `Permissions must be one of ${allowed} (any order), got ${JSON.stringify(value) ?? 'nothing'}`,
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
  const refuse = (why: string) =>
    new WorldlineApiError(400, 'VALID_UNTIL_INVALID', `ValidUntilDate ${JSON.stringify(value)} ${why}`)
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw refuse('must be a date YYYY-MM-DD')
  const day = Date.parse(`${value}T00:00:00Z`)
  // Date.parse rolls 2027-02-30 over to March; formatting it back exposes the impossible date.
  if (Number.isNaN(day) || isoDate(day) !== value) throw refuse('is not a calendar date')
  if (day < today) throw refuse(`is in the past (today is ${isoDate(today)})`)
  if (day > latest) throw refuse(`is more than ${MAX_VALIDITY_DAYS} days ahead (latest ${isoDate(latest)})`)
  return value
}

/**
 * The two forms of `InitiatingPartyNotificationUrl` (worldline.md 2.2, 2.9.6): (A) a URL whose path ends in `/v2`
 * or `/v3` gets `/notification/status` appended and forbids `NotificationVersion`; (B) any other URL is used as is
 * and requires `NotificationVersion` `v2` or `v3`. No URL: no notifications, and `NotificationVersion` is ignored.
 */
export function resolveNotificationTarget(
  url: string | undefined,
  version: string | undefined,
): NotificationTarget | null {
  if (url === undefined) return null
  const parsed = httpUrl(url)
  if (!parsed) throw badRequest('InitiatingPartyNotificationUrl must be an absolute http(s) URL')
  const formA = /\/(v[23])$/.exec(parsed.pathname)
  if (formA) {
    if (version !== undefined) {
      throw new WorldlineApiError(
        400,
        'NOTIFICATION_VERSION_FORBIDDEN',
        'NotificationVersion must be absent when InitiatingPartyNotificationUrl ends in /v2 or /v3',
      )
    }
    parsed.pathname = `${parsed.pathname}/notification/status`
    return { url: parsed.toString(), form: 'A', version: formA[1] as 'v2' | 'v3' }
  }
  if (version !== 'v2' && version !== 'v3') {
    throw new WorldlineApiError(
      400,
      'NOTIFICATION_VERSION_REQUIRED',
      `NotificationVersion (v2 or v3) is required with a full InitiatingPartyNotificationUrl, got ${version ?? 'none'}`,
    )
  }
  return { url, form: 'B', version }
}

/** Where the bank page sends the browser at the end; optional (without it the page shows the outcome) [I]. */
export function parseReturnUrl(url: string | undefined): string | null {
  if (url === undefined) return null
  if (!httpUrl(url)) throw badRequest('InitiatingPartyReturnUrl must be an absolute http(s) URL')
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
