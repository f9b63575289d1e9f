// The fake native bank of `direct_sca`: its SCA page sends the user to the caller's redirect URL with code and state.
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { parseBankDecision, redirectBackUrl, renderBankScaPage, renderErrorPage } from '../shared/bank-page.ts'
import { readFormBody, sendHtml, sendRedirect, type Router, type SandboxRequest } from '../shared/http.ts'
import { findBank, type SandboxBank } from './catalogue.ts'
import { LINK_PENDING_STATUSES, type ConsentStatus, type FinqwareConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'

/**
 * Opening the native bank URL starts the flow with the SCA URL already retrieved; `awaiting_authz` is documented for
 * link/wrapped_sca only (Finqware's Get Consent page), so a direct_sca consent waits in `sca_url_retrieved` until the redirect.
 */
const TO_NATIVE_BANK_PAGE: readonly ConsentStatus[] = ['started', 'sca_url_retrieved']

export function registerNativeBank(router: Router, { store }: { store: ConsentStore }): void {
  router.on('GET', '/bank/:providerId/authorize', (request, response) => {
    store.sweep()
    const found = awaitingConsent(request, response, store)
    if (!found) return
    store.walkFlow(found.consent, TO_NATIVE_BANK_PAGE)
    sendHtml(
      response,
      200,
      renderBankScaPage({
        bankName: found.bank.name,
        action: `${request.url.pathname}${request.url.search}`,
        details: [
          ['Requested by', found.consent.apiClientApp],
          ['Access to', found.consent.scope.join(', ')],
          ['Valid for', `${found.consent.consentValidityDays} days`],
        ],
        note: `Sandbox credentials (not checked): ${found.bank.testCredentials}.`,
      }),
    )
  })

  router.on('POST', '/bank/:providerId/authorize', async (request, response) => {
    const form = await readFormBody(request.raw)
    store.sweep()
    const found = awaitingConsent(request, response, store)
    if (!found) return
    const decision = parseBankDecision(form.get('decision'))
    if (decision === null) {
      sendHtml(response, 400, renderErrorPage({ title: 'Something is missing', message: 'Approve or deny.' }))
      return
    }
    const { consent } = found
    const direct = consent.directSca as NonNullable<FinqwareConsent['directSca']>
    store.walkFlow(consent, TO_NATIVE_BANK_PAGE)
    // OAuth-style answer: a one-time code on approval, error=access_denied on refusal (our guess, after OAuth 2.0).
    const code = decision === 'approve' ? randomBytes(12).toString('base64url') : null
    direct.bankAnswer = { decision, code }
    const outcome: Record<string, string> =
      code === null ? { error: 'access_denied', state: direct.state } : { code, state: direct.state }
    sendRedirect(response, redirectBackUrl(consent.redirectUrl ?? '', outcome))
  })
}

/** The direct_sca consent behind `state`, if the bank can still ask the user; otherwise answers an error page. */
function awaitingConsent(
  request: SandboxRequest,
  response: ServerResponse,
  store: ConsentStore,
): { consent: FinqwareConsent; bank: SandboxBank } | undefined {
  const consent = store.findByState(request.url.searchParams.get('state') ?? '')
  const bank = findBank(request.params.providerId)
  if (!consent || !bank || consent.providerId !== bank.providerId) {
    const page = renderErrorPage({ title: 'Unknown request', message: 'The bank does not know this request.' })
    sendHtml(response, 404, page)
    return undefined
  }
  if (consent.status === 'expired') {
    const page = renderErrorPage({ title: 'Request expired', message: 'This authorisation request has expired.' })
    sendHtml(response, 410, page)
    return undefined
  }
  if (consent.directSca?.bankAnswer || !LINK_PENDING_STATUSES.has(consent.status)) {
    const page = renderErrorPage({ title: 'Already answered', message: 'This request was already answered.' })
    sendHtml(response, 409, page)
    return undefined
  }
  return { consent, bank }
}
