// Worldline-only controls under `/__sandbox/`: bank delete failures, bank-side expiry, forced statuses, the list.
import {
  InvalidControlError,
  noInput,
  registerBankDeleteFailsControl,
  registerConsentControl,
  registerConsentListControl,
  statusInput,
} from '../shared/controls.ts'
import type { Router } from '../shared/http.ts'
import type { BankToggles } from './bank-toggles.ts'
import type { WorldlineConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'

/** PascalCase: any such status is accepted, known or not, so clients' tolerant parsing can be tested. */
const STATUS_SHAPE = /^[A-Z][A-Za-z]{0,63}$/

export function registerWorldlineControls(
  router: Router,
  { store, toggles }: { store: ConsentStore; toggles: BankToggles },
): void {
  registerConsentListControl(router, store, (consent) => controlView(consent, store))

  registerBankDeleteFailsControl(router, toggles)

  // Inside the notification window Worldline learns of it (Expired + notification); after it, only data calls do.
  registerConsentControl(router, store, 'bank-expiry', noInput, (consent) => {
    if (consent.status !== 'Authorised' && consent.status !== 'PartiallyAuthorised') {
      throw new InvalidControlError(
        `consent ${consent.consentId} is ${consent.status}; only an Authorised or PartiallyAuthorised consent can expire at the bank`,
      )
    }
    const outcome = store.expireAtBank(consent)
    return { outcome, consent: controlView(consent, store) }
  })

  // Forcing always reports (a notification even for the same status, inside the window): it simulates an event.
  registerConsentControl(
    router,
    store,
    'status',
    statusInput(
      (status): status is string => STATUS_SHAPE.test(status),
      'send {"status": "<PascalCase Worldline status>"}, e.g. {"status": "Revoked"}',
    ),
    (consent, status) => {
      store.transition(consent, status)
      return { consent: controlView(consent, store) }
    },
  )
}

/** Everything the sandbox knows about a consent, plus whether Worldline still polls the bank for it. */
function controlView(consent: WorldlineConsent, store: ConsentStore): Record<string, unknown> {
  return { ...consent, polled: store.polled(consent) }
}
