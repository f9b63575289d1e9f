// The hosted bank pages an `authorisationUrl` points at. Automation contract (sandbox/shared/bank-page.ts): the shared
// form, `decision` = approve | deny, POST to the same URL, then 302 to the consent's callback (docs/providers.md,
// Yapily). Redirect-flow banks: one page, Approve or Deny. The embedded bank walks its SCA steps on the same URL so the
// statuses can be watched: opening it is AWAITING_SCA_METHOD (field `scaMethod`); approve -> AWAITING_SCA_CODE and the
// code page (field `scaCode`, prefilled); approve with the right code -> AUTHORIZED and the redirect; a wrong code
// shows the code page again with an error. Deny at any step -> REJECTED and the redirect. Re-authorisation pages (after
// a PATCH) are always one Approve/Deny page.
import type { ServerResponse } from 'node:http'
import {
  parseBankDecision,
  renderBankScaPage,
  renderErrorPage,
  renderResultPage,
  type BankPageField,
} from '../shared/bank-page.ts'
import type { SandboxClock } from '../shared/clock.ts'
import { escapeHtml } from '../shared/html.ts'
import { readFormBody, sendHtml, sendRedirect, type Router, type SandboxRequest } from '../shared/http.ts'
import {
  DEFAULT_SCA_METHOD,
  SANDBOX_SCA_CODE,
  SCA_METHODS,
  abandonReauthorisation,
  approve,
  chooseScaMethod,
  findScaMethod,
  isValidScaCode,
  offerScaMethods,
  reject,
  siblingsOf,
} from './authorisation-flow.ts'
import { approvedCallbackUrl, deniedCallbackUrl } from './callbacks.ts'
import { AWAITING_FIRST_DECISION, type BankPage, type YapilyConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'
import { findInstitution, type SandboxInstitution } from './institutions.ts'
import { BANK_PAGE_ROUTE, QR_CODE_ROUTE, bankPageUrl } from './paths.ts'

export interface BankPagesContext {
  store: ConsentStore
  clock: SandboxClock
  baseUrl: string
}

interface AwaitedPage {
  consent: YapilyConsent
  page: BankPage
  institution: SandboxInstitution
}

export function registerBankPages(router: Router, context: BankPagesContext): void {
  const { store, clock } = context

  router.on('GET', BANK_PAGE_ROUTE, (request, response) => {
    store.sweep()
    const found = awaitedPage(request, response, store)
    if (!found) return
    const { consent, page, institution } = found
    const action = actionOf(request)
    if (walksEmbeddedSteps(institution, page)) {
      // Opening the page is logging in at the bank: the methods are offered from here.
      if (consent.status === 'AWAITING_AUTHORIZATION') offerScaMethods(store, consent)
      const html =
        consent.status === 'AWAITING_SCA_CODE'
          ? codePage(consent, institution, action)
          : methodPage(consent, institution, action)
      sendHtml(response, 200, html)
      return
    }
    sendHtml(response, 200, decisionPage(consent, institution, page, action))
  })

  router.on('POST', BANK_PAGE_ROUTE, async (request, response) => {
    const form = await readFormBody(request.raw)
    store.sweep()
    const found = awaitedPage(request, response, store)
    if (!found) return
    const { consent, page, institution } = found
    const decision = parseBankDecision(form.get('decision'))
    if (decision === null) {
      const message = 'The form needs decision=approve or decision=deny.'
      sendHtml(response, 400, renderErrorPage({ title: 'Something is missing', message }))
      return
    }
    if (decision === 'deny') {
      if (page.purpose === 'reauthorisation') abandonReauthorisation(store, consent)
      else reject(store, consent)
      finish(response, store, consent, page, 'denied')
      return
    }
    if (walksEmbeddedSteps(institution, page)) {
      const action = actionOf(request)
      // A decision posted without opening the page first (scripts do this) walks the step a browser would.
      if (consent.status === 'AWAITING_AUTHORIZATION') offerScaMethods(store, consent)
      if (consent.status === 'AWAITING_SCA_METHOD') {
        const chosen = (form.get('scaMethod') ?? '').trim() || DEFAULT_SCA_METHOD
        const method = findScaMethod(chosen)
        if (!method) {
          const error = `Unknown SCA method ${chosen}: choose ${SCA_METHODS.map((known) => known.id).join(' or ')}.`
          sendHtml(response, 200, methodPage(consent, institution, action, error))
          return
        }
        chooseScaMethod(store, consent, method)
        sendHtml(response, 200, codePage(consent, institution, action))
        return
      }
      if (!isValidScaCode(form.get('scaCode'))) {
        const error = `That code is not right. Try again (the sandbox code is ${SANDBOX_SCA_CODE}).`
        sendHtml(response, 200, codePage(consent, institution, action, error))
        return
      }
    }
    approve(store, consent, institution, clock.now())
    finish(response, store, consent, page, 'approved')
  })

  // Not a real QR code: an image that shows the link it stands for.
  router.on('GET', QR_CODE_ROUTE, (request, response) => {
    const found = store.findByPage(request.params.pageId ?? '')
    if (!found) {
      sendHtml(response, 404, renderErrorPage({ title: 'Not found', message: 'This QR code does not exist.' }))
      return
    }
    const link = escapeHtml(bankPageUrl(context.baseUrl, found.page.id, found.consent.state))
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="60">` +
      `<text x="8" y="34" font-size="10" font-family="monospace">${link}</text></svg>`
    response.writeHead(200, {
      'content-type': 'image/svg+xml',
      'content-length': Buffer.byteLength(svg),
      'cache-control': 'no-store',
    })
    response.end(svg)
  })
}

/**
 * The page behind the URL if it still takes a decision; otherwise answers the error page and returns undefined:
 * 404 unknown page, 410 the consent has expired, 409 decided already, replaced or the consent moved on.
 */
function awaitedPage(request: SandboxRequest, response: ServerResponse, store: ConsentStore): AwaitedPage | undefined {
  const found = store.findByPage(request.params.pageId ?? '')
  const institution = found && findInstitution(found.consent.institutionId)
  if (!found || !institution) {
    const message = 'This authorisation link does not exist.'
    sendHtml(response, 404, renderErrorPage({ title: 'Page not found', message }))
    return undefined
  }
  const { consent, page } = found
  const awaited =
    consent.currentPageId === page.id &&
    (page.purpose === 'authorisation'
      ? AWAITING_FIRST_DECISION.has(consent.status)
      : consent.status === 'AWAITING_RE_AUTHORIZATION')
  if (awaited) return { consent, page, institution }
  if (consent.status === 'EXPIRED') {
    const message = 'This consent has expired. Ask the app to start again.'
    sendHtml(response, 410, renderErrorPage({ title: 'Consent expired', message }))
  } else {
    const message = `This authorisation link can no longer be used: the consent is ${consent.status}.`
    sendHtml(response, 409, renderErrorPage({ title: 'Nothing to approve', message }))
  }
  return undefined
}

function walksEmbeddedSteps(institution: SandboxInstitution, page: BankPage): boolean {
  return institution.flow === 'embedded' && page.purpose === 'authorisation'
}

/** 302 to the callback with the outcome, or a result page when the consent has no callback. */
function finish(
  response: ServerResponse,
  store: ConsentStore,
  consent: YapilyConsent,
  page: BankPage,
  outcome: 'approved' | 'denied',
): void {
  if (consent.callback) {
    const description =
      page.purpose === 'reauthorisation'
        ? 'The user denied the re-authorisation at the institution'
        : 'The user denied access at the institution'
    const location =
      outcome === 'approved'
        ? approvedCallbackUrl(
            consent.callback,
            consent,
            page.purpose === 'authorisation'
              ? siblingsOf(store, consent).flatMap((sibling) => sibling.consentToken ?? [])
              : [],
          )
        : deniedCallbackUrl(consent.callback, consent, description)
    sendRedirect(response, location, 302)
    return
  }
  sendHtml(
    response,
    200,
    renderResultPage({
      title: outcome === 'approved' ? 'Approved' : 'Refused',
      message: 'You can close this page and go back to the app.',
      details: [
        ['Consent', consent.id],
        ['Status', consent.status],
      ],
    }),
  )
}

function decisionPage(consent: YapilyConsent, institution: SandboxInstitution, page: BankPage, action: string): string {
  const reauthorisation = page.purpose === 'reauthorisation'
  return renderBankScaPage({
    bankName: institution.fullName,
    action,
    details: [
      ['User', consent.applicationUserId],
      ['Access to', consent.featureScope.join(', ')],
      ...(reauthorisation ? [['Renewing consent', consent.id] as const] : []),
    ],
    note: reauthorisation
      ? 'Sandbox: no credentials needed. Approve renews access for the same consent; Deny leaves it as it was.'
      : 'Sandbox: no credentials needed.',
  })
}

function methodPage(consent: YapilyConsent, institution: SandboxInstitution, action: string, error?: string): string {
  // The shared page has no select element: a text field takes the method id.
  const fields: BankPageField[] = [
    { name: 'scaMethod', value: DEFAULT_SCA_METHOD, type: 'text', label: 'SCA method (SMS_OTP or PUSH_OTP)' },
  ]
  return renderBankScaPage({
    bankName: institution.fullName,
    action,
    details: [
      ['User', consent.applicationUserId],
      ['Step', '1 of 2: choose how to receive your code'],
    ],
    note: error ?? 'Sandbox: you are logged in. Choose a method, then Approve to continue.',
    fields,
  })
}

function codePage(consent: YapilyConsent, institution: SandboxInstitution, action: string, error?: string): string {
  const method = consent.selectedScaMethod?.id ?? DEFAULT_SCA_METHOD
  return renderBankScaPage({
    bankName: institution.fullName,
    action,
    details: [
      ['User', consent.applicationUserId],
      ['Step', `2 of 2: enter the code sent by ${method}`],
    ],
    note: error ?? `Sandbox: the code is ${SANDBOX_SCA_CODE}.`,
    fields: [{ name: 'scaCode', value: SANDBOX_SCA_CODE, type: 'text', label: 'SCA code' }],
  })
}

/** The form posts back to exactly the URL it was served at, query (`state`) included. */
function actionOf(request: SandboxRequest): string {
  return `${request.url.pathname}${request.url.search}`
}
