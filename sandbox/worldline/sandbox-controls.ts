// Worldline-only controls under `/__sandbox/`: bank delete failures, bank-side expiry, forced statuses, the list.
import { InvalidControlError, control, optionalString, registerBankDeleteFailsControl } from '../shared/controls.ts'
import { sendJson, type Router } from '../shared/http.ts'
import type { BankToggles } from './bank-toggles.ts'
import type { WorldlineConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'

/** PascalCase: any such status is accepted, known or not, so clients' tolerant parsing can be tested. */
const STATUS_SHAPE = /^[A-Z][A-Za-z]{0,63}$/

export function registerWorldlineControls(
  router: Router,
  { store, toggles }: { store: ConsentStore; toggles: BankToggles },
): void {
  router.on('GET', '/__sandbox/consents', (_request, response) => {
    store.sweep()
    sendJson(response, 200, { consents: store.all().map((consent) => controlView(consent, store)) })
  })

  registerBankDeleteFailsControl(router, toggles)

  // Inside the notification window Worldline learns of it (Expired + notification); after it, only data calls do.
  router.on(
    'POST',
    '/__sandbox/consents/:consentId/bank-expiry',
    control(async (_body, request) => {
      store.sweep()
      const consent = consentOf(store, request.params.consentId)
      if (consent.status !== 'Authorised' && consent.status !== 'PartiallyAuthorised') {
        throw new InvalidControlError(
          `consent ${consent.consentId} is ${consent.status}; only an Authorised or PartiallyAuthorised consent can expire at the bank`,
        )
      }
      const outcome = store.expireAtBank(consent)
      return { outcome, consent: controlView(consent, store) }
    }),
  )

  // Forcing always reports (a notification even for the same status, inside the window): it simulates an event.
  router.on(
    'POST',
    '/__sandbox/consents/:consentId/status',
    control(async (body, request) => {
      const status = optionalString(body, 'status')
      if (status === undefined || !STATUS_SHAPE.test(status)) {
        throw new InvalidControlError('send {"status": "<PascalCase Worldline status>"}, e.g. {"status": "Revoked"}')
      }
      store.sweep()
      const consent = consentOf(store, request.params.consentId)
      store.transition(consent, status)
      return { consent: controlView(consent, store) }
    }),
  )
}

function consentOf(store: ConsentStore, consentId: string | undefined): WorldlineConsent {
  const consent = store.findAny(consentId ?? '')
  if (!consent) throw new InvalidControlError(`no consent ${consentId ?? ''}`, 404)
  return consent
}

/** Everything the sandbox knows about a consent, plus whether Worldline still polls the bank for it. */
function controlView(consent: WorldlineConsent, store: ConsentStore): Record<string, unknown> {
  return { ...consent, polled: store.polled(consent) }
}
