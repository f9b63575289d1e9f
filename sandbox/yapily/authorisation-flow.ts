// What happens to a consent at the bank: pages opened, embedded SCA steps, approval (the token and the dates),
// rejection, and re-authorisation started, approved or abandoned. Shared by the hosted pages, the embedded API and
// the controls; every status change goes through the store, which notifies.
import { randomBytes, randomUUID } from 'node:crypto'
import type { BankPage, ScaMethod, YapilyConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'
import { mintConsentToken } from './consent-token.ts'
import type { SandboxInstitution } from './institutions.ts'
import { authorisationDates } from './lifetimes.ts'

/** The embedded bank's one valid SCA code (prefilled on its code page). */
export const SANDBOX_SCA_CODE = '123456'

/** The embedded bank's SCA methods; ids equal types so the page's `scaMethod` field can take either. */
export const SCA_METHODS: readonly ScaMethod[] = [
  { id: 'SMS_OTP', type: 'SMS_OTP', description: 'Text message one-time code (sandbox)' },
  { id: 'PUSH_OTP', type: 'PUSH_OTP', description: 'Banking app push one-time code (sandbox)' },
]

export const DEFAULT_SCA_METHOD = 'SMS_OTP'

/** An offered method by its id or, leniently, its type. */
export function findScaMethod(idOrType: string): ScaMethod | undefined {
  return SCA_METHODS.find((method) => method.id === idOrType || method.type === idOrType)
}

export function newState(): string {
  return randomBytes(16).toString('hex')
}

/** A new hosted page becomes the consent's current one, with a fresh `state` (every bank round trip has its own). */
export function openPage(consent: YapilyConsent, purpose: BankPage['purpose']): BankPage {
  const page: BankPage = { id: randomBytes(24).toString('base64url'), purpose }
  consent.pages.push(page)
  consent.currentPageId = page.id
  consent.state = newState()
  return page
}

/**
 * Approval, first or re-authorisation: the token is minted once and then kept; authorizedAt and lastConfirmedAt are
 * now; reconfirmBy and expiresAt follow the institution's region (see `authorisationDates`). A consent approved again
 * at the bank is no longer revoked there.
 */
export function approve(
  store: ConsentStore,
  consent: YapilyConsent,
  institution: Pick<SandboxInstitution, 'region'> & Partial<Pick<SandboxInstitution, 'consentPerAccount' | 'accounts'>>,
  now: Date,
): void {
  const firstAuthorisation = consent.consentToken === null
  grant(consent, institution, now)
  store.transition(consent, 'AUTHORIZED')
  if (firstAuthorisation && institution.consentPerAccount)
    splitPerAccount(store, consent, institution.accounts ?? [], now)
}

/**
 * A bank that returns one consent per account: the approved consent keeps the first account, and each further
 * account gets a consent of its own (its own id and token, the same user, scope and dates), authorised now.
 */
function splitPerAccount(
  store: ConsentStore,
  consent: YapilyConsent,
  accounts: readonly { id: string }[],
  now: Date,
): void {
  const [first, ...others] = accounts
  if (!first) return
  consent.accountIds = [first.id]
  for (const account of others) {
    const sibling: YapilyConsent = {
      ...consent,
      id: randomUUID(),
      status: 'AWAITING_AUTHORIZATION',
      createdAt: now,
      sequence: store.nextSequence(),
      state: newState(),
      institutionConsentId: `aac-${randomUUID()}`,
      consentToken: null,
      pages: [],
      currentPageId: null,
      accountIds: [account.id],
      siblingOf: consent.id,
    }
    sibling.consentToken = mintConsentToken(sibling)
    store.add(sibling)
    store.transition(sibling, 'AUTHORIZED')
  }
}

/** The consents a per-account bank created beside `consent` at its first authorisation, in creation order. */
export function siblingsOf(store: ConsentStore, consent: YapilyConsent): YapilyConsent[] {
  return store.all().filter((candidate) => candidate.siblingOf === consent.id)
}

/** What approval sets, without the status change (the status control forces the status itself). */
export function grant(consent: YapilyConsent, institution: Pick<SandboxInstitution, 'region'>, now: Date): void {
  consent.consentToken ??= mintConsentToken(consent)
  const dates = authorisationDates(institution, consent.requestedExpiresAt, now)
  consent.authorizedAt = dates.authorizedAt
  consent.lastConfirmedAt = dates.lastConfirmedAt
  consent.reconfirmBy = dates.reconfirmBy
  consent.expiresAt = dates.expiresAt
  consent.revokedAtBank = false
  consent.statusBeforeReauthorisation = null
  consent.currentPageId = null
  consent.scaMethods = null
}

/** The user denied the first authorisation. */
export function reject(store: ConsentStore, consent: YapilyConsent): void {
  consent.currentPageId = null
  consent.scaMethods = null
  store.transition(consent, 'REJECTED')
}

/**
 * `PATCH /account-auth-requests`: a new page and `AWAITING_RE_AUTHORIZATION`, remembering the status to go back to.
 * A repeat while awaiting changes nothing (the same page is answered again).
 */
export function startReauthorisation(store: ConsentStore, consent: YapilyConsent): void {
  if (consent.status === 'AWAITING_RE_AUTHORIZATION') return
  consent.statusBeforeReauthorisation = consent.status === 'EXPIRED' ? 'EXPIRED' : 'AUTHORIZED'
  openPage(consent, 'reauthorisation')
  store.transition(consent, 'AWAITING_RE_AUTHORIZATION')
}

/**
 * "If re-authorisation fails, the status will remain as it was" (Yapily, "Financial data consents"): back to the status
 * before the PATCH.
 */
export function abandonReauthorisation(store: ConsentStore, consent: YapilyConsent): void {
  const previous = consent.statusBeforeReauthorisation ?? 'AUTHORIZED'
  consent.statusBeforeReauthorisation = null
  consent.currentPageId = null
  store.transition(consent, previous)
}

/** Embedded: the user logged in and has several methods to choose from. */
export function offerScaMethods(store: ConsentStore, consent: YapilyConsent): void {
  consent.scaMethods = [...SCA_METHODS]
  store.transition(consent, 'AWAITING_SCA_METHOD')
}

/** Embedded: a method was chosen; the bank sent its code. */
export function chooseScaMethod(store: ConsentStore, consent: YapilyConsent, method: ScaMethod): void {
  consent.selectedScaMethod = method
  consent.scaMethods = null
  store.transition(consent, 'AWAITING_SCA_CODE')
}

export function isValidScaCode(code: string | null | undefined): boolean {
  return (code ?? '').trim() === SANDBOX_SCA_CODE
}
