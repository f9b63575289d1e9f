// `GET /psus/{psuId}/aspsps/{aspspId}/accounts`: the data call adapters use as evidence that the consent works.
import type { AisOperation } from './api-call.ts'
import { findAspsp } from './aspsps.ts'
import type { ConsentStore } from './consent-store.ts'
import { dataAccess } from './data-access.ts'
import { aspspUnknown, consentExpired, consentNotValid } from './errors.ts'

export function listAccountsOperation({ store }: { store: ConsentStore }): AisOperation {
  return ({ params }) => {
    const aspspId = params.aspspId ?? ''
    if (!findAspsp(aspspId)) throw aspspUnknown(aspspId)
    const access = dataAccess(store.all(), params.psuId ?? '', aspspId)
    if (access.outcome === 'expired') throw consentExpired()
    if (access.outcome === 'none') {
      throw consentNotValid(aspspId)
    }
    // One page holds every account; `page` and `totalPages` are accepted and ignored.
    return { status: 200, body: { Accounts: access.consent.accounts ?? [] } }
  }
}
