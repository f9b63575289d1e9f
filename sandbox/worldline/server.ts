// Starts the Worldline sandbox: the XS2A routing service's token endpoint, AIS v3 consents and accounts, the ASPSP
// directory, hosted bank pages, status notifications and controls.
import { randomUUID } from 'node:crypto'
import { internalError, noRoute, schemaViolation } from './errors.ts'
import { SandboxClock, sweepOnClock } from '../shared/clock.ts'
import {
  controlsGuard,
  registerSandboxControls,
  resetSandbox,
  type SandboxControlTargets,
  type RunningSandbox,
} from '../shared/controls.ts'
import { FaultInjector } from '../shared/faults.ts'
import { BodyTooLargeError, MalformedJsonError, Router, sendJson, startHttpServer } from '../shared/http.ts'
import { WebhookDispatcher } from '../shared/webhook-dispatcher.ts'
import { listAccountsOperation } from './accounts-api.ts'

import { aisEndpoint, echoHeaders, tooLargeBody, type AisCallContext } from './api-call.ts'
import { BankToggles } from './bank-toggles.ts'
import {
  consentStatusOperation,
  createConsentOperation,
  deleteConsentOperation,
  startAuthorisationOperation,
} from './consent-api.ts'
import { ConsentStore } from './consent-store.ts'
import { listAspspsOperation } from './directory-api.ts'
import { consentStatusNotification, notificationHeaders } from './notification.ts'
import { resolveWorldlineSettings, type WorldlineSandboxOptions } from './options.ts'
import { AIS_ROUTES, DIRECTORY_PATH, TOKEN_PATH } from './paths.ts'
import { registerWorldlineControls } from './sandbox-controls.ts'
import { registerScaPages } from './sca-pages.ts'
import { tokenEndpoint } from './token-api.ts'
import { TokenStore } from './tokens.ts'
import { readWorldlineState, type WorldlineSavedState } from './saved-state.ts'
import { StateFile } from '../shared/persistence.ts'

export type { WorldlineSandboxOptions } from './options.ts'

/** Its services are at `{url}/xs2a/routingservice/services/...`; a reset forgets its consents and toggles. */
export type WorldlineSandbox = RunningSandbox

/**
 * @example
 * const worldline = await startWorldlineSandbox({ staticToken: 'sandbox-static-token' })
 * await fetch(`${worldline.url}/xs2a/routingservice/services/ob/ais/v3/psus/psu-1/consents`, { method: 'POST', ... })
 * await worldline.close()
 */
export async function startWorldlineSandbox(options: WorldlineSandboxOptions = {}): Promise<WorldlineSandbox> {
  const settings = resolveWorldlineSettings(options)
  const saved = options.stateFile === undefined ? undefined : readWorldlineState(options.stateFile)
  const clock = new SandboxClock()
  if (saved) clock.advance(saved.clockOffsetMs)
  const faults = new FaultInjector()
  const toggles = new BankToggles()
  const tokens = new TokenStore({ clock, ttlSeconds: settings.tokenTtlSeconds, staticToken: settings.staticToken })
  const webhooks = new WebhookDispatcher({
    sign: async () => notificationHeaders(settings.notificationToken, clock.now()),
    ...settings.webhookRetry,
  })
  const store = new ConsentStore({
    clock,
    notificationWindowMs: settings.notificationWindowMs,
    notify: (consent) => {
      state?.changed()
      if (consent.notification) webhooks.enqueue(consent.notification.url, consentStatusNotification(consent))
    },
  })

  const controlsLocked = controlsGuard(options.controlSecret)
  const state =
    options.stateFile === undefined
      ? undefined
      : new StateFile(options.stateFile, (): WorldlineSavedState => ({
          version: 1,
          clockOffsetMs: clock.offsetMs,
          consents: store.all(),
          deleteFails: toggles.deleteFails,
          tokens: tokens.saved(),
        }))
  if (saved) {
    store.load(saved.consents)
    tokens.load(saved.tokens)
    toggles.deleteFails = saved.deleteFails
  }
  clock.onChange(() => state?.changed())

  const router = new Router({
    notFound: (request, response) => {
      const route = `${request.method} ${request.url.pathname}`
      sendJson(response, 404, noRoute(route).body, echoHeaders(request.headers))
    },
    onError: (error, request, response) => {
      const echo = echoHeaders(request.headers)
      if (error instanceof BodyTooLargeError) return sendJson(response, 413, tooLargeBody(error.message), echo)
      if (error instanceof MalformedJsonError) return sendJson(response, 400, schemaViolation(error.message).body, echo)
      console.error('worldline sandbox: unexpected error', error)
      sendJson(response, 500, internalError().body, echo)
    },
  })
  // Listen first: the bank page links need the real port. Until the routes below exist, every request is a 404.
  // Every answer is dated by the sandbox clock, as a provider's answers are dated by its own: clients that compare
  // deadlines with the provider's time (the Date header) must see the moved clock.
  const server = await startHttpServer(
    (request, response) => {
      response.setHeader('date', clock.now().toUTCString())
      // Worldline's error model (Open Banking PIS v3.6.0) requires both on its answers: the caller's X-Request-ID
      // replaces this fresh one where it sent one (echoHeaders), and the time is the sandbox's.
      response.setHeader('X-Request-ID', randomUUID())
      response.setHeader('MessageCreateDateTime', clock.now().toISOString())
      response.once('finish', () => state?.changed())
      if (controlsLocked(request, response)) return
      return router.listener(request, response)
    },
    {
      port: settings.port,
      ...(options.host !== undefined && { host: options.host }),
      ...(options.publicHost !== undefined && { publicHost: options.publicHost }),
    },
  )

  router.on(
    'POST',
    TOKEN_PATH,
    tokenEndpoint({
      clock,
      faults,
      tokens,
      clients: settings.clients,
      maxDateSkewSeconds: settings.maxDateSkewSeconds,
    }),
  )
  const api: AisCallContext = { faults, tokens, beforeOperation: () => store.sweep() }
  const consentApi = { store, clock, toggles, baseUrl: server.url }
  router.on('POST', AIS_ROUTES.consents, aisEndpoint(api, createConsentOperation(consentApi)))
  router.on('GET', AIS_ROUTES.status, aisEndpoint(api, consentStatusOperation(consentApi)))
  router.on('POST', AIS_ROUTES.authorisations, aisEndpoint(api, startAuthorisationOperation(consentApi)))
  router.on('DELETE', AIS_ROUTES.consent, aisEndpoint(api, deleteConsentOperation(consentApi)))
  router.on('GET', AIS_ROUTES.accounts, aisEndpoint(api, listAccountsOperation({ store })))
  router.on('GET', DIRECTORY_PATH, aisEndpoint(api, listAspspsOperation(), { requireMessageHeaders: false }))
  registerScaPages(router, { store })

  const controlTargets: SandboxControlTargets = {
    clock,
    faults,
    webhooks,
    // Issued tokens survive a reset: a reset is a fresh data set, not a credential revocation [I].
    resetState: () => {
      store.clear()
      toggles.reset()
    },
  }
  registerSandboxControls(router, controlTargets)
  registerWorldlineControls(router, { store, toggles })

  const stopSweeping = sweepOnClock(clock, () => store.sweep(), settings.sweepIntervalMs)

  return {
    url: server.url,
    clock,
    faults,
    webhooks,
    reset: () => resetSandbox(controlTargets),
    close: async () => {
      stopSweeping()
      webhooks.close()
      await server.close()
      state?.close()
    },
  }
}
