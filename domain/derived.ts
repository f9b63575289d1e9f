// What a consent means right now: effective status, whether data can be read, and what the partner should do next.
// Computed from the stored consent and a given time, so a read is true even before any job has run.
import { hasPassed, type Consent } from './consent.ts'
import { isGranted, isPending, isTerminal, type ConsentStatus, type StatusReason } from './status.ts'

export const NEXT_ACTIONS = ['NONE', 'REDIRECT_USER', 'WAIT', 'RECONFIRM', 'REAUTHORIZE', 'CREATE_NEW'] as const
export type NextAction = (typeof NEXT_ACTIONS)[number]

export interface EffectiveStatus {
  readonly status: ConsentStatus
  readonly reason: StatusReason | null
}

type Clocked = Pick<Consent, 'status' | 'statusReason' | 'linkExpiresAt' | 'validUntil'>

/**
 * The status a client sees: never ACTIVE (or any granted status) past `validUntil`, never pending past `linkExpiresAt`.
 *
 * @example
 * effectiveStatus({ status: 'ACTIVE', validUntil: '2026-01-01T00:00:00.000Z', ... }, new Date('2026-02-01'))
 * // { status: 'EXPIRED', reason: 'VALIDITY_ENDED' }
 */
export function effectiveStatus(consent: Clocked, now: Date): EffectiveStatus {
  if (isPending(consent.status) && hasPassed(consent.linkExpiresAt, now)) {
    return { status: 'LINK_EXPIRED', reason: 'LINK_TIMEOUT' }
  }
  if (isGranted(consent.status) && hasPassed(consent.validUntil, now)) {
    return { status: 'EXPIRED', reason: 'VALIDITY_ENDED' }
  }
  return { status: consent.status, reason: consent.statusReason }
}

type Reconfirmable = Clocked & Pick<Consent, 'region' | 'reconfirmBy'>

/** UK only: the 90-day reconfirmation is overdue. */
export const reconfirmationLapsed = (consent: Reconfirmable, now: Date): boolean =>
  consent.region === 'UK' && hasPassed(consent.reconfirmBy, now)

/** Data can be read now: effectively ACTIVE and, in the UK, reconfirmed in time. */
export function canAccessData(consent: Reconfirmable, now: Date): boolean {
  return effectiveStatus(consent, now).status === 'ACTIVE' && !reconfirmationLapsed(consent, now)
}

export interface NextActionContext {
  /** The provider can re-authorise an expired consent in place (Yapily); otherwise a new consent is needed. */
  readonly canReauthorize: boolean
}

/** What the partner should do next, given the effective status. */
export function nextAction(
  consent: Reconfirmable & Pick<Consent, 'authorizationUrl'>,
  now: Date,
  context: NextActionContext,
): NextAction {
  const { status } = effectiveStatus(consent, now)
  switch (status) {
    case 'CREATED':
    case 'AWAITING_AUTHORIZATION':
    case 'PARTIALLY_AUTHORIZED':
    case 'AWAITING_REAUTHORIZATION':
      return consent.authorizationUrl ? 'REDIRECT_USER' : 'WAIT'
    case 'AUTHORIZED':
    case 'SUSPENDED':
    case 'UNKNOWN':
      return 'WAIT'
    case 'ACTIVE':
      return reconfirmationLapsed(consent, now) ? 'RECONFIRM' : 'NONE'
    case 'EXPIRED':
      return context.canReauthorize ? 'REAUTHORIZE' : 'CREATE_NEW'
    case 'REJECTED':
    case 'FAILED':
    case 'LINK_EXPIRED':
    case 'REVOKED':
    case 'SUPERSEDED':
      return 'CREATE_NEW'
  }
}

export interface DerivedState {
  readonly status: ConsentStatus
  readonly statusReason: StatusReason | null
  readonly canAccessData: boolean
  readonly nextAction: NextAction
  readonly isTerminal: boolean
}

export function deriveState(consent: Consent, now: Date, context: NextActionContext): DerivedState {
  const effective = effectiveStatus(consent, now)
  return {
    status: effective.status,
    statusReason: effective.reason,
    canAccessData: canAccessData(consent, now),
    nextAction: nextAction(consent, now, context),
    isTerminal: isTerminal(effective.status),
  }
}

/**
 * The stored statuses a consent may have while it shows as `status`: what a store filter must read before applying
 * {@link effectiveStatus} (a stored ACTIVE consent past `validUntil` shows as EXPIRED). Listing goes through
 * {@link showingAs}.
 */
export function storedStatusesShownAs(status: ConsentStatus): ConsentStatus[] {
  switch (status) {
    case 'LINK_EXPIRED':
      return ['LINK_EXPIRED', 'CREATED', 'AWAITING_AUTHORIZATION', 'PARTIALLY_AUTHORIZED']
    case 'EXPIRED':
      return ['EXPIRED', 'AUTHORIZED', 'ACTIVE', 'AWAITING_REAUTHORIZATION', 'SUSPENDED']
    default:
      return [status]
  }
}

/**
 * How to list the consents that show as any of `statuses` at `now`: the stored statuses the store reads (a condition
 * on stored attributes) and the check each consent read must pass ({@link effectiveStatus}, the rule every reader
 * uses), so a list filter and a consent's own `status` never disagree.
 *
 * @example
 * showingAs(['EXPIRED'], now) // { storedStatus: ['EXPIRED', 'AUTHORIZED', 'ACTIVE', ...], keep: (c) => ... }
 */
export function showingAs(
  statuses: readonly ConsentStatus[],
  now: Date,
): { readonly storedStatus: ConsentStatus[]; readonly keep: (consent: Clocked) => boolean } {
  const wanted = new Set(statuses)
  return {
    storedStatus: [...new Set(statuses.flatMap(storedStatusesShownAs))],
    keep: (consent) => wanted.has(effectiveStatus(consent, now).status),
  }
}
