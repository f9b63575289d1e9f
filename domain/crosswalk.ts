// Each provider's raw consent statuses mapped onto the unified model: pure data, tested exhaustively.
import { hasPassed, type Timestamp } from './consent.ts'
import type { Provider } from './provider.ts'
import type { ConsentStatus, StatusReason } from './status.ts'

export interface MappedStatus {
  readonly status: ConsentStatus
  readonly reason: StatusReason | null
}

const to = (status: ConsentStatus, reason: StatusReason | null = null): MappedStatus => ({ status, reason })

/**
 * Raw status -> unified status, per provider: the table in docs/providers.md, which gives each provider's evidence.
 * Anything not listed maps to UNKNOWN: providers' enums drift (Finqware `requested`/`deactivated`, Yapily's
 * retired `AWAITING_DECOUPLING`), and a new label must never break a read.
 */
export const STATUS_CROSSWALK: Readonly<Record<Provider, Readonly<Record<string, MappedStatus>>>> = {
  FINQWARE: {
    created: to('CREATED'),
    started: to('AWAITING_AUTHORIZATION'),
    requested: to('AWAITING_AUTHORIZATION'), // changelog only
    sca_url_retrieved: to('AWAITING_AUTHORIZATION'),
    awaiting_authz: to('AWAITING_AUTHORIZATION'),
    authorized: to('AUTHORIZED'), // granted, first data job still running
    active: to('ACTIVE'),
    // Outside the Get Consent enum, named in its text ("if consent is completed" where the field list says "after
    // consent is active"): taken as active (docs/providers.md, Finqware section).
    completed: to('ACTIVE'),
    suspended: to('SUSPENDED'),
    failed: to('FAILED'),
    expired: to('LINK_EXPIRED', 'LINK_TIMEOUT'), // the link lapsed, not the access (Finqware's Consents page)
    deactivated: to('EXPIRED', 'VALIDITY_ENDED'), // authorized_until reached; one crawl only
    revoked: to('REVOKED', 'REVOKED_BY_TPP'), // EXPIRED once authorized_until has passed (STATUS_OVERRIDES)
  },
  WORLDLINE: {
    Open: to('CREATED'),
    Pending: to('AWAITING_AUTHORIZATION'),
    PartiallyAuthorised: to('PARTIALLY_AUTHORIZED'),
    Authorised: to('ACTIVE'),
    Rejected: to('REJECTED', 'USER_DENIED'),
    Error: to('FAILED', 'PROVIDER_ERROR'),
    Expired: to('EXPIRED', 'VALIDITY_ENDED'),
    Revoked: to('REVOKED', 'REVOKED_AT_BANK'), // by the holder or their bank; the adapter reads it as ours after DELETE
    RevokedAtTpp: to('REVOKED', 'REVOKED_AT_TPP'),
    Inactive: to('SUPERSEDED', 'SUPERSEDED'),
    TimeoutAtTpp: to('LINK_EXPIRED', 'LINK_TIMEOUT'), // final: the authorisation did not complete in time
  },
  YAPILY: {
    AWAITING_AUTHORIZATION: to('AWAITING_AUTHORIZATION'),
    AWAITING_SCA_METHOD: to('AWAITING_AUTHORIZATION'),
    AWAITING_SCA_CODE: to('AWAITING_AUTHORIZATION'),
    AWAITING_DECOUPLED_AUTHORIZATION: to('AWAITING_AUTHORIZATION'),
    AWAITING_PRE_AUTHORIZATION: to('AWAITING_AUTHORIZATION'),
    AWAITING_DECOUPLED_PRE_AUTHORIZATION: to('AWAITING_AUTHORIZATION'),
    PRE_AUTHORIZED: to('AWAITING_AUTHORIZATION'),
    AWAITING_FURTHER_AUTHORIZATION: to('PARTIALLY_AUTHORIZED'),
    AUTHORIZED: to('ACTIVE'),
    AWAITING_RE_AUTHORIZATION: to('AWAITING_REAUTHORIZATION'),
    REJECTED: to('REJECTED', 'USER_DENIED'),
    FAILED: to('FAILED', 'PROVIDER_ERROR'),
    INVALID: to('FAILED', 'PROVIDER_ERROR'),
    EXPIRED: to('EXPIRED', 'VALIDITY_ENDED'),
    REVOKED: to('REVOKED', 'REVOKED_AT_BANK'), // "User revoked consent directly at their bank"
    UNKNOWN: to('UNKNOWN'),
    CONSUMED: to('UNKNOWN'), // single-use tokens; not an AIS state we can act on
  },
}

const UNKNOWN = to('UNKNOWN')

/** What a provider's consent says besides its label, read at the provider's clock (its `Date` header). */
export interface ObservedDates {
  /** The end of data access the provider reports (Finqware `authorized_until`). */
  readonly validUntil: Timestamp | null
  readonly providerNow: Date
}

/**
 * Where a provider's label alone does not decide the status. Finqware labels the end of data access `revoked` too
 * (docs/providers.md): only `authorized_until` having passed tells expiry from revocation.
 */
const STATUS_OVERRIDES: Partial<Record<Provider, (mapped: MappedStatus, dates: ObservedDates) => MappedStatus>> = {
  FINQWARE: (mapped, dates) =>
    mapped.status === 'REVOKED' && hasPassed(dates.validUntil, dates.providerNow)
      ? to('EXPIRED', 'VALIDITY_ENDED')
      : mapped,
}

/**
 * Maps a provider's raw status tolerantly: exact match first, then ignoring case and surrounding space; anything
 * else (including null) is UNKNOWN.
 *
 * @example
 * mapProviderStatus('FINQWARE', 'sca_url_retrieved') // { status: 'AWAITING_AUTHORIZATION', reason: null }
 * mapProviderStatus('YAPILY', 'AWAITING_DECOUPLING') // { status: 'UNKNOWN', reason: null }
 */
export function mapProviderStatus(
  provider: Provider,
  raw: string | null | undefined,
  dates?: ObservedDates,
): MappedStatus {
  const mapped = mapLabel(provider, raw)
  const override = STATUS_OVERRIDES[provider]
  return override && dates ? override(mapped, dates) : mapped
}

function mapLabel(provider: Provider, raw: string | null | undefined): MappedStatus {
  if (raw == null) return UNKNOWN
  const table = STATUS_CROSSWALK[provider]
  const exact = table[raw]
  if (exact) return exact
  const wanted = raw.trim().toLowerCase()
  for (const [label, mapped] of Object.entries(table)) {
    if (label.toLowerCase() === wanted) return mapped
  }
  return UNKNOWN
}
