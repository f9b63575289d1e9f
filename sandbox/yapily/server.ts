// Starts the Yapily sandbox: the consent API (Basic auth, legacy and newer envelopes), institutions, hosted bank
// pages (redirect and embedded flows), accounts, webhooks with HMAC signatures, and controls.
import { randomUUID } from 'node:crypto'
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
import { apiEndpoint, type ApiCallContext, type ApiEndpointOptions } from './api-call.ts'
import { createAuthorisationOperation, reauthoriseOperation } from './auth-requests-api.ts'
import { registerBankPages } from './bank-pages.ts'
import { BankToggles } from './bank-toggles.ts'
import { ConsentEventPublisher } from './consent-events.ts'
import { ConsentStore } from './consent-store.ts'
import { deleteConsentOperation, getConsentOperation, listConsentsOperation } from './consents-api.ts'
import { createEmbeddedAuthorisationOperation, updateEmbeddedAuthorisationOperation } from './embedded-api.ts'
import { legacyErrorBody } from './errors.ts'
import { extendConsentOperation } from './extend-api.ts'
import { listInstitutionsOperation } from './institutions-api.ts'
import { resolveYapilySettings, type YapilySandboxOptions } from './options.ts'
import { registerYapilyControls } from './sandbox-controls.ts'
import { UserRegistry } from './users.ts'
import { WebhookRegistry } from './webhook-registry.ts'
import { readYapilyState, type YapilySavedState } from './saved-state.ts'
import { webhookCategories } from './webhook-events.ts'
import { StateFile } from '../shared/persistence.ts'
import {
  deleteWebhookOperation,
  listCategoriesOperation,
  listWebhooksOperation,
  registerWebhookOperation,
} from './webhooks-api.ts'

export type { YapilySandboxOptions } from './options.ts'

/**
 * Its API paths sit at the root, as at `https://api.yapily.com`; a reset forgets consents, users, webhook
 * registrations and the bank toggle.
 */
export type YapilySandbox = RunningSandbox

/**
 * @example
 * const yapily = await startYapilySandbox({ callbacks: ['http://127.0.0.1:4000/callback'] })
 * await fetch(`${yapily.url}/institutions`, { headers: { authorization: basicAuthorization('sandbox-app-key', 'sandbox-app-secret') } })
 * await yapily.close()
 */
export async function startYapilySandbox(options: YapilySandboxOptions = {}): Promise<YapilySandbox> {
  const settings = resolveYapilySettings(options)
  const saved = options.stateFile === undefined ? undefined : readYapilyState(options.stateFile)
  const clock = new SandboxClock()
  if (saved) clock.advance(saved.clockOffsetMs)
  const faults = new FaultInjector()
  const toggles = new BankToggles()
  const users = new UserRegistry()
  const registry = new WebhookRegistry()
  const publisher = new ConsentEventPublisher({
    registry,
    signWebhooks: settings.signWebhooks,
    signatureHeader: settings.webhookSignatureHeader,
    consentEventType: settings.consentEventType,
    // Only called on a status change, long after `webhooks` below exists.
    enqueue: (url, body) => webhooks.enqueue(url, body),
  })
  const webhooks = new WebhookDispatcher({ sign: (body) => publisher.sign(body), ...settings.webhookRetry })
  const store = new ConsentStore({
    clock,
    notify: (consent) => {
      state?.changed()
      publisher.publish(consent)
    },
  })
  const state =
    options.stateFile === undefined
      ? undefined
      : new StateFile(options.stateFile, (): YapilySavedState => ({
          version: 1,
          clockOffsetMs: clock.offsetMs,
          consents: store.all(),
          sequence: store.sequence,
          users: users.all(),
          webhooks: registry.all(),
          deleteFails: toggles.deleteFails,
        }))
  if (saved) {
    store.load(saved.consents, saved.sequence)
    users.load(saved.users)
    registry.load(saved.webhooks)
    toggles.deleteFails = saved.deleteFails
  }
  clock.onChange(() => state?.changed())

  const controlsLocked = controlsGuard(options.controlSecret)
  const router = new Router({
    notFound: (request, response) => {
      const route = `${request.method} ${request.url.pathname}`
      sendJson(response, 404, legacyErrorBody(404, `No route for ${route}`, randomUUID()))
    },
    onError: (error, _request, response) => {
      if (error instanceof BodyTooLargeError)
        return sendJson(response, 413, legacyErrorBody(413, error.message, randomUUID()))
      if (error instanceof MalformedJsonError)
        return sendJson(response, 400, legacyErrorBody(400, error.message, randomUUID()))
      console.error('yapily sandbox: unexpected error', error)
      sendJson(response, 500, legacyErrorBody(500, 'unexpected sandbox error', randomUUID()))
    },
  })
  // Listen first: the bank page links need the real port. Until the routes below exist, every request is a 404.
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

  const api: ApiCallContext = { faults, applications: settings.applications, beforeOperation: () => store.sweep() }
  const webhookRoute: ApiEndpointOptions = { envelope: 'issues', metadataAlias: true }
  const flow = { store, users, clock, callbacks: settings.callbacks, baseUrl: server.url }
  const consents = { store, clock, toggles }
  const categories = webhookCategories(settings.consentEventType)
  router.on('GET', '/institutions', apiEndpoint(api, listInstitutionsOperation()))
  router.on('POST', '/account-auth-requests', apiEndpoint(api, createAuthorisationOperation(flow)))
  router.on('PATCH', '/account-auth-requests', apiEndpoint(api, reauthoriseOperation(flow)))
  router.on('POST', '/embedded-account-auth-requests', apiEndpoint(api, createEmbeddedAuthorisationOperation(flow)))
  router.on(
    'PUT',
    '/embedded-account-auth-requests/:consentId',
    apiEndpoint(api, updateEmbeddedAuthorisationOperation(flow)),
  )
  router.on('GET', '/consents', apiEndpoint(api, listConsentsOperation(consents)))
  router.on('GET', '/consents/:consentId', apiEndpoint(api, getConsentOperation(consents)))
  router.on('DELETE', '/consents/:consentId', apiEndpoint(api, deleteConsentOperation(consents)))
  router.on(
    'POST',
    '/consents/:consentId/extend',
    apiEndpoint(api, extendConsentOperation({ store, clock }), { envelope: 'issues' }),
  )
  router.on('GET', '/accounts', apiEndpoint(api, listAccountsOperation({ store, clock })))
  router.on('GET', '/webhook/events/categories', apiEndpoint(api, listCategoriesOperation(categories), webhookRoute))
  router.on('POST', '/webhook/events', apiEndpoint(api, registerWebhookOperation(registry, categories), webhookRoute))
  router.on('GET', '/webhook/events', apiEndpoint(api, listWebhooksOperation(registry), webhookRoute))
  router.on('DELETE', '/webhook/events/:webhookId', apiEndpoint(api, deleteWebhookOperation(registry), webhookRoute))
  registerBankPages(router, { store, clock, baseUrl: server.url })

  const controlTargets: SandboxControlTargets = {
    clock,
    faults,
    webhooks,
    resetState: () => {
      store.clear()
      users.clear()
      registry.clear()
      publisher.clear()
      toggles.reset()
    },
  }
  registerSandboxControls(router, controlTargets)
  registerYapilyControls(router, { store, toggles, clock })

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
