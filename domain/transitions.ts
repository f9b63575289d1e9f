// Which unified status may follow which: the guard that keeps stale or out-of-order provider news from regressing a
// consent (an `awaiting_authz` webhook arriving after `active` changes nothing).
import { CONSENT_STATUSES, type ConsentStatus } from './status.ts'

const PENDING_EXITS: ConsentStatus[] = ['REJECTED', 'FAILED', 'LINK_EXPIRED', 'REVOKED', 'UNKNOWN']
const GRANTED_EXITS: ConsentStatus[] = ['EXPIRED', 'REVOKED', 'SUPERSEDED', 'UNKNOWN']

/** Allowed transitions, as data. A status absent from a list cannot follow the key status. */
export const ALLOWED_TRANSITIONS: Readonly<Record<ConsentStatus, readonly ConsentStatus[]>> = {
  CREATED: ['AWAITING_AUTHORIZATION', 'PARTIALLY_AUTHORIZED', 'AUTHORIZED', 'ACTIVE', ...PENDING_EXITS],
  AWAITING_AUTHORIZATION: ['PARTIALLY_AUTHORIZED', 'AUTHORIZED', 'ACTIVE', ...PENDING_EXITS],
  PARTIALLY_AUTHORIZED: ['AUTHORIZED', 'ACTIVE', ...PENDING_EXITS],
  AUTHORIZED: ['ACTIVE', 'SUSPENDED', 'FAILED', ...GRANTED_EXITS],
  ACTIVE: ['SUSPENDED', 'AWAITING_REAUTHORIZATION', ...GRANTED_EXITS],
  // Yapily: re-authorisation either completes (ACTIVE) or leaves the consent where it was.
  AWAITING_REAUTHORIZATION: ['ACTIVE', 'FAILED', 'REJECTED', ...GRANTED_EXITS],
  SUSPENDED: ['ACTIVE', ...GRANTED_EXITS],
  // Only a re-authorisation the partner starts brings an expired consent back.
  EXPIRED: ['AWAITING_REAUTHORIZATION', 'ACTIVE'],
  // We lost track of it; whatever the provider says next is the truth (short of starting over).
  UNKNOWN: CONSENT_STATUSES.filter((status) => status !== 'CREATED' && status !== 'UNKNOWN'),
  REJECTED: [],
  FAILED: [],
  LINK_EXPIRED: [],
  REVOKED: [],
  SUPERSEDED: [],
}

export const canTransition = (from: ConsentStatus, to: ConsentStatus): boolean =>
  from === to || ALLOWED_TRANSITIONS[from].includes(to)
