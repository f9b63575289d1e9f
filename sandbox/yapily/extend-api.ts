// `POST /consents/{consentId}/extend`: the UK reconfirmation (Yapily API 12.13.0). Errors use the newer envelope.
import type { SandboxClock } from '../shared/clock.ts'
import type { ApiOperation } from './api-call.ts'
import type { ConsentStore } from './consent-store.ts'
import { consentView } from './consent-view.ts'
import { ISSUE, YapilyIssueError } from './errors.ts'
import { checkExtension } from './extend-rules.ts'
import { findInstitution } from './institutions.ts'
import { reconfirmByFor } from './lifetimes.ts'

/** 200 with the `Consent`: `lastConfirmedAt` as sent, `reconfirmBy` 90 days later; the status does not change. */
export function extendConsentOperation({ store, clock }: { store: ConsentStore; clock: SandboxClock }): ApiOperation {
  return ({ application, params, body }) => {
    const consentId = params.consentId ?? ''
    const consent = store.find(application.id, consentId)
    const institution = consent && findInstitution(consent.institutionId)
    if (!consent || !institution) {
      throw new YapilyIssueError(404, [
        { ...ISSUE.notFound, parameter: 'consentId', message: `Consent with id ${consentId} not found` },
      ])
    }
    const now = clock.now()
    const lastConfirmedAt = checkExtension(consent, institution, body, now)
    consent.lastConfirmedAt = lastConfirmedAt
    consent.reconfirmBy = reconfirmByFor(institution.region, lastConfirmedAt)
    return { status: 200, data: consentView(consent, now) }
  }
}
