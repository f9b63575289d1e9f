// Yapily-only controls under `/__sandbox/`: bank delete failures, revocation at the bank, forced statuses, the list.
import {
  InvalidControlError,
  noInput,
  registerBankDeleteFailsControl,
  registerConsentControl,
  registerConsentListControl,
  statusInput,
} from '../shared/controls.ts'
import type { Router } from '../shared/http.ts'
import type { SandboxClock } from '../shared/clock.ts'
import { grant } from './authorisation-flow.ts'
import type { BankToggles } from './bank-toggles.ts'
import type { ConsentStore } from './consent-store.ts'
import { AUTHORISATION_STATUSES, isAuthorisationStatus } from './enums.ts'
import { findInstitution } from './institutions.ts'

export interface YapilyControlsContext {
  store: ConsentStore
  toggles: BankToggles
  clock: SandboxClock
}

export function registerYapilyControls(router: Router, { store, toggles, clock }: YapilyControlsContext): void {
  registerConsentListControl(router, store)

  registerBankDeleteFailsControl(router, toggles)

  // The user revokes at the bank: Yapily does not learn it, so the status stays and data calls answer 403.
  registerConsentControl(router, store, 'revoke-at-bank', noInput, (consent) => {
    if (consent.consentToken === null) {
      throw new InvalidControlError(
        `consent ${consent.id} was never authorised; there is nothing to revoke at the bank`,
      )
    }
    consent.revokedAtBank = true
    return { consent }
  })

  // The consent becomes long-lived: Yapily's Consent schema makes `expiresAt` optional, and a long-lived consent shows
  // none (nor `timeToExpire`); it never expires on its own. A later re-authorisation dates it again.
  registerConsentControl(router, store, 'long-lived', noInput, (consent) => {
    if (consent.consentToken === null) {
      throw new InvalidControlError(`consent ${consent.id} was never authorised; it has no lifetime to lift`)
    }
    consent.expiresAt = null
    return { consent }
  })

  // Forcing always reports (a webhook even for the same status): it simulates an event. Forcing AUTHORIZED on a
  // consent never authorised also mints its token and dates, so data calls work; forcing AWAITING_RE_AUTHORIZATION
  // records the status a denial would restore, but opens no page.
  registerConsentControl(
    router,
    store,
    'status',
    statusInput(
      isAuthorisationStatus,
      `send {"status": "<AuthorisationStatus>"}, one of ${AUTHORISATION_STATUSES.join(', ')}`,
    ),
    (consent, status) => {
      const institution = findInstitution(consent.institutionId)
      if (status === 'AUTHORIZED' && consent.consentToken === null && institution)
        grant(consent, institution, clock.now())
      if (status === 'AWAITING_RE_AUTHORIZATION' && consent.status !== 'AWAITING_RE_AUTHORIZATION') {
        consent.statusBeforeReauthorisation = consent.status === 'EXPIRED' ? 'EXPIRED' : 'AUTHORIZED'
      }
      store.transition(consent, status, { force: true })
      return { consent }
    },
  )
}
