// Folding what a provider says about a consent into the stored consent: the transition guard, deadline updates and
// the UK reconfirmation clock. Pure: the caller supplies the time.
import { addDays, hasPassed, type Consent, type Timestamp } from './consent.ts'
import { CONSENT_POLICY } from './policy.ts'
import { isPending, type ConsentStatus, type StatusReason } from './status.ts'
import { canTransition } from './transitions.ts'

/** What a provider reported, already mapped to the unified model. `undefined` fields mean "not reported". */
export interface ProviderObservation {
  readonly providerStatus: string
  readonly status: ConsentStatus
  readonly reason: StatusReason | null
  readonly authorizationUrl?: string | null
  readonly linkExpiresAt?: Timestamp | null
  readonly validUntil?: Timestamp | null
  readonly lastConfirmedAt?: Timestamp | null
  readonly reconfirmBy?: Timestamp | null
}

export type ObservationOutcome =
  | { readonly kind: 'unchanged' }
  /** The provider's status may not follow ours (old news, or a terminal consent): nothing changes. */
  | { readonly kind: 'stale'; readonly from: ConsentStatus; readonly to: ConsentStatus }
  | { readonly kind: 'changed'; readonly consent: Consent; readonly from: ConsentStatus; readonly to: ConsentStatus }

const CHANGE_FIELDS = [
  'providerStatus',
  'status',
  'statusReason',
  'authorizationUrl',
  'linkExpiresAt',
  'validUntil',
  'lastConfirmedAt',
  'reconfirmBy',
] as const satisfies readonly (keyof Consent)[]

const SCA_DONE: ReadonlySet<ConsentStatus> = new Set(['AUTHORIZED', 'ACTIVE'])

function userJustAuthorised(from: ConsentStatus, to: ConsentStatus, consent: Consent): boolean {
  if (!SCA_DONE.has(to) || from === to) return false
  return (
    consent.lastConfirmedAt === null || isPending(from) || from === 'AWAITING_REAUTHORIZATION' || from === 'EXPIRED'
  )
}

const pick = <T>(reported: T | undefined, current: T): T => (reported === undefined ? current : reported)

/**
 * Decides how a provider observation changes a consent. The returned consent keeps the old `version`; the store
 * bumps it when it writes.
 */
export function applyObservation(consent: Consent, observation: ProviderObservation, now: Date): ObservationOutcome {
  const from = consent.status
  const to = observation.status
  if (!canTransition(from, to)) return { kind: 'stale', from, to }
  // Expired by its own clock (the sweep, at validUntil): a provider still saying "active" (late news, or a clock behind
  // ours) does not revive it. A re-authorisation does, and brings a validity that has not ended.
  if (from === 'EXPIRED' && SCA_DONE.has(to) && hasPassed(pick(observation.validUntil, consent.validUntil), now)) {
    return { kind: 'stale', from, to }
  }

  const statusChanged = from !== to
  const stillAwaitingUser = isPending(to) || to === 'AWAITING_REAUTHORIZATION'
  let lastConfirmedAt = pick(observation.lastConfirmedAt, consent.lastConfirmedAt)
  let reconfirmBy = pick(observation.reconfirmBy, consent.reconfirmBy)
  // UK: a completed SCA starts the 90-day reconfirmation clock, unless the provider keeps that clock itself.
  if (consent.region === 'UK' && observation.lastConfirmedAt === undefined && userJustAuthorised(from, to, consent)) {
    lastConfirmedAt = now.toISOString()
    reconfirmBy = addDays(now, CONSENT_POLICY.reconfirmationIntervalDays)
  }

  const next: Consent = {
    ...consent,
    providerStatus: observation.providerStatus,
    status: to,
    // A reason belongs to the status it came with; keep the old one only when the status stays.
    statusReason: statusChanged ? observation.reason : (observation.reason ?? consent.statusReason),
    // Nothing left for the user to do: no link to show.
    authorizationUrl: stillAwaitingUser ? pick(observation.authorizationUrl, consent.authorizationUrl) : null,
    linkExpiresAt: pick(observation.linkExpiresAt, consent.linkExpiresAt),
    validUntil: pick(observation.validUntil, consent.validUntil),
    lastConfirmedAt,
    reconfirmBy,
  }
  if (CHANGE_FIELDS.every((field) => next[field] === consent[field])) return { kind: 'unchanged' }
  return { kind: 'changed', consent: { ...next, updatedAt: now.toISOString() }, from, to }
}
