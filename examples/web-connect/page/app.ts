// The "connect your bank" page: picks a provider and bank, creates a consent with the end user's token, sends the user
// to the bank, and, back here (the gateway appends consent_id and status to our redirect URL), shows the consent's
// status as it arrives live, until the user revokes it. Everything is written with textContent: what the gateway or
// the URL says is never HTML.
import type { ResultOf } from '../graphql.ts'
import { ConnectConsentUpdated, ConnectCreateConsent, ConnectProviders, ConnectRevokeConsent } from './documents.ts'
import { GatewayClient, GatewayError } from './gateway.ts'

type Providers = ResultOf<typeof ConnectProviders>['providers']
type Consent = ResultOf<typeof ConnectConsentUpdated>['consentUpdated']

/** Statuses after which nothing changes; the gateway completes the subscription there. */
const TERMINAL = new Set(['REVOKED', 'EXPIRED', 'FAILED', 'REJECTED', 'SUPERSEDED', 'LINK_EXPIRED'])
/** Statuses a revocation makes sense from. */
const REVOCABLE = new Set(['AUTHORIZED', 'ACTIVE', 'PARTIALLY_AUTHORIZED', 'SUSPENDED', 'AWAITING_REAUTHORIZATION'])

const gateway = new GatewayClient('/session/token')

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id)
  if (!found) throw new Error(`#${id} is missing from the page`)
  return found as T
}

function showError(error: unknown): void {
  const box = element('error')
  box.textContent =
    error instanceof GatewayError && error.code ? `${error.message} (${error.code})` : String((error as Error).message)
  box.hidden = false
}

function option(value: string, label: string): HTMLOptionElement {
  const item = document.createElement('option')
  item.value = value
  item.textContent = label
  return item
}

async function showPicker(): Promise<void> {
  const { providers } = await gateway.execute(ConnectProviders, {})
  const providerSelect = element<HTMLSelectElement>('provider')
  const bankSelect = element<HTMLSelectElement>('bank')
  providerSelect.replaceChildren(...providers.map((p) => option(p.provider, p.name)))
  const fillBanks = () => {
    const chosen = providers.find((p) => p.provider === providerSelect.value)
    bankSelect.replaceChildren(
      ...(chosen?.institutions ?? []).map((bank) => option(bank.id, `${bank.name} (${bank.country})`)),
    )
  }
  providerSelect.addEventListener('change', fillBanks)
  fillBanks()
  element<HTMLFormElement>('connect-form').addEventListener('submit', (event) => {
    event.preventDefault()
    connect(providers, providerSelect.value, bankSelect.value).catch(showError)
  })
  element('pick').hidden = false
}

async function connect(providers: Providers, provider: string, institutionId: string): Promise<void> {
  const chosen = providers.find((p) => p.provider === provider)
  const bank = chosen?.institutions.find((i) => i.id === institutionId)
  const region = bank?.region ?? chosen?.capabilities.regions[0]
  if (!chosen || !bank || !region) throw new Error('Choose a provider and a bank')
  element<HTMLButtonElement>('connect').disabled = true
  try {
    const { createConsent } = await gateway.execute(ConnectCreateConsent, {
      input: {
        provider: chosen.provider,
        institutionId: bank.id,
        region,
        // Back to this page; the gateway adds consent_id and status.
        redirectUrl: new URL('/', location.href).href,
        idempotencyKey: crypto.randomUUID(),
      },
    })
    if (createConsent.__typename !== 'CreateConsentPayload') {
      throw new GatewayError('message' in createConsent ? createConsent.message : 'Not created', null)
    }
    const next = createConsent.consent.authorizationUrl
    if (!next) throw new Error(`The consent is ${createConsent.consent.status}: there is no bank page to go to`)
    location.assign(next)
  } finally {
    element<HTMLButtonElement>('connect').disabled = false
  }
}

/** Back from the bank: what the redirect said, then the consent as it changes, live. */
function showConsent(consentId: string, redirectStatus: string | null, redirectReason: string | null): void {
  element('consent').hidden = false
  const revoke = element<HTMLButtonElement>('revoke')
  let shown: string | null = null
  let lastLive: string | null = null

  const note = (text: string, source: 'redirect' | 'live' | 'answer', status: string) => {
    const item = document.createElement('li')
    item.dataset.source = source
    item.dataset.status = status
    item.textContent = text
    element('timeline').append(item)
  }
  const render = (consent: Consent) => {
    element('consent-bank').textContent = `${consent.institution.name} via ${consent.provider}`
    element('access').textContent = consent.canAccessData ? 'yes' : 'no'
    const status = element('status')
    status.textContent = consent.status
    status.dataset.status = consent.status
    shown = consent.status
    revoke.disabled = !REVOCABLE.has(consent.status)
  }
  if (redirectStatus) {
    note(
      `${redirectStatus}${redirectReason ? ` (${redirectReason})` : ''}: back from the bank`,
      'redirect',
      redirectStatus,
    )
  }

  const live = element('live')
  const watch = async () => {
    const stream = new AbortController()
    live.textContent = 'Listening for changes…'
    try {
      await gateway.subscribe(
        ConnectConsentUpdated,
        { id: consentId },
        ({ consentUpdated }) => {
          render(consentUpdated)
          if (consentUpdated.status !== lastLive) {
            lastLive = consentUpdated.status
            const reason = consentUpdated.statusReason ? ` (${consentUpdated.statusReason})` : ''
            note(`${consentUpdated.status}${reason}`, 'live', consentUpdated.status)
          }
        },
        stream.signal,
      )
      if (shown && TERMINAL.has(shown)) {
        live.textContent = 'This connection has ended: no more changes.'
        return
      }
      // The subscription's deadline came first: listen again.
      await watch()
    } catch (error) {
      live.textContent = 'Not listening.'
      showError(error)
    }
  }
  void watch()

  revoke.addEventListener('click', () => {
    revoke.disabled = true
    gateway
      .execute(ConnectRevokeConsent, { id: consentId })
      .then(({ revokeConsent }) => {
        if (revokeConsent.__typename !== 'RevokeConsentPayload') {
          throw new GatewayError('message' in revokeConsent ? revokeConsent.message : 'Not revoked', null)
        }
        render(revokeConsent.consent)
        note(`${revokeConsent.consent.status}: you revoked access`, 'answer', revokeConsent.consent.status)
      })
      .catch((error: unknown) => {
        revoke.disabled = shown !== null && !REVOCABLE.has(shown)
        showError(error)
      })
  })
}

async function main(): Promise<void> {
  const session = await gateway.session()
  element('user-id').textContent = session.userId
  const params = new URLSearchParams(location.search)
  const consentId = params.get('consent_id')
  if (consentId) showConsent(consentId, params.get('status'), params.get('status_reason'))
  else await showPicker()
}

main().catch(showError)
