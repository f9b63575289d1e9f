// `GET /consents/{consentId}`, `GET /consents` and `DELETE /consents/{consentId}` (Yapily API 12.13.0).
import type { SandboxClock } from '../shared/clock.ts'
import type { ApiOperation } from './api-call.ts'
import type { BankToggles } from './bank-toggles.ts'
import { isDeleted, type YapilyConsent } from './consent.ts'
import { listMeta, parseConsentQuery, selectConsents } from './consent-list.ts'
import type { ConsentStore } from './consent-store.ts'
import { consentView, deleteView } from './consent-view.ts'
import { deleteOutcome, parseForceDelete } from './delete-rules.ts'
import { consentNotFound } from './errors.ts'

export interface ConsentsApiContext {
  store: ConsentStore
  clock: SandboxClock
  toggles: BankToggles
}

export function getConsentOperation(context: ConsentsApiContext): ApiOperation {
  return ({ application, params }) => {
    const consent = knownConsent(context.store, application.id, params.consentId)
    return { status: 200, data: consentView(consent, context.clock.now()) }
  }
}

export function listConsentsOperation(context: ConsentsApiContext): ApiOperation {
  return ({ application, query }) => {
    const consentQuery = parseConsentQuery(query)
    const mine = context.store.all().filter((consent) => consent.applicationId === application.id)
    const { page, totalCount } = selectConsents(mine, consentQuery)
    const now = context.clock.now()
    return {
      status: 200,
      data: page.map((consent) => consentView(consent, now)),
      meta: listMeta(consentQuery, page.length, totalCount),
    }
  }
}

/**
 * See `deleteOutcome`. A deleted consent stays readable with status `REVOKED` (our guess) (the real API may answer 404
 * afterwards); deleting it again answers the same result and changes nothing. Any status can be deleted; a page
 * still awaiting a decision stops taking one.
 */
export function deleteConsentOperation(context: ConsentsApiContext): ApiOperation {
  return ({ application, params, query }) => {
    const consent = knownConsent(context.store, application.id, params.consentId)
    const forceDelete = parseForceDelete(query.get('forceDelete'))
    if (isDeleted(consent)) return { status: 200, data: deleteView(consent, 'SUCCESS') }
    const outcome = deleteOutcome(context.toggles.deleteFails, forceDelete)
    if (outcome.deleted) {
      consent.isDeletedByInstitution = outcome.isDeletedByInstitution
      consent.currentPageId = null
      consent.statusBeforeReauthorisation = null
      context.store.transition(consent, 'REVOKED')
    }
    return { status: 200, data: deleteView(consent, outcome.deleteStatus) }
  }
}

function knownConsent(store: ConsentStore, applicationId: string, consentId: string | undefined): YapilyConsent {
  const consent = store.find(applicationId, consentId ?? '')
  if (!consent) throw consentNotFound(consentId ?? '')
  return consent
}
