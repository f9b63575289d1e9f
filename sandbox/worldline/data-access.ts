// Which consent a data call uses (Worldline picks it, docs/providers.md, Worldline evidence: Statuses) and whether the bank still honours it.
import type { WorldlineConsent } from './consent.ts'

export type DataAccess =
  /** The PSU's newest `Authorised` consent at the bank, and the bank still honours it. */
  | { outcome: 'granted'; consent: WorldlineConsent }
  /** The consent is expired, at Worldline or only at the bank: 401 code 123. */
  | { outcome: 'expired'; consent: WorldlineConsent }
  /** Nothing usable: never authorised, rejected, revoked, superseded, ...: 403 CONSENT_INVALID. */
  | { outcome: 'none' }

/**
 * The PSU's newest `Authorised` consent at the bank is used, unless the bank expired it behind Worldline's back.
 * With none, the newest consent that was ever authorised decides: `Expired` answers expired (code 123), anything
 * else (revoked, inactive, ...) means no usable consent. Newest is by the time it became `Authorised` [I].
 */
export function dataAccess(consents: Iterable<WorldlineConsent>, psuId: string, aspspId: string): DataAccess {
  const everAuthorised = [...consents].filter(
    (consent) => consent.psuId === psuId && consent.aspspId === aspspId && consent.authorisedAt !== null,
  )
  const authorised = newest(everAuthorised.filter((consent) => consent.status === 'Authorised'))
  if (authorised) {
    return authorised.bankExpired
      ? { outcome: 'expired', consent: authorised }
      : { outcome: 'granted', consent: authorised }
  }
  const latest = newest(everAuthorised)
  return latest?.status === 'Expired' ? { outcome: 'expired', consent: latest } : { outcome: 'none' }
}

function newest(consents: readonly WorldlineConsent[]): WorldlineConsent | undefined {
  let found: WorldlineConsent | undefined
  for (const consent of consents) {
    if (!found || (consent.authorisedAt?.getTime() ?? 0) >= (found.authorisedAt?.getTime() ?? 0)) found = consent
  }
  return found
}
