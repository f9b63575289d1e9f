// `POST /consents/{consentId}/extend` as a pure rule: which `lastConfirmedAt` may be recorded (Yapily API 12.13.0).
// Refusals use the newer envelope, every 400 with issue code 10600 (the only documented 400 code) (our guess).
import type { YapilyConsent } from './consent.ts'
import { parseDateTime } from './date-time.ts'
import { ISSUE, YapilyIssueError, badParameter } from './errors.ts'
import type { SandboxInstitution } from './institutions.ts'

/** The message of the spec's own example (Yapily API 12.13.0), exactly. */
export const FUTURE_MESSAGE = 'lastConfirmedAt cannot be a future date and time'

/** JSONPath of the body property, as `ErrorIssue.parameter` names body properties. */
const PARAMETER = '$.lastConfirmedAt'

/**
 * The accepted `lastConfirmedAt`, or the 400 Yapily answers. Checked in this order: the body's syntax (missing or
 * unparsable), the institution (UK only: reconfirmation is an FCA rule), the status (`AUTHORIZED` only), a future
 * time on the sandbox clock, a time not later than the current `lastConfirmedAt`.
 */
export function checkExtension(
  consent: Pick<YapilyConsent, 'id' | 'status' | 'lastConfirmedAt'>,
  institution: Pick<SandboxInstitution, 'id' | 'region'>,
  body: unknown,
  now: Date,
): Date {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badParameter('$', 'The request body must be a JSON object with lastConfirmedAt (ExtendConsentRequest)')
  }
  const value = (body as Record<string, unknown>).lastConfirmedAt
  if (value === undefined || value === null) throw badParameter(PARAMETER, 'lastConfirmedAt is required')
  const lastConfirmedAt = parseDateTime(value)
  if (!lastConfirmedAt) {
    throw badParameter(PARAMETER, 'lastConfirmedAt must be an ISO-8601 date-time with an offset')
  }
  if (institution.region !== 'UK') {
    throw rule('consentId', `Consent ${consent.id} is not a UK consent (${institution.id}): it cannot be extended`)
  }
  if (consent.status !== 'AUTHORIZED') {
    throw rule('consentId', `Consent ${consent.id} is ${consent.status}; only an AUTHORIZED consent can be extended`)
  }
  if (lastConfirmedAt.getTime() > now.getTime()) throw rule(PARAMETER, FUTURE_MESSAGE)
  if (consent.lastConfirmedAt && lastConfirmedAt.getTime() <= consent.lastConfirmedAt.getTime()) {
    throw rule(
      PARAMETER,
      `lastConfirmedAt must be later than the current lastConfirmedAt (${consent.lastConfirmedAt.toISOString()})`,
    )
  }
  return lastConfirmedAt
}

function rule(parameter: string, message: string): YapilyIssueError {
  return new YapilyIssueError(400, [{ ...ISSUE.badRequest, parameter, message }])
}
