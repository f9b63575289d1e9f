// Whether a data call with a consent token is served: Yapily's status is not the whole story, since a user can
// revoke at the bank while the status still says AUTHORIZED, and a UK consent not reconfirmed by `reconfirmBy` is
// blocked until it is (docs/providers.md, Yapily).
import { isDeleted, type YapilyConsent } from './consent.ts'
import { hasPassed } from './lifetimes.ts'

export type DataAccess =
  | { outcome: 'granted' }
  /** 403 FORBIDDEN, with why. */
  | { outcome: 'forbidden'; reason: string }

/**
 * Granted while `AUTHORIZED`, and while awaiting a re-authorisation started from `AUTHORIZED` (the old grant still
 * holds until it expires (our guess)), unless revoked at the bank, deleted, past `expiresAt`, or past `reconfirmBy`
 * (Yapily "will prevent further access to the user's data" until the reconfirmation is recorded with extend; the
 * sandbox plays a Yapily Connect application, which Yapily blocks). Everything else is 403.
 */
export function dataAccess(
  consent: Pick<
    YapilyConsent,
    'status' | 'statusBeforeReauthorisation' | 'revokedAtBank' | 'isDeletedByInstitution' | 'expiresAt' | 'reconfirmBy'
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
  if (hasPassed(consent.reconfirmBy, now)) {
    return { outcome: 'forbidden', reason: 'the consent was not reconfirmed by its reconfirmBy date' }
  }
  return { outcome: 'granted' }
}
