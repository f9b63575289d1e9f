// The AIS v3 consent operations: create, status, start authorisation (next holder), delete (docs/providers.md, Worldline evidence: Consents).
import { randomBytes, randomUUID } from 'node:crypto'
import type { SandboxClock } from '../shared/clock.ts'
import type { AisOperation } from './api-call.ts'
import type { BankToggles } from './bank-toggles.ts'
import { REVOCABLE, type HolderAuthorisation, type WorldlineConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'
import { authorisationStarted, consentCreated, consentDetails } from './consent-view.ts'
import { parseConsentRequest } from './create-request.ts'
import { badRequest, consentUnknown } from './errors.ts'

export interface ConsentApiContext {
  store: ConsentStore
  clock: SandboxClock
  toggles: BankToggles
  baseUrl: string
}

export function createConsentOperation({ store, clock, baseUrl }: ConsentApiContext): AisOperation {
  return ({ params, headers, body }) => {
    const now = clock.now()
    const input = parseConsentRequest(body, headers, now)
    const consent: WorldlineConsent = {
      consentId: randomUUID(),
      psuId: params.psuId ?? '',
      aspspId: input.aspspId,
      permissions: input.permissions,
      validUntilDate: input.validUntilDate,
      recurringIndicator: input.recurringIndicator,
      // No notification for Open: the create response already tells the caller.
      status: 'Open',
      createdAt: now,
      authorisedAt: null,
      returnUrl: input.returnUrl,
      notification: input.notification,
      holdersRequired: 1,
      holdersDone: 0,
      authorisations: [newAuthorisation(1)],
      bankExpired: false,
      accounts: null,
    }
    store.add(consent)
    return { status: 201, body: consentCreated(consent, baseUrl) }
  }
}

export function consentStatusOperation({ store, baseUrl }: ConsentApiContext): AisOperation {
  return ({ params }) => ({ status: 200, body: consentDetails(knownConsent(store, params), baseUrl) })
}

/**
 * The next holder's authorisation of a multi-level SCA. While one is still pending, a repeat POST answers that
 * same authorisation again (201, same id and page) instead of starting another: our assumption [I], so a client can
 * call it on every poll. Worldline's own answer to a repeat is undocumented.
 */
export function startAuthorisationOperation({ store, baseUrl }: ConsentApiContext): AisOperation {
  return ({ params }) => {
    const consent = knownConsent(store, params)
    if (consent.status !== 'PartiallyAuthorised') {
      // 409 is not in Worldline's error table: 400 001 "Bad client request" is the nearest.
      throw badRequest(
        `consent ${consent.consentId} is ${consent.status}; a further authorisation needs PartiallyAuthorised`,
      )
    }
    let authorisation = consent.authorisations.find(
      (candidate) => candidate.holder > 1 && candidate.decision === 'pending',
    )
    if (!authorisation) {
      authorisation = newAuthorisation(consent.holdersDone + 1)
      consent.authorisations.push(authorisation)
    }
    return { status: 201, body: authorisationStarted(authorisation, baseUrl) }
  }
}

/**
 * 204 with no body whatever the status. Live consents become `Revoked`, or `RevokedAtTpp` when the bank cannot be
 * reached (toggle). Already revoked: no change. Expired, Rejected, Error, Inactive (and unknown forced statuses):
 * no change either; Worldline's answer there is undocumented [?].
 */
export function deleteConsentOperation({ store, toggles }: ConsentApiContext): AisOperation {
  return ({ params }) => {
    const consent = knownConsent(store, params)
    if (REVOCABLE.has(consent.status)) store.transition(consent, toggles.deleteFails ? 'RevokedAtTpp' : 'Revoked')
    return { status: 204 }
  }
}

function knownConsent(store: ConsentStore, params: Readonly<Record<string, string>>): WorldlineConsent {
  const consentId = params.consentId ?? ''
  const consent = store.find(params.psuId ?? '', consentId)
  if (!consent) throw consentUnknown(consentId)
  return consent
}

function newAuthorisation(holder: number): HolderAuthorisation {
  return { authorisationId: randomUUID(), pageId: randomBytes(16).toString('base64url'), holder, decision: 'pending' }
}
