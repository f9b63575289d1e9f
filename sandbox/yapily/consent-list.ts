// `GET /consents` as pure rules: the query (filters, the required-filter rule, limit/offset/from/before), the
// selection (newest first) and the list `meta` (Yapily API 12.13.0).
import type { YapilyConsent } from './consent.ts'
import { parseDateTime } from './date-time.ts'
import { isAuthorisationStatus, type AuthorisationStatus } from './enums.ts'
import { badRequest } from './errors.ts'

export const MAX_LIMIT = 1000

export interface ConsentQuery {
  applicationUserIds: string[]
  userUuids: string[]
  institutions: string[]
  statuses: AuthorisationStatus[]
  /** Inclusive bounds on `createdAt`. */
  from: Date | null
  before: Date | null
  /** Without `limit`, the maximum (1000) (our guess). */
  limit: number
  offset: number
}

/**
 * Each filter is repeatable (`filter[status]=A&filter[status]=B`); values are not split on commas, since an
 * `applicationUserId` may contain one (our guess); empty values are ignored. At least one of
 * `filter[applicationUserId]`, `filter[userUuid]` and `limit` is required (Yapily API 12.13.0). `limit` is 1..1000,
 * `offset` a whole number >= 0.
 */
export function parseConsentQuery(query: URLSearchParams): ConsentQuery {
  const applicationUserIds = values(query, 'filter[applicationUserId]')
  const userUuids = values(query, 'filter[userUuid]')
  const limitText = query.get('limit')
  if (applicationUserIds.length === 0 && userUuids.length === 0 && limitText === null) {
    throw badRequest('at least one of filter[applicationUserId], filter[userUuid] or limit is required')
  }
  const statuses = values(query, 'filter[status]')
  const unknown = statuses.filter((status) => !isAuthorisationStatus(status))
  if (unknown.length > 0) throw badRequest(`filter[status] has values that are not statuses: ${unknown.join(', ')}`)
  return {
    applicationUserIds,
    userUuids: userUuids.map((uuid) => uuid.toLowerCase()),
    institutions: values(query, 'filter[institution]'),
    statuses: statuses as AuthorisationStatus[],
    from: optionalDate(query.get('from'), 'from'),
    before: optionalDate(query.get('before'), 'before'),
    limit: limitText === null ? MAX_LIMIT : wholeNumber(limitText, 'limit', 1, MAX_LIMIT),
    offset: query.get('offset') === null ? 0 : wholeNumber(query.get('offset') ?? '', 'offset', 0),
  }
}

/** Filters (any value of a filter matches; all given filters must), newest first, then one page. */
export function selectConsents(
  consents: Iterable<YapilyConsent>,
  query: ConsentQuery,
): { page: YapilyConsent[]; totalCount: number } {
  const matches = [...consents]
    .filter(
      (consent) =>
        matchesAny(query.applicationUserIds, consent.applicationUserId) &&
        matchesAny(query.userUuids, consent.userUuid) &&
        matchesAny(query.institutions, consent.institutionId) &&
        matchesAny(query.statuses, consent.status) &&
        (query.from === null || consent.createdAt.getTime() >= query.from.getTime()) &&
        (query.before === null || consent.createdAt.getTime() <= query.before.getTime()),
    )
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.sequence - a.sequence)
  return { page: matches.slice(query.offset, query.offset + query.limit), totalCount: matches.length }
}

/** `ResponseListMeta` without the tracing id: `count`, and `pagination` with what this page was asked for. */
export function listMeta(query: ConsentQuery, count: number, totalCount: number): Record<string, unknown> {
  return {
    count,
    pagination: {
      totalCount,
      self: {
        ...(query.from && { from: query.from.toISOString() }),
        ...(query.before && { before: query.before.toISOString() }),
        limit: query.limit,
        sort: '-date',
        offset: query.offset,
      },
    },
  }
}

function values(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .map((value) => value.trim())
    .filter((value) => value !== '')
}

function matchesAny<T extends string>(wanted: readonly T[], value: string): boolean {
  return wanted.length === 0 || (wanted as readonly string[]).includes(value)
}

function wholeNumber(text: string, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : NaN
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`)
  }
  return value
}

function optionalDate(text: string | null, name: string): Date | null {
  if (text === null || text.trim() === '') return null
  const date = parseDateTime(text)
  if (!date) throw badRequest(`${name} must be a date-time such as 2030-01-31T12:00:00.000+0000`)
  return date
}
