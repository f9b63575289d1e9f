// The hosted FinqLink WebUI at `web_url` (link and wrapped_sca): bank picker, then the fake bank SCA page.
import type { ServerResponse } from 'node:http'
import {
  parseBankDecision,
  redirectBackUrl,
  renderBankScaPage,
  renderErrorPage,
  renderResultPage,
} from '../shared/bank-page.ts'
import { html, htmlDocument } from '../shared/html.ts'
import { readFormBody, sendHtml, sendRedirect, type Router, type SandboxRequest } from '../shared/http.ts'
import { SANDBOX_BANKS, findBank, type SandboxBank } from './catalogue.ts'
import { LINK_PENDING_STATUSES, type ConsentStatus, type FinqwareConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'

/** Opening the link starts the flow; reaching the bank page means the SCA URL was fetched and opened. */
const TO_BANK_PAGE: readonly ConsentStatus[] = ['started', 'sca_url_retrieved', 'awaiting_authz']

export interface WebUiContext {
  store: ConsentStore
}

export function registerWebUi(router: Router, { store }: WebUiContext): void {
  router.on('GET', '/link/:webId', (request, response) => {
    store.sweep()
    const consent = usableConsent(request, response, store)
    if (!consent) return
    if (consent.providerId === null) {
      store.walkFlow(consent, ['started'])
      sendHtml(response, 200, renderBankPicker(request.url.pathname))
      return
    }
    store.walkFlow(consent, TO_BANK_PAGE)
    sendHtml(response, 200, renderFinqwareBankPage(consent, request))
  })

  router.on('POST', '/link/:webId', async (request, response) => {
    const form = await readFormBody(request.raw)
    store.sweep()
    const consent = usableConsent(request, response, store)
    if (!consent) return

    const chosenProvider = form.get('provider_id')
    if (chosenProvider !== null) {
      if (consent.providerId !== null) return conflict(response, 'A bank has already been chosen for this link.')
      const bank = findBank(chosenProvider)
      if (!bank) return badForm(response, 'Choose one of the listed banks.')
      consent.providerId = bank.providerId
      store.walkFlow(consent, TO_BANK_PAGE)
      sendHtml(response, 200, renderFinqwareBankPage(consent, request))
      return
    }

    const decision = parseBankDecision(form.get('decision'))
    if (decision === null) return badForm(response, 'The form needs decision=approve or decision=deny.')
    if (consent.providerId === null) return conflict(response, 'Choose a bank before deciding.')
    // A decision posted without opening the page first (scripts do this) walks the same steps a browser would.
    store.walkFlow(consent, TO_BANK_PAGE)
    store.transition(consent, decision === 'approve' ? 'authorized' : 'failed')

    if (consent.redirectUrl) {
      // A refusal also says `error=access_denied`, as the native bank's OAuth-style answer does (our guess): `failed` alone
      // cannot tell the user's refusal from a bank error.
      const outcome: Record<string, string> = { consent_id: consent.consentId, status: consent.status }
      if (decision === 'deny') outcome.error = 'access_denied'
      sendRedirect(response, redirectBackUrl(consent.redirectUrl, outcome))
      return
    }
    sendHtml(
      response,
      200,
      renderResultPage({
        title: decision === 'approve' ? 'Access granted' : 'Access refused',
        message: 'You can close this page and go back to the app.',
        details: [
          ['Consent', consent.consentId],
          ['Status', consent.status],
        ],
      }),
    )
  })
}

/**
 * The consent behind the link if its flow can still be used; otherwise answers the error page and returns undefined:
 * 404 unknown link (direct_sca consents have none), 410 expired link, 409 already decided or otherwise closed.
 */
function usableConsent(
  request: SandboxRequest,
  response: ServerResponse,
  store: ConsentStore,
): FinqwareConsent | undefined {
  const consent = store.findByWebId(request.params.webId ?? '')
  if (!consent || consent.flow === 'direct_sca') {
    sendHtml(response, 404, renderErrorPage({ title: 'Link not found', message: 'This link does not exist.' }))
    return undefined
  }
  if (consent.status === 'expired') {
    sendHtml(
      response,
      410,
      renderErrorPage({ title: 'Link expired', message: 'This link has expired. Ask the app for a new one.' }),
    )
    return undefined
  }
  if (!LINK_PENDING_STATUSES.has(consent.status)) {
    conflict(response, `This link can no longer be used: the consent is ${consent.status}.`)
    return undefined
  }
  return consent
}

function conflict(response: ServerResponse, message: string): void {
  sendHtml(response, 409, renderErrorPage({ title: 'Link already used', message }))
}

function badForm(response: ServerResponse, message: string): void {
  sendHtml(response, 400, renderErrorPage({ title: 'Something is missing', message }))
}

/** The picker posts `provider_id` back to the link; its answer is the bank page itself. */
function renderBankPicker(action: string): string {
  return htmlDocument(
    'Choose your bank',
    html`<form method="post" action="${action}">
      ${SANDBOX_BANKS.map(
        (bank) =>
          html`<p><button type="submit" name="provider_id" value="${bank.providerId}">${bank.name}</button></p> `,
      )}
    </form>`,
  )
}

function renderFinqwareBankPage(consent: FinqwareConsent, request: SandboxRequest): string {
  const bank = findBank(consent.providerId) as SandboxBank
  return renderBankScaPage({
    bankName: bank.name,
    action: request.url.pathname,
    details: [
      ['Requested by', consent.apiClientApp],
      ['Access to', consent.scope.join(', ')],
      ['Valid for', `${consent.consentValidityDays} days`],
    ],
    note: `Sandbox credentials (not checked): ${bank.testCredentials}.`,
  })
}
