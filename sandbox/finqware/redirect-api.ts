// `/ais/consents/redirect` (direct_sca only): the caller forwards the bank's redirect query string; 200/201/202.
import type { ApiOperation } from './api-call.ts'
import { LINK_PENDING_STATUSES, type FinqwareConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'
import { FinqwareApiError, consentNotActive, linkExpired, validationError } from './errors.ts'

/** The pattern Finqware's Handle Redirect page gives for `query_string`: `key=value` pairs joined by `&`, one being `state`. */
export const REDIRECT_QUERY_PATTERN = /^(?:[^&=]+=[^&]*&)*state=[^&]*(?:&[^&=]+=[^&]*)*$/

export interface RedirectApiContext {
  store: ConsentStore
  /** Real-time duration of the simulated code exchange with the bank. */
  processingMs: number
}

/** Runs redirect processing in the background and lets `close` cancel what is still running. */
export class RedirectProcessor {
  readonly #context: RedirectApiContext
  /** Redirects being processed, by consent id; `finish` settles any `sync` caller waiting on it. */
  readonly #running = new Map<string, { timer: NodeJS.Timeout; finish: () => void }>()

  constructor(context: RedirectApiContext) {
    this.#context = context
  }

  /**
   * - 201: this consent's redirect was already processed (idempotent retry); answers the current status.
   * - 202 `redirect_in_progress`: processing started now in async mode, or is still running from another call
   *   (even with `sync: true`, per "202: in progress (async mode or a concurrent call)").
   * - 200: `sync: true` and this call did the processing; answers the status reached (`authorized` or `failed`).
   */
  operation(): ApiOperation {
    return async ({ body, client, requestId }) => {
      const queryString = body.query_string
      if (typeof queryString !== 'string' || !REDIRECT_QUERY_PATTERN.test(queryString)) {
        throw validationError('query_string must be the raw query string of the bank redirect and contain state')
      }
      const sync = body.sync ?? false
      if (typeof sync !== 'boolean') throw validationError('sync must be a boolean')
      const query = new URLSearchParams(queryString)
      const state = query.get('state') ?? ''
      const consent = this.#context.store.findByState(state)
      // An unknown state, or another client's, reads as a missing consent (our guess).
      if (!consent || consent.clientId !== client.clientId || !consent.directSca) {
        throw new FinqwareApiError(404, 'consent_not_found', 'no direct_sca consent matches this state')
      }
      const answer = (status: number, consentStatus: string) => ({
        status,
        body: {
          request_id: requestId,
          status: consentStatus,
          api_client_app: consent.apiClientApp,
          consent_id: consent.consentId,
          web_id: consent.webId,
        },
      })

      if (consent.directSca.redirect === 'processed') return answer(201, consent.status)
      if (consent.directSca.redirect === 'in_progress') return answer(202, 'redirect_in_progress')
      this.#assertRedirectable(consent, query)

      consent.directSca.redirect = 'in_progress'
      const processing = this.#process(consent)
      if (!sync) return answer(202, 'redirect_in_progress')
      await processing
      return answer(200, consent.status)
    }
  }

  /** Abandons processing still running; waiting `sync` callers are released (their connections are closing). */
  dispose(): void {
    for (const { timer, finish } of this.#running.values()) {
      clearTimeout(timer)
      finish()
    }
    this.#running.clear()
  }

  #assertRedirectable(consent: FinqwareConsent, query: URLSearchParams): void {
    const direct = consent.directSca
    // link_expired is in Finqware's 400 codes; that it answers calls on a link past expires_at is our guess.
    if (consent.status === 'expired') throw linkExpired(`the link of consent ${consent.consentId} has expired`)
    if (!LINK_PENDING_STATUSES.has(consent.status)) {
      throw consentNotActive(`consent ${consent.consentId} is ${consent.status}; the redirect cannot be processed`)
    }
    // The fake bank records its answer before redirecting; a redirect it never issued cannot be processed (our guess).
    if (!direct?.bankAnswer) throw validationError('the bank has not redirected for this state yet')
    if (direct.bankAnswer.decision === 'approve' && query.get('code') !== direct.bankAnswer.code) {
      throw validationError('code does not match the one the bank issued')
    }
  }

  #process(consent: FinqwareConsent): Promise<void> {
    const { store, processingMs } = this.#context
    return new Promise<void>((finish) => {
      const timer = setTimeout(() => {
        this.#running.delete(consent.consentId)
        const direct = consent.directSca
        // A reset may have forgotten the consent meanwhile; then there is nothing to update or report.
        if (direct && store.findAny(consent.consentId) === consent) {
          direct.redirect = 'processed'
          store.sweep()
          // Only a still-pending consent moves: an expiry or a revoke during processing wins.
          if (LINK_PENDING_STATUSES.has(consent.status)) {
            store.transition(consent, direct.bankAnswer?.decision === 'approve' ? 'authorized' : 'failed')
          }
        }
        finish()
      }, processingMs)
      this.#running.set(consent.consentId, { timer, finish })
    })
  }
}
