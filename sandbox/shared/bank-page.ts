// The hosted bank SCA page every sandbox shows at its authorisation URL, plus its result and error pages.
// Automation contract (docs/architecture.md, "Sandboxes"): one form, method="post" to the same URL, submit buttons
// name="decision" valued "approve" and "deny", plus whatever fields a flow needs.
import { html, htmlDocument, type SafeHtml } from './html.ts'

/** The two answers a user can give at the bank. */
export type BankDecision = 'approve' | 'deny'

export const BANK_DECISIONS: readonly BankDecision[] = ['approve', 'deny']

/** Reads the `decision` field of a submitted bank page; anything else is null. */
export function parseBankDecision(value: string | null | undefined): BankDecision | null {
  return value === 'approve' || value === 'deny' ? value : null
}

/** An extra form field a provider's flow needs (e.g. a holder count for multi-level SCA). */
export interface BankPageField {
  name: string
  value: string
  /** @default 'hidden' */
  type?: 'hidden' | 'text' | 'number'
  /** Shown next to visible fields. */
  label?: string
}

export interface BankScaPage {
  bankName: string
  /** The URL the page is served at (path and query); the form posts back to it. */
  action: string
  /** What the user is asked to grant, shown as a definition list. */
  details?: ReadonlyArray<readonly [label: string, value: string]>
  /** A hint for testers, e.g. the provider's documented sandbox credentials. */
  note?: string
  fields?: readonly BankPageField[]
}

export function renderBankScaPage(page: BankScaPage): string {
  const body = html` <p>${page.bankName} asks you to confirm access to your account information.</p>
    ${renderDetails(page.details)} ${page.note ? html`<p><small>${page.note}</small></p>` : null}
    <form method="post" action="${page.action}">
      ${(page.fields ?? []).map(renderField)}
      <button type="submit" name="decision" value="approve">Approve</button>
      <button type="submit" name="decision" value="deny">Deny</button>
    </form>`
  return htmlDocument(`${page.bankName}: confirm access`, body)
}

export interface ResultPage {
  title: string
  message: string
  details?: ReadonlyArray<readonly [label: string, value: string]>
}

/** Shown after a decision when there is no redirect URL to go back to. */
export function renderResultPage(page: ResultPage): string {
  return htmlDocument(
    page.title,
    html`<p>${page.message}</p>
      ${renderDetails(page.details)}`,
  )
}

export interface ErrorPage {
  title: string
  message: string
}

/** Link expired, already used, unknown link: the page a person sees instead of the form. */
export function renderErrorPage(page: ErrorPage): string {
  return htmlDocument(page.title, html`<p role="alert">${page.message}</p>`)
}

function renderDetails(details: BankScaPage['details']): SafeHtml | null {
  if (!details || details.length === 0) return null
  return html`<dl>
    ${details.map(
      ([label, value]) =>
        html`<dt>${label}</dt>
          <dd>${value}</dd>`,
    )}
  </dl>`
}

function renderField(field: BankPageField): SafeHtml {
  const type = field.type ?? 'hidden'
  const input = html`<input type="${type}" name="${field.name}" value="${field.value}">`
  return type === 'hidden' ? input : html`<p><label>${field.label ?? field.name} ${input}</label></p>`
}

/**
 * The partner's redirect URL with the outcome appended as query parameters; parameters already in the URL (and a
 * fragment) are kept.
 */
export function redirectBackUrl(redirectUrl: string, outcome: Readonly<Record<string, string>>): string {
  const url = new URL(redirectUrl)
  for (const [name, value] of Object.entries(outcome)) url.searchParams.append(name, value)
  return url.toString()
}
