// Finqware-only controls under `/__sandbox/`: force a consent's status, list every consent, rotate the signing keys.
import { registerConsentControl, registerConsentListControl, statusInput } from '../shared/controls.ts'
import { sendJson, type Router } from '../shared/http.ts'
import type { ConsentStore } from './consent-store.ts'
import type { SigningKeyRing } from './signing-keys.ts'

/** Lower-case snake case: any such status is accepted, known or not, so clients' tolerant parsing can be tested. */
const STATUS_SHAPE = /^[a-z][a-z_]{0,63}$/

export function registerFinqwareControls(
  router: Router,
  { store, keys }: { store: ConsentStore; keys: SigningKeyRing },
): void {
  registerConsentListControl(router, store)

  // Forcing always reports the change (a webhook even when the status is the same): it simulates a Finqware event.
  registerConsentControl(
    router,
    store,
    'status',
    statusInput(
      (status): status is string => STATUS_SHAPE.test(status),
      'send {"status": "<lower_snake_case status>"}, e.g. {"status": "suspended"}',
    ),
    (consent, status) => {
      store.transition(consent, status)
      return { consent }
    },
  )

  router.on('POST', '/__sandbox/keys/rotate', async (_request, response) => {
    await keys.rotate()
    sendJson(response, 200, { currentKid: keys.currentKid, previousKid: keys.previousKid, jwks: keys.jwks() })
  })
}
