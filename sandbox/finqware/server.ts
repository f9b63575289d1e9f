// Starts the Finqware sandbox: the AIS consent API, hosted WebUI, fake banks, signed webhooks, JWKS and controls.
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
import { apiEndpoint, requestIdOf, sendFinqwareError, type ApiCallContext, type ApiOperation } from './api-call.ts'
import { createConsentOperation, getConsentOperation, revokeConsentOperation } from './consent-api.ts'
import { ConsentStore } from './consent-store.ts'
import { registerNativeBank } from './native-bank.ts'
import { resolveFinqwareSettings, type FinqwareSandboxOptions } from './options.ts'
import { listProvidersOperation } from './providers-api.ts'
import { RedirectProcessor } from './redirect-api.ts'
import { TOKEN_PATH, TokenIssuer, type TokenCounts } from './oauth2.ts'
import { registerFinqwareControls } from './sandbox-controls.ts'
import { SigningKeyRing } from './signing-keys.ts'
import { readFinqwareState, type FinqwareSavedState } from './saved-state.ts'
import { StateFile } from '../shared/persistence.ts'
import { consentStatusUpdate } from './status-webhook.ts'
import { registerWebUi } from './web-ui.ts'

export type { FinqwareSandboxOptions } from './options.ts'

/**
 * The docs name `/v2` paths, and the Quick Start a `/test` path; how the two combine is not published, so
 * every endpoint is served under both.
 */
export const API_PREFIXES = ['/v2', '/test'] as const

/** Its API is at `{url}/v2/...` and `{url}/test/...`; a reset forgets its consents. */
export interface FinqwareSandbox extends RunningSandbox {
  readonly keys: SigningKeyRing
  /** Tokens issued by `/oauth2/token`, and API calls refused for their token, since the start. */
  tokenCounts(): TokenCounts
}

/**
 * @example
 * const finqware = await startFinqwareSandbox({ activationDelayMs: 0 })
 * await fetch(`${finqware.url}/v2/ais/consents/create`, { method: 'POST', body: JSON.stringify({ ... }) })
 * await finqware.close()
 */
export async function startFinqwareSandbox(options: FinqwareSandboxOptions = {}): Promise<FinqwareSandbox> {
  const settings = resolveFinqwareSettings(options)
  const saved = options.stateFile === undefined ? undefined : readFinqwareState(options.stateFile)
  const clock = new SandboxClock()
  if (saved) clock.advance(saved.clockOffsetMs)
  const faults = new FaultInjector()
  const keys = saved ? await SigningKeyRing.restore(saved.keys) : await SigningKeyRing.create()
  const webhooks = new WebhookDispatcher({ sign: (body) => keys.sign(body), ...settings.webhookRetry })
  const store = new ConsentStore({
    clock,
    activationDelayMs: settings.activationDelayMs,
    validityEndStatus: settings.validityEndStatus,
    onStatusChange: (consent) => {
      state?.changed()
      if (consent.webhookUrl) webhooks.enqueue(consent.webhookUrl, consentStatusUpdate(consent))
    },
  })
  const state =
    options.stateFile === undefined
      ? undefined
      : new StateFile(options.stateFile, (): FinqwareSavedState => ({
          version: 1,
          clockOffsetMs: clock.offsetMs,
          keys: keys.saved(),
          consents: store.all(),
        }))
  if (saved) store.load(saved.consents)
  clock.onChange(() => state?.changed())
  const redirects = new RedirectProcessor({ store, processingMs: settings.redirectProcessingMs })

  const controlsLocked = controlsGuard(options.controlSecret)
  const router = new Router({
    notFound: (request, response) => {
      const route = `${request.method} ${request.url.pathname}`
      sendFinqwareError(response, requestIdOf(request.headers), 404, 'not_found', `no route for ${route}`)
    },
    onError: (error, request, response) => {
      const requestId = requestIdOf(request.headers)
      if (error instanceof BodyTooLargeError) {
        return sendFinqwareError(response, requestId, 413, 'bad_request', error.message)
      }
      if (error instanceof MalformedJsonError) {
        return sendFinqwareError(response, requestId, 400, 'bad_request', error.message)
      }
      console.error('finqware sandbox: unexpected error', error)
      sendFinqwareError(response, requestId, 500, 'internal_server_error', 'unexpected sandbox error')
    },
  })
  // Listen first: web_url and the native bank URL need the real port. Until the routes below exist, every request
  // is a 404, and nobody knows an ephemeral port before this function returns.
  // Every answer is dated by the sandbox clock, as a provider's answers are dated by its own: clients that compare
  // deadlines with the provider's time (the Date header) must see the moved clock.
  const server = await startHttpServer(
    (request, response) => {
      response.setHeader('date', clock.now().toUTCString())
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

  const tokens = new TokenIssuer(clock, settings.tokenLifetimeSeconds, settings.clients)
  const api: ApiCallContext = {
    faults,
    clients: settings.clients,
    authMode: settings.authMode,
    tokens,
    beforeOperation: () => store.sweep(),
  }
  const consentApi = { store, clock, baseUrl: server.url }
  const operations: Record<string, ApiOperation> = {
    '/ais/consents/create': createConsentOperation(consentApi),
    '/ais/consents/get': getConsentOperation(consentApi),
    '/ais/consents/revoke': revokeConsentOperation(consentApi),
    '/ais/consents/redirect': redirects.operation(),
    '/providers/list': listProvidersOperation(),
  }
  for (const prefix of API_PREFIXES) {
    for (const [path, operation] of Object.entries(operations)) {
      router.on('POST', `${prefix}${path}`, apiEndpoint(api, operation))
    }
  }
  // Served in both modes (a client configured for the wrong mode then fails on the API call, as it would at Finqware).
  // Injected faults do not apply here: they plan failures of the consent API calls.
  router.on('POST', TOKEN_PATH, tokens.endpoint())
  router.on('GET', '/.well-known/jwks.json', (_request, response) => sendJson(response, 200, keys.jwks()))
  registerWebUi(router, { store })
  registerNativeBank(router, { store })

  const controlTargets: SandboxControlTargets = {
    clock,
    faults,
    webhooks,
    resetState: () => {
      redirects.dispose()
      store.clear()
    },
  }
  registerSandboxControls(router, controlTargets)
  registerFinqwareControls(router, { store, keys })

  const stopSweeping = sweepOnClock(clock, () => store.sweep(), settings.sweepIntervalMs)

  return {
    url: server.url,
    clock,
    faults,
    webhooks,
    keys,
    tokenCounts: () => tokens.counts(),
    reset: () => resetSandbox(controlTargets),
    close: async () => {
      stopSweeping()
      redirects.dispose()
      store.dispose()
      webhooks.close()
      await server.close()
      state?.close()
    },
  }
}
