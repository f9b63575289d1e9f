// The JSON the API shows of a consent: `Consent` (GET, list, extend), `AccountAuthorisationResponse` (create,
// re-authorise), `EmbeddedAccountAuthorisationResponse`, and `ConsentDeleteResponse`.
//
// Unset values are left out, as Yapily's examples do and as the Yapily API 12.13.0 schema requires (`reconfirmBy`
// and `isDeletedByInstitution` are not nullable): no `reconfirmBy` outside the UK or before authorisation, no
// `isDeletedByInstitution` until a DELETE went through.
import { currentPage, type YapilyConsent } from './consent.ts'
import { isoDuration } from './lifetimes.ts'
import { bankPageUrl, qrCodeUrl } from './paths.ts'

/** The `Consent` schema. */
export function consentView(consent: YapilyConsent, now: Date): Record<string, unknown> {
  return {
    ...commonFields(consent, now),
    ...(consent.isDeletedByInstitution !== null && { isDeletedByInstitution: consent.isDeletedByInstitution }),
  }
}

/**
 * The `AccountAuthorisationResponse` schema: the consent plus the current page's `authorisationUrl` and `qrCodeUrl`
 * (absent when no page awaits a decision). Re-authorisation answers carry the kept `consentToken` too.
 */
export function authorisationView(consent: YapilyConsent, now: Date, baseUrl: string): Record<string, unknown> {
  const page = currentPage(consent)
  return {
    ...commonFields(consent, now),
    ...(page && {
      authorisationUrl: bankPageUrl(baseUrl, page.id, consent.state),
      qrCodeUrl: qrCodeUrl(baseUrl, page.id),
    }),
  }
}

/** The `EmbeddedAccountAuthorisationResponse` schema: the offered methods while one must be chosen, then the choice. */
export function embeddedAuthorisationView(consent: YapilyConsent, now: Date): Record<string, unknown> {
  return {
    ...commonFields(consent, now),
    ...(consent.scaMethods && { scaMethods: consent.scaMethods }),
    ...(consent.selectedScaMethod && { selectedScaMethod: consent.selectedScaMethod }),
  }
}

/** The `ConsentDeleteResponse` schema; `creationDate` is the consent's `createdAt`, as in the spec's example. */
export function deleteView(consent: YapilyConsent, deleteStatus: 'SUCCESS' | 'FAILED'): Record<string, unknown> {
  return {
    id: consent.id,
    deleteStatus,
    institutionId: consent.institutionId,
    institutionConsentId: consent.institutionConsentId,
    creationDate: consent.createdAt.toISOString(),
  }
}

function commonFields(consent: YapilyConsent, now: Date): Record<string, unknown> {
  const expiresAt = consent.expiresAt
  const timeToExpireMs = expiresAt ? Math.max(0, expiresAt.getTime() - now.getTime()) : null
  return {
    id: consent.id,
    userUuid: consent.userUuid,
    applicationUserId: consent.applicationUserId,
    institutionId: consent.institutionId,
    status: consent.status,
    createdAt: consent.createdAt.toISOString(),
    ...(consent.transactionFrom && { transactionFrom: consent.transactionFrom }),
    ...(consent.transactionTo && { transactionTo: consent.transactionTo }),
    ...(expiresAt && {
      expiresAt: expiresAt.toISOString(),
      timeToExpireInMillis: timeToExpireMs,
      timeToExpire: isoDuration(timeToExpireMs ?? 0),
    }),
    featureScope: consent.featureScope,
    ...(consent.consentToken && { consentToken: consent.consentToken }),
    state: consent.state,
    ...(consent.authorizedAt && { authorizedAt: consent.authorizedAt.toISOString() }),
    ...(consent.lastConfirmedAt && { lastConfirmedAt: consent.lastConfirmedAt.toISOString() }),
    ...(consent.reconfirmBy && { reconfirmBy: consent.reconfirmBy.toISOString() }),
    institutionConsentId: consent.institutionConsentId,
  }
}
