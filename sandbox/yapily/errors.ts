// Yapily's two error envelopes (Yapily API 12.13.0): the legacy `ApiResponseError` most routes answer with, and the
// newer `ApiErrorResponse` with `issues[]` that `/consents/{id}/extend` and the webhook routes answer with.
import { STATUS_CODES } from 'node:http'

/**
 * The exact 401 body of a missing or wrong Basic credential (Yapily API 12.13.0, its 401 example): no source, no
 * tracingId.
 */
export const UNAUTHORIZED_BODY = {
  error: { code: 401, status: 'UNAUTHORIZED', message: 'Full authentication is required to access this resource' },
} as const

/** Where the newer envelope sends people; the value the spec's examples show. */
export const SUPPORT_URL = 'https://support.yapily.com/'

/** `source` of an error: who can act on it. The sandbox's own refusals are always YAPILY's. */
export type ErrorSource = 'YAPILY' | 'USER' | 'INSTITUTION'

/** The HTTP reason phrase in upper snake case: 404 -> `NOT_FOUND`, 424 -> `FAILED_DEPENDENCY`. */
export function httpStatusName(status: number): string {
  const reason = STATUS_CODES[status] ?? 'UNKNOWN'
  return reason
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .toUpperCase()
}

/** A refusal in the legacy envelope `{ error: { code, status, message, source, tracingId } }`. */
export class YapilyApiError extends Error {
  override readonly name = 'YapilyApiError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** One entry of the newer envelope's `issues[]`. */
export interface ErrorIssue {
  type: string
  /**
   * A 5-digit code. The schema types it as a string (`ErrorIssue.code`) and the error-codes page shows strings
   * ("11001"), while some spec examples show numbers: the sandbox sends strings.
   */
  code: string
  /** The header or query parameter name, or the JSONPath of a body property. */
  parameter?: string
  message: string
}

/** Issue codes the spec documents; the sandbox uses no others (Yapily API 12.13.0). */
export const ISSUE = {
  /**
   * Bad syntax; the sandbox also uses it for every 400 business rule, as no other 400 code is documented (our guess).
   */
  badRequest: { type: 'BAD_REQUEST', code: '10600' },
  notFound: { type: 'INVALID_REQUEST', code: '10800' },
  serverError: { type: 'INTERNAL_SERVER_ERROR', code: '11000' },
  resourceLimit: { type: 'RESOURCE', code: '14007' },
} as const

/** A refusal in the newer envelope `{ error: { tracingId, code, status, supportUrl, source, issues } }`. */
export class YapilyIssueError extends Error {
  override readonly name = 'YapilyIssueError'
  constructor(
    readonly status: number,
    readonly issues: readonly ErrorIssue[],
    readonly source: ErrorSource = 'YAPILY',
  ) {
    super(issues[0]?.message ?? httpStatusName(status))
  }
}

/** A 400 of the newer envelope about one parameter. */
export function badParameter(parameter: string, message: string): YapilyIssueError {
  return new YapilyIssueError(400, [{ ...ISSUE.badRequest, parameter, message }])
}

export function legacyErrorBody(status: number, message: string, tracingId: string): Record<string, unknown> {
  return { error: { code: status, status: httpStatusName(status), message, source: 'YAPILY', tracingId } }
}

/**
 * The newer envelope. It also carries `message` (the first issue's): the spec's own example of an extend 400 shows
 * `error.message`, so clients reading either place find the text (our guess).
 */
export function issuesErrorBody(
  status: number,
  issues: readonly ErrorIssue[],
  tracingId: string,
  source: ErrorSource = 'YAPILY',
): Record<string, unknown> {
  return {
    error: {
      tracingId,
      code: status,
      status: httpStatusName(status),
      supportUrl: SUPPORT_URL,
      source,
      issues,
      message: issues[0]?.message ?? httpStatusName(status),
    },
  }
}

export const badRequest = (message: string) => new YapilyApiError(400, message)
export const consentNotFound = (consentId: string) => new YapilyApiError(404, `Consent with id ${consentId} not found`)
/** 424: "the feature is not supported by the institution" (Yapily API 12.13.0). */
export const featureNotSupported = (what: string, institutionId: string) =>
  new YapilyApiError(424, `${what}: feature not supported by the institution ${institutionId}`)
/** The message is our pick: the real wording for an unknown `consent` header is not captured. */
export const consentTokenInvalid = () => new YapilyApiError(401, 'consent token invalid')
