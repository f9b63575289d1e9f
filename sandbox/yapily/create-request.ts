// Validation of `AccountAuthorisationRequest` (`POST /account-auth-requests`) and of the embedded variant's extra
// `userCredentials` (Yapily API 12.13.0). Pure: throws the legacy-envelope refusal Yapily would answer.
import { isRegisteredCallback } from './callbacks.ts'
import { parseDateTime } from './date-time.ts'
import { isFeature, type Feature } from './enums.ts'
import { YapilyApiError, badRequest } from './errors.ts'
import { DATA_FEATURES, findInstitution, type SandboxInstitution } from './institutions.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Who the consent is for: a new or known `applicationUserId`, or an existing `userUuid`. */
export type UserReference = { applicationUserId: string } | { userUuid: string }

export interface AuthorisationRequest {
  institution: SandboxInstitution
  user: UserReference
  callback: string | null
  featureScope: Feature[]
  transactionFrom: string | null
  transactionTo: string | null
  /** Null when absent, and when the institution ignores it. */
  requestedExpiresAt: Date | null
}

export interface RequestRules {
  /** The application's registered Authorisation Callbacks. */
  callbacks: readonly string[]
  /** The sandbox clock's now. */
  now: Date
}

/** Checks run in this order: body, institution, user, callback, one-time token, redirect, accountRequest. */
export function parseAuthorisationRequest(body: unknown, rules: RequestRules): AuthorisationRequest {
  const fields = asObject(body, 'the request body must be a JSON object (AccountAuthorisationRequest)')
  const institution = parseInstitution(fields.institutionId)
  const user = parseUserReference(fields.applicationUserId, fields.userUuid)
  const callback = parseCallback(fields.callback, rules.callbacks)
  parseOneTimeToken(fields.oneTimeToken, callback)
  // `redirect` (own-licence customers, then `/consent-auth-code`) is checked for shape and otherwise not simulated;
  // `forwardParameters` are accepted and not forwarded: how Yapily forwards them is not documented.
  if (fields.redirect !== undefined && fields.redirect !== null) {
    const redirect = asObject(fields.redirect, 'redirect must be an object with a url')
    if (typeof redirect.url !== 'string' || redirect.url === '') throw badRequest('redirect.url is required')
  }
  const accountRequest =
    fields.accountRequest === undefined || fields.accountRequest === null
      ? {}
      : asObject(fields.accountRequest, 'accountRequest must be an object (AccountRequest)')
  return {
    institution,
    user,
    callback,
    featureScope: parseFeatureScope(accountRequest.featureScope, institution),
    transactionFrom: optionalDateTime(accountRequest.transactionFrom, 'accountRequest.transactionFrom'),
    transactionTo: optionalDateTime(accountRequest.transactionTo, 'accountRequest.transactionTo'),
    requestedExpiresAt: parseExpiresAt(accountRequest.expiresAt, institution, rules.now),
  }
}

/**
 * Missing is 400 (a required field); present but unknown is 404 "institution not found" (the contract's choice: the
 * institution is a resource the id must find).
 */
export function parseInstitution(value: unknown): SandboxInstitution {
  if (typeof value !== 'string' || value.trim() === '') throw badRequest('institutionId is required')
  const institution = findInstitution(value)
  if (!institution) throw new YapilyApiError(404, `institution not found: ${value}`)
  return institution
}

/** Exactly one of the two (Yapily API 12.13.0). */
export function parseUserReference(applicationUserId: unknown, userUuid: unknown): UserReference {
  const hasApplicationUserId = applicationUserId !== undefined && applicationUserId !== null
  const hasUserUuid = userUuid !== undefined && userUuid !== null
  if (hasApplicationUserId && hasUserUuid) {
    throw badRequest('provide either applicationUserId or userUuid, not both')
  }
  if (hasApplicationUserId) {
    if (typeof applicationUserId !== 'string' || applicationUserId.trim() === '' || applicationUserId.length > 255) {
      throw badRequest('applicationUserId must be a string of 1 to 255 characters')
    }
    return { applicationUserId }
  }
  if (hasUserUuid) {
    if (typeof userUuid !== 'string' || !UUID.test(userUuid)) throw badRequest('userUuid must be a UUID')
    return { userUuid: userUuid.toLowerCase() }
  }
  throw badRequest('either applicationUserId or userUuid is required')
}

