// Pure deadline rules: the status a consent must move to at a given time (link expiry, activation, validity end).
import { LINK_PENDING_STATUSES, VALIDITY_BOUND_STATUSES, type ConsentStatus, type FinqwareConsent } from './consent.ts'
import type { ValidityEndStatus } from './options.ts'

export type DeadlineView = Pick<FinqwareConsent, 'status' | 'expiresAt' | 'authorizedUntil' | 'activationDueAt'>

/**
 * The status the consent is due to take at `now`, or null when no deadline has passed. Apply it and ask again: a
 * long clock jump can take a consent through several steps (authorized -> active -> revoked).
 */
export function dueStatus(
  consent: DeadlineView,
  now: Date,
  validityEndStatus: ValidityEndStatus,
): ConsentStatus | null {
  const time = now.getTime()
  // expires_at bounds the link only; it never touches a consent that is already authorized (Finqware's Consents page).
  if (LINK_PENDING_STATUSES.has(consent.status) && time >= consent.expiresAt.getTime()) return 'expired'
  if (consent.status === 'authorized' && consent.activationDueAt && time >= consent.activationDueAt.getTime()) {
    return 'active'
  }
  if (
    VALIDITY_BOUND_STATUSES.has(consent.status) &&
    consent.authorizedUntil &&
    time >= consent.authorizedUntil.getTime()
  ) {
    return validityEndStatus
  }
  return null
}
