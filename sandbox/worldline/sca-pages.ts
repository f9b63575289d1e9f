// The hosted bank SCA pages: the first holder's (with the multi-level SCA holder count) and each further holder's.
// Automation contract (the one every sandbox bank page keeps, sandbox/shared/bank-page.ts): the shared form with `decision` = approve | deny, POST to the same URL,
// then 303 to `InitiatingPartyReturnUrl` with `consentId` and `status` appended.
import type { ServerResponse } from 'node:http'
import {
  parseBankDecision,
  redirectBackUrl,
  renderBankScaPage,
  renderErrorPage,
  renderResultPage,
  type BankPageField,
} from '../shared/bank-page.ts'
import { readFormBody, sendHtml, sendRedirect, type Router, type SandboxRequest } from '../shared/http.ts'
import { findAspsp } from './aspsps.ts'
import { AWAITING_FIRST_HOLDER, HOLDERS, type HolderAuthorisation, type WorldlineConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'
import { BANK_PAGE_ROUTE } from './paths.ts'

/** The form field in which the first holder declares how many holders must approve. */
export const HOLDERS_FIELD = 'holders'

export function registerScaPages(router: Router, { store }: { store: ConsentStore }): void {
  router.on('GET', BANK_PAGE_ROUTE, (request, response) => {
    store.sweep()
    const found = awaitedAuthorisation(request, response, store)
    if (!found) return
    // Opening the bank page is the PSU arriving at the bank: the consent is Pending from here (docs/providers.md, Worldline evidence: Statuses).
    if (found.consent.status === 'Open') store.transition(found.consent, 'Pending')
    sendHtml(response, 200, renderPage(found.consent, found.authorisation, request.url.pathname))
  })

  router.on('POST', BANK_PAGE_ROUTE, async (request, response) => {
    const form = await readFormBody(request.raw)
    store.sweep()
    const found = awaitedAuthorisation(request, response, store)
    if (!found) return
    const { consent, authorisation } = found
    const decision = parseBankDecision(form.get('decision'))
    if (decision === null) return badForm(response, 'The form needs decision=approve or decision=deny.')
    const holders = authorisation.holder === 1 ? parseHolders(form.get(HOLDERS_FIELD)) : consent.holdersRequired
    if (holders === null) {
      return badForm(
        response,
        `Account holders who must approve: a whole number from ${HOLDERS.min} to ${HOLDERS.max}.`,
      )
    }

    // A decision posted without opening the page first (scripts do this) walks the step a browser would.
    if (consent.status === 'Open') store.transition(consent, 'Pending')
    authorisation.decision = decision === 'approve' ? 'approved' : 'denied'
    if (decision === 'deny') {
      store.transition(consent, 'Rejected')
    } else if (authorisation.holder === 1) {
      consent.holdersRequired = holders
      consent.holdersDone = 1
      store.transition(consent, holders === 1 ? 'Authorised' : 'PartiallyAuthorised')
    } else {
      // A further holder's approval is not a status change until the last one makes the consent Authorised.
      consent.holdersDone += 1
      if (consent.holdersDone >= consent.holdersRequired) store.transition(consent, 'Authorised')
    }

    if (consent.returnUrl) {
      sendRedirect(
        response,
        redirectBackUrl(consent.returnUrl, { consentId: consent.consentId, status: consent.status }),
      )
      return
    }
    sendHtml(
      response,
      200,
      renderResultPage({
        title: decision === 'approve' ? 'Approved' : 'Refused',
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
 * The holder count field: absent or empty means the default (1), as scripts that skip it expect; otherwise a whole
 * number from 1 to 5. Null for anything else.
 */
export function parseHolders(value: string | null): number | null {
  if (value === null || value.trim() === '') return HOLDERS.default
  if (!/^\d+$/.test(value.trim())) return null
  const holders = Number(value.trim())
  return holders >= HOLDERS.min && holders <= HOLDERS.max ? holders : null
}

/**
 * The authorisation behind the page if its decision is still awaited; otherwise answers the error page and returns
 * undefined: 404 unknown page, 410 the consent has expired, 409 decided already or the consent moved on.
 */
function awaitedAuthorisation(
  request: SandboxRequest,
  response: ServerResponse,
  store: ConsentStore,
): { consent: WorldlineConsent; authorisation: HolderAuthorisation } | undefined {
  const found = store.findByPage(request.params.pageId ?? '')
  if (!found) {
    sendHtml(
      response,
      404,
      renderErrorPage({ title: 'Page not found', message: 'This authorisation link does not exist.' }),
    )
    return undefined
  }
  const { consent, authorisation } = found
  const awaited =
    authorisation.decision === 'pending' &&
    (authorisation.holder === 1
      ? AWAITING_FIRST_HOLDER.has(consent.status)
      : consent.status === 'PartiallyAuthorised' && authorisation.holder === consent.holdersDone + 1)
  if (awaited) return found
  if (consent.status === 'Expired') {
    sendHtml(
      response,
      410,
      renderErrorPage({ title: 'Consent expired', message: 'This consent has expired. Ask the app for a new one.' }),
    )
  } else {
    sendHtml(
      response,
      409,
      renderErrorPage({
        title: 'Nothing to approve',
        message: `This authorisation can no longer be used: the consent is ${consent.status}.`,
      }),
    )
  }
  return undefined
}

function badForm(response: ServerResponse, message: string): void {
  sendHtml(response, 400, renderErrorPage({ title: 'Something is missing', message }))
}

function renderPage(consent: WorldlineConsent, authorisation: HolderAuthorisation, action: string): string {
  const bankName = findAspsp(consent.aspspId)?.name ?? `ASPSP ${consent.aspspId}`
  const firstHolder = authorisation.holder === 1
  // The shared field renderer has no min/max attributes; the 1..5 bound is enforced when the form comes back.
  const fields: BankPageField[] = firstHolder
    ? [
        {
          name: HOLDERS_FIELD,
          value: String(HOLDERS.default),
          type: 'number',
          label: 'Account holders who must approve',
        },
      ]
    : []
  return renderBankScaPage({
    bankName,
    action,
    details: [
      ['PSU', consent.psuId],
      ['Access to', consent.permissions.join(', ')],
      ['Valid until', consent.validUntilDate],
      ...(firstHolder ? [] : [['Account holder', `${authorisation.holder} of ${consent.holdersRequired}`] as const]),
    ],
    note: firstHolder
      ? 'Sandbox: no credentials needed. Joint account? Enter how many holders must approve (1 to 5).'
      : 'Sandbox: no credentials needed.',
    fields,
  })
}