/** Optional; when given it must be covered by a registered Authorisation Callback. */
export function parseCallback(value: unknown, callbacks: readonly string[]): string | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string' || value === '') throw badRequest('callback must be a URL')
  if (!isRegisteredCallback(value, callbacks)) {
    throw badRequest(`callback ${value} is not registered as an Authorisation Callback of the application`)
  }
  return value
}

/**
 * `oneTimeToken` is only valid with a callback (Yapily API 12.13.0). With one it is still refused: the sandbox does not
 * simulate one-time tokens and `/consent-one-time-token`, and silently sending the real token instead would hide that.
 */
function parseOneTimeToken(value: unknown, callback: string | null): void {
  if (value === undefined || value === null || value === false) return
  if (typeof value !== 'boolean') throw badRequest('oneTimeToken must be a boolean')
  if (callback === null) throw badRequest('oneTimeToken can only be used together with a callback')
  throw badRequest('oneTimeToken is not supported by this sandbox')
}

/**
 * Absent or empty: every data feature the institution has. Otherwise FeatureEnum values only (duplicates dropped,
 * order kept). Whether the institution supports each one is not checked (our guess): the contract only asks for
 * FeatureEnum.
 */
export function parseFeatureScope(value: unknown, institution: Pick<SandboxInstitution, 'features'>): Feature[] {
  if (value === undefined || value === null) return defaultScope(institution)
  if (!Array.isArray(value)) throw badRequest('accountRequest.featureScope must be an array of features')
  const unknown = value.filter((item) => !isFeature(item))
  if (unknown.length > 0) {
    throw badRequest(`accountRequest.featureScope has values that are not features: ${JSON.stringify(unknown)}`)
  }
  const scope = [...new Set(value as Feature[])]
  return scope.length > 0 ? scope : defaultScope(institution)
}

function defaultScope(institution: Pick<SandboxInstitution, 'features'>): Feature[] {
  return institution.features.filter((feature) => DATA_FEATURES.has(feature))
}

/**
 * A malformed value is refused everywhere (it is a `date-time` field). A well-formed one is honoured only by
 * institutions that support it and silently ignored by others (Yapily API 12.13.0); where honoured it must lie in the
 * future on the sandbox clock (our guess).
 */
export function parseExpiresAt(
  value: unknown,
  institution: Pick<SandboxInstitution, 'supportsExpiresAt'>,
  now: Date,
): Date | null {
  if (value === undefined || value === null) return null
  const expiresAt = parseDateTime(value)
  if (!expiresAt) throw badRequest('accountRequest.expiresAt must be an ISO-8601 date-time with an offset')
  if (!institution.supportsExpiresAt) return null
  if (expiresAt.getTime() <= now.getTime()) throw badRequest('accountRequest.expiresAt must be in the future')
  return expiresAt
}

/** The embedded flow's `userCredentials { id, password }` (both required by the schema); any values log in. */
export function parseUserCredentials(value: unknown): void {
  const credentials = value && typeof value === 'object' && !Array.isArray(value) ? value : null
  const { id, password } = (credentials ?? {}) as Record<string, unknown>
  if (typeof id !== 'string' || id === '' || typeof password !== 'string' || password === '') {
    throw badRequest('userCredentials with an id and a password is required')
  }
}

function optionalDateTime(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null
  const parsed = parseDateTime(value)
  if (!parsed) throw badRequest(`${name} must be an ISO-8601 date-time with an offset`)
  return parsed.toISOString()
}

export function asObject(value: unknown, message: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(message)
  return value as Record<string, unknown>
}
