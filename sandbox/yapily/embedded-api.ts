// The embedded flow's API form (Yapily API 12.13.0 "Embedded flow"): `POST /embedded-account-auth-requests` logs the
// user in and offers SCA methods; `PUT /embedded-account-auth-requests/{consentId}` takes the chosen method, then
// the SCA code.
import type { SandboxClock } from '../shared/clock.ts'
import type { ApiOperation } from './api-call.ts'
import { approve, chooseScaMethod, findScaMethod, isValidScaCode, SCA_METHODS } from './authorisation-flow.ts'
import type { ConsentStore } from './consent-store.ts'
import { embeddedAuthorisationView } from './consent-view.ts'
import { asObject, parseAuthorisationRequest, parseUserCredentials } from './create-request.ts'
import { YapilyApiError, badRequest, consentNotFound, featureNotSupported } from './errors.ts'
import { findInstitution, type SandboxInstitution } from './institutions.ts'
import { newConsent, resolveUser } from './new-consent.ts'
import type { UserRegistry } from './users.ts'

export interface EmbeddedApiContext {
  store: ConsentStore
  users: UserRegistry
  clock: SandboxClock
  callbacks: readonly string[]
}

/**
 * 201 `AWAITING_SCA_METHOD` with `scaMethods`: the sandbox user always has two methods, so a method must be chosen
 * (Yapily API 12.13.0). Any user id and password log in. Institutions without `INITIATE_EMBEDDED_ACCOUNT_REQUEST`: 424.
 * No hosted page: the API form has no `authorisationUrl`.
 */
export function createEmbeddedAuthorisationOperation(context: EmbeddedApiContext): ApiOperation {
  return ({ application, body }) => {
    const now = context.clock.now()
    const request = parseAuthorisationRequest(body, { callbacks: context.callbacks, now })
    if (request.institution.flow !== 'embedded') {
      throw featureNotSupported('embedded account authorisation', request.institution.id)
    }
    parseUserCredentials((body as Record<string, unknown>).userCredentials)
    const user = resolveUser(context.users, application.id, request.user, now)
    const consent = newConsent({
      applicationId: application.id,
      user,
      request,
      status: 'AWAITING_SCA_METHOD',
      now,
      sequence: context.store.nextSequence(),
    })
    consent.scaMethods = [...SCA_METHODS]
    context.store.add(consent)
    return { status: 201, data: embeddedAuthorisationView(consent, now) }
  }
}

/**
 * `selectedScaMethod` (by id or type) in `AWAITING_SCA_METHOD` -> `AWAITING_SCA_CODE`; `scaCode` in
 * `AWAITING_SCA_CODE` -> `AUTHORIZED` with the `consentToken`. Both in one body are applied in that order. A wrong
 * code is 400 and the status stays (our guess). Other body fields (`institutionId`, `applicationUserId`, as in the
 * spec's examples) are accepted and ignored. 201, as the spec says.
 */
export function updateEmbeddedAuthorisationOperation(context: EmbeddedApiContext): ApiOperation {
  return ({ application, params, body }) => {
    const consentId = params.consentId ?? ''
    const consent = context.store.find(application.id, consentId)
    if (!consent) throw consentNotFound(consentId)
    const institution = embeddedInstitution(consent.institutionId)
    const fields = asObject(body, 'the request body must be a JSON object (EmbeddedAccountAuthorisationRequest)')
    const { selectedScaMethod, scaCode } = fields
    if (selectedScaMethod === undefined && scaCode === undefined) {
      throw badRequest('selectedScaMethod or scaCode is required')
    }
    if (selectedScaMethod !== undefined) {
      if (consent.status !== 'AWAITING_SCA_METHOD') {
        throw new YapilyApiError(400, `consent ${consent.id} is ${consent.status}; no SCA method is awaited`)
      }
      const requested = asObject(selectedScaMethod, 'selectedScaMethod must be an object (ScaMethod)')
      const key = typeof requested.id === 'string' ? requested.id : requested.type
      const method = typeof key === 'string' ? findScaMethod(key) : undefined
      if (!method) {
        const offered = SCA_METHODS.map((candidate) => candidate.id).join(', ')
        throw badRequest(`selectedScaMethod must be one of the offered methods: ${offered}`)
      }
      chooseScaMethod(context.store, consent, method)
    }
    if (scaCode !== undefined) {
      if (consent.status !== 'AWAITING_SCA_CODE') {
        throw new YapilyApiError(400, `consent ${consent.id} is ${consent.status}; no SCA code is awaited`)
      }
      if (typeof scaCode !== 'string' || !isValidScaCode(scaCode)) throw badRequest('the SCA code is not valid')
      approve(context.store, consent, institution, context.clock.now())
    }
    return { status: 201, data: embeddedAuthorisationView(consent, context.clock.now()) }
  }
}

function embeddedInstitution(institutionId: string): SandboxInstitution {
  const institution = findInstitution(institutionId)
  if (institution?.flow !== 'embedded') throw featureNotSupported('embedded account authorisation', institutionId)
  return institution
}
