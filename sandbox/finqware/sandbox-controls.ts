// Finqware-only controls under `/__sandbox/`: force a consent's status, list every consent, rotate the signing keys.
import { InvalidControlError, control, optionalString } from '../shared/controls.ts'
import { sendJson, type Router } from '../shared/http.ts'
import type { ConsentStore } from './consent-store.ts'
import type { SigningKeyRing } from './signing-keys.ts'

/** Lower-case snake case: any such status is accepted, known or not, so clients' tolerant parsing can be tested. */
const STATUS_SHAPE = /^[a-z][a-z_]{0,63}$/

export function registerFinqwareControls(
  router: Router,
  { store, keys }: { store: ConsentStore; keys: SigningKeyRing },
): void {
  router.on('GET', '/__sandbox/consents', (_request, response) => {
    store.sweep()
    sendJson(response, 200, { consents: store.all() })
  })

  // Forcing always reports the change (a webhook even when the status is the same): it simulates a Finqware event.
  router.on(
    'POST',
    '/__sandbox/consents/:consentId/status',
    control(async (body, request) => {
      const status = optionalString(body, 'status')
      if (status === undefined || !STATUS_SHAPE.test(status)) {
        throw new InvalidControlError('send {"status": "<lower_snake_case status>"}, e.g. {"status": "suspended"}')
      }
      store.sweep()
      const consent = store.findAny(request.params.consentId ?? '')
      if (!consent) throw new InvalidControlError(`no consent ${request.params.consentId ?? ''}`, 404)
      store.transition(consent, status)
      return { consent }
    }),
  )

  router.on('POST', '/__sandbox/keys/rotate', async (_request, response) => {
    await keys.rotate()
    sendJson(response, 200, { currentKid: keys.currentKid, previousKid: keys.previousKid, jwks: keys.jwks() })
  })
}
