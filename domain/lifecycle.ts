// The clocks of a consent as data: which deadlines it has (link expiry, warnings, end of validity, UK reconfirmation),
// which one comes next, and what reaching them does. Pure: the sweep (service/lifecycle.ts) reads the due consents,
// applies `sweepStep`, and writes the result like any other change.
import {
  DAY_MS,
  type Consent,
  type ConsentDeadline,
  type ConsentEventKind,
  type DeadlineKind,
  type Timestamp,
} from './consent.ts'
import { isGranted, isPending, isTerminal } from './status.ts'

export interface DeadlinePolicy {
  /** Days before `validUntil` and `reconfirmBy` at which the partner is warned; default 7 and 1. */
  readonly warningOffsetsDays: readonly number[]
}

export const DEFAULT_DEADLINE_POLICY: DeadlinePolicy = { warningOffsetsDays: [7, 1] }

/** When two deadlines fall at the same moment, the one that ends something is handled first. */
const PRECEDENCE: Record<DeadlineKind, number> = {
  LINK_EXPIRY: 0,
  VALIDITY_END: 1,
  RECONFIRMATION_DUE: 2,
  EXPIRY_WARNING: 3,
  RECONFIRMATION_WARNING: 4,
}

type Scheduled = Pick<Consent, 'status' | 'region' | 'linkExpiresAt' | 'validUntil' | 'reconfirmBy'>

const before = (target: Timestamp, days: number): Timestamp =>
  new Date(Date.parse(target) - days * DAY_MS).toISOString()

/** Every deadline the consent has in its current status, earliest first. */
export function deadlinesOf(consent: Scheduled, policy: DeadlinePolicy): ConsentDeadline[] {
  const deadlines: ConsentDeadline[] = []
  if (isPending(consent.status) && consent.linkExpiresAt) {
    deadlines.push({ kind: 'LINK_EXPIRY', at: consent.linkExpiresAt, target: consent.linkExpiresAt })
  }
  if (isGranted(consent.status) && consent.validUntil) {
    const target = consent.validUntil
    for (const days of policy.warningOffsetsDays)
      deadlines.push({ kind: 'EXPIRY_WARNING', at: before(target, days), target })
    deadlines.push({ kind: 'VALIDITY_END', at: target, target })
  }
  if (consent.status === 'ACTIVE' && consent.region === 'UK' && consent.reconfirmBy) {
    const target = consent.reconfirmBy
    for (const days of policy.warningOffsetsDays) {
      deadlines.push({ kind: 'RECONFIRMATION_WARNING', at: before(target, days), target })
    }
    deadlines.push({ kind: 'RECONFIRMATION_DUE', at: target, target })
  }
  return deadlines.sort((a, b) => a.at.localeCompare(b.at) || PRECEDENCE[a.kind] - PRECEDENCE[b.kind])
}

/** The moment up to which the consent's deadlines are handled. */
const handledUntil = (consent: Pick<Consent, 'sweptUntil' | 'createdAt'>): Timestamp =>
  consent.sweptUntil ?? consent.createdAt

/**
 * The first deadline not handled yet, or null. A deadline that fell before the consent could have it (a 7-day
 * warning for a consent granted for 5 days) is before `sweptUntil`/creation and is never due.
 */
export function nextDeadline(
  consent: Scheduled & Pick<Consent, 'sweptUntil' | 'createdAt'>,
  policy: DeadlinePolicy,
): ConsentDeadline | null {
  const from = handledUntil(consent)
  return deadlinesOf(consent, policy).find((deadline) => deadline.at > from) ?? null
}

export interface SweepOutcome {
  /** The consent with its new status (if a deadline ended it) and `sweptUntil` moved to now. */
  readonly consent: Consent
  readonly kind: ConsentEventKind
  /** What the event is about: the deadline's target. */
  readonly deadline: Timestamp
}

/**
 * What reaching its due deadlines does to the consent at `now`, as one change, or null when nothing is due (so a
 * second run, or a concurrent one re-applying after losing the write, does nothing more). An expiry wins over
 * everything else due; of several warnings due at once (the sweep was late) only the latest is worth sending.
 */
export function sweepStep(consent: Consent, now: Date, policy: DeadlinePolicy): SweepOutcome | null {
  if (isTerminal(consent.status)) return null
  const from = handledUntil(consent)
  const until = now.toISOString()
  const due = deadlinesOf(consent, policy).filter((deadline) => deadline.at > from && deadline.at <= until)
  if (due.length === 0) return null
  const swept = { ...consent, sweptUntil: until }
  const find = (kind: DeadlineKind) => due.find((deadline) => deadline.kind === kind)
  const linkExpiry = find('LINK_EXPIRY')
  if (linkExpiry) {
    return {
      consent: { ...swept, status: 'LINK_EXPIRED', statusReason: 'LINK_TIMEOUT', authorizationUrl: null },
      kind: 'CHANGE',
      deadline: linkExpiry.target,
    }
  }
  const validityEnd = find('VALIDITY_END')
  if (validityEnd) {
    return {
      consent: { ...swept, status: 'EXPIRED', statusReason: 'VALIDITY_ENDED' },
      kind: 'CHANGE',
      deadline: validityEnd.target,
    }
  }
  const reconfirmation = find('RECONFIRMATION_DUE')
  if (reconfirmation) return { consent: swept, kind: 'RECONFIRMATION_LAPSED', deadline: reconfirmation.target }
  const warning = due.filter((deadline) => deadline.kind.endsWith('_WARNING')).at(-1)
  if (!warning) return null
  return {
    consent: swept,
    kind: warning.kind === 'EXPIRY_WARNING' ? 'EXPIRY_WARNING' : 'RECONFIRMATION_WARNING',
    deadline: warning.target,
  }
}

/** How often the reconciler re-checks a consent at its provider, and how many calls one run may spend there. */
export interface RecheckPolicy {
  /** Waiting for the user (pending statuses). */
  readonly pendingEveryMs: number
  /** Granted (ACTIVE and the like): banks revoke silently, providers may not say. */
  readonly grantedEveryMs: number
  /** Provider calls per run, at most. */
  readonly budgetPerRun: number
}

/** When to re-check next, counted from `now` (the last time we learned the consent's state); null when terminal. */
export function nextCheckAt(consent: Pick<Consent, 'status'>, now: Date, policy: RecheckPolicy): Timestamp | null {
  if (isTerminal(consent.status)) return null
  const every = isPending(consent.status) ? policy.pendingEveryMs : policy.grantedEveryMs
  return new Date(now.getTime() + every).toISOString()
}
