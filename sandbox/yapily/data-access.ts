// Whether a data call with a consent token is served: Yapily's status is not the whole story, since a user can
// revoke at the bank while the status still says AUTHORIZED (yapily.md 3.3, 3.8.1).
import { isDeleted, type YapilyConsent } from './consent.ts'
import { hasPassed } from './lifetimes.ts'

export type DataAccess =
  | { outcome: 'granted' }
  /** 403 FORBIDDEN, with why. */
  | { outcome: 'forbidden'; reason: string }

/**
 * Granted while `AUTHORIZED`, and while awaiting a re-authorisation started from `AUTHORIZED` (the old grant still
 * holds until it expires [I]), unless revoked at the bank, deleted, or past `expiresAt`. Everything else is 403.
 */
export function dataAccess(
  consent: Pick<
    YapilyConsent,
    'status' | 'statusBeforeReauthorisation' | 'revokedAtBank' | 'isDeletedByInstitution' | 'expiresAt'
  >,
  now: Date,
): DataAccess {
  if (consent.revokedAtBank) return { outcome: 'forbidden', reason: 'the consent was revoked at the institution' }
  if (isDeleted(consent)) return { outcome: 'forbidden', reason: 'the consent was deleted' }
  const live =
    consent.status === 'AUTHORIZED' ||
    (consent.status === 'AWAITING_RE_AUTHORIZATION' && consent.statusBeforeReauthorisation === 'AUTHORIZED')
  if (!live) return { outcome: 'forbidden', reason: `the consent is ${consent.status}` }
  if (hasPassed(consent.expiresAt, now)) return { outcome: 'forbidden', reason: 'the consent has expired' }
  return { outcome: 'granted' }
}
