// `GET /accounts` with header `consent: <token>`: the data call adapters use as evidence that a consent still works.
// Balances and transactions are not simulated.
import type { SandboxClock } from '../shared/clock.ts'
import { single, type ApiOperation } from './api-call.ts'
import type { ConsentStore } from './consent-store.ts'
import { dataAccess } from './data-access.ts'
import { YapilyApiError, badRequest, consentTokenInvalid } from './errors.ts'
import { findInstitution, type SandboxAccount } from './institutions.ts'

/** 200 with the institution's accounts; 403 when the consent no longer grants access; 401 for an unknown token. */
export function listAccountsOperation({ store, clock }: { store: ConsentStore; clock: SandboxClock }): ApiOperation {
  return ({ application, headers }) => {
    const token = single(headers, 'consent')
    if (token === undefined) throw badRequest('the consent header (the consent token) is required')
    const consent = store.findByToken(application.id, token)
    if (!consent) throw consentTokenInvalid()
    const access = dataAccess(consent, clock.now())
    if (access.outcome === 'forbidden') {
      throw new YapilyApiError(403, `The consent does not authorise access to account information: ${access.reason}`)
    }
    const covered = consent.accountIds ?? null
    const accounts = (findInstitution(consent.institutionId)?.accounts ?? []).filter(
      (account) => covered === null || covered.includes(account.id),
    )
    return { status: 200, data: accounts.map(accountView), meta: { count: accounts.length } }
  }
}

function accountView(account: SandboxAccount): Record<string, unknown> {
  return {
    id: account.id,
    type: account.type,
    currency: account.currency,
    accountNames: [{ name: account.name }],
    accountIdentifications: account.identifications,
  }
}
