// `POST /account-auth-requests` (create, with a hosted bank page) and `PATCH /account-auth-requests` (re-authorise,
// same id and token) (Yapily API 12.13.0).
import type { SandboxClock } from '../shared/clock.ts'
import { single, type ApiOperation } from './api-call.ts'
import { openPage, startReauthorisation } from './authorisation-flow.ts'
import { REAUTHORISABLE } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'
import { authorisationView } from './consent-view.ts'
import { parseAuthorisationRequest } from './create-request.ts'
import { YapilyApiError, badRequest, consentTokenInvalid, featureNotSupported } from './errors.ts'
import { findInstitution } from './institutions.ts'
import { hasPassed } from './lifetimes.ts'
import { newConsent, resolveUser } from './new-consent.ts'
import type { UserRegistry } from './users.ts'

export interface AuthRequestsContext {
  store: ConsentStore
  users: UserRegistry
  clock: SandboxClock
  callbacks: readonly string[]
  baseUrl: string
}

/**
 * 201 `AWAITING_AUTHORIZATION` with the hosted page's `authorisationUrl`. The user is created only once the whole
 * request is valid, so a refused call leaves no orphan user.
 */
export function createAuthorisationOperation(context: AuthRequestsContext): ApiOperation {
  return ({ application, body }) => {
    const now = context.clock.now()
    const request = parseAuthorisationRequest(body, { callbacks: context.callbacks, now })
    const user = resolveUser(context.users, application.id, request.user, now)
    const consent = newConsent({
      applicationId: application.id,
      user,
      request,
      status: 'AWAITING_AUTHORIZATION',
      now,
      sequence: context.store.nextSequence(),
    })
    openPage(consent, 'authorisation')
    context.store.add(consent)
    return { status: 201, data: authorisationView(consent, now, context.baseUrl) }
  }
}

/**
 * Header `consent: <consentToken>`, no body (any body is ignored). Checked in this order: the header (400 when
 * missing (our guess)), the token (401), the institution (424), the status (400 unless AUTHORIZED or EXPIRED; a repeat
 * while AWAITING_RE_AUTHORIZATION answers the same page again), a hard `expiresAt` already passed (400 (our guess):
 * re-authorising cannot move it, so the page could only lead back to EXPIRED).
 */
export function reauthoriseOperation(context: AuthRequestsContext): ApiOperation {
  return ({ application, headers }) => {
    const token = single(headers, 'consent')
    if (token === undefined) throw badRequest('the consent header (the consent token) is required')
    const consent = context.store.findByToken(application.id, token)
    if (!consent) throw consentTokenInvalid()
    const institution = findInstitution(consent.institutionId)
    if (!institution?.supportsReauthorisation) {
      throw featureNotSupported('re-authorisation', consent.institutionId)
    }
    const now = context.clock.now()
    if (consent.status !== 'AWAITING_RE_AUTHORIZATION') {
      if (!REAUTHORISABLE.has(consent.status)) {
        throw new YapilyApiError(
          400,
          `consent ${consent.id} is ${consent.status}; only an AUTHORIZED or EXPIRED consent can be re-authorised`,
        )
      }
      if (hasPassed(consent.requestedExpiresAt, now)) {
        throw new YapilyApiError(
          400,
          `consent ${consent.id} reached the expiresAt it was created with; create a new consent instead`,
        )
      }
      startReauthorisation(context.store, consent)
    }
    return { status: 201, data: authorisationView(consent, now, context.baseUrl) }
  }
}
