// A consent as a create call starts it, for the user the call names.
import { randomUUID } from 'node:crypto'
import { newState } from './authorisation-flow.ts'
import type { YapilyConsent } from './consent.ts'
import type { AuthorisationRequest, UserReference } from './create-request.ts'
import type { AuthorisationStatus } from './enums.ts'
import { badRequest } from './errors.ts'
import type { UserRegistry, YapilyUser } from './users.ts'

/**
 * An `applicationUserId` finds its user or silently creates one (Yapily API 12.13.0); a `userUuid` must name an
 * existing user of the application, else 400 (our guess) (the body, not the path, names it, so not 404).
 */
export function resolveUser(
  users: UserRegistry,
  applicationId: string,
  reference: UserReference,
  now: Date,
): YapilyUser {
  if ('applicationUserId' in reference) return users.findOrCreate(applicationId, reference.applicationUserId, now)
  const user = users.findByUuid(applicationId, reference.userUuid)
  if (!user) throw badRequest(`no user with userUuid ${reference.userUuid} in this application`)
  return user
}

export interface NewConsent {
  applicationId: string
  user: YapilyUser
  request: AuthorisationRequest
  status: AuthorisationStatus
  now: Date
  sequence: number
}

export function newConsent({ applicationId, user, request, status, now, sequence }: NewConsent): YapilyConsent {
  return {
    id: randomUUID(),
    applicationId,
    userUuid: user.uuid,
    applicationUserId: user.applicationUserId,
    institutionId: request.institution.id,
    status,
    createdAt: now,
    sequence,
    featureScope: request.featureScope,
    transactionFrom: request.transactionFrom,
    transactionTo: request.transactionTo,
    requestedExpiresAt: request.requestedExpiresAt,
    expiresAt: request.requestedExpiresAt,
    state: newState(),
    // The `aac-<uuid>` shape of the spec's Modelo examples, for every institution (our guess).
    institutionConsentId: `aac-${randomUUID()}`,
    callback: request.callback,
    consentToken: null,
    authorizedAt: null,
    lastConfirmedAt: null,
    reconfirmBy: null,
    isDeletedByInstitution: null,
    revokedAtBank: false,
    statusBeforeReauthorisation: null,
    pages: [],
    currentPageId: null,
    scaMethods: null,
    selectedScaMethod: null,
    accountIds: null,
    siblingOf: null,
  }
}
