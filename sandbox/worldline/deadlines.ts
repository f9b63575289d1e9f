// Pure time rules: when a consent's validity ends, whether it is due to expire, whether Worldline still polls it.
import { VALIDITY_BOUND, type WorldlineConsent } from './consent.ts'

/** The end of `ValidUntilDate` (`YYYY-MM-DD`): the next midnight, UTC. */
export function validityEnd(validUntilDate: string): Date {
  const day = Date.parse(`${validUntilDate}T00:00:00Z`)
  return new Date(day + 24 * 3600 * 1000)
}

/** True when an authorised (or partially authorised) consent has reached the end of its `ValidUntilDate`. */
export function isDueToExpire(consent: Pick<WorldlineConsent, 'status' | 'validUntilDate'>, now: Date): boolean {
  return VALIDITY_BOUND.has(consent.status) && now.getTime() >= validityEnd(consent.validUntilDate).getTime()
}

/**
 * Worldline polls the bank, and notifies, only for a while after initiation (docs/providers.md, Worldline evidence: Notifications): true while less
 * than `windowMs` has passed since `createdAt`.
 */
export function insideNotificationWindow(createdAt: Date, now: Date, windowMs: number): boolean {
  return now.getTime() - createdAt.getTime() < windowMs
}
