// The unified consent status model: every provider's raw status lands on exactly one of these.

export const CONSENT_STATUSES = [
  'CREATED',
  'AWAITING_AUTHORIZATION',
  'PARTIALLY_AUTHORIZED',
  'AUTHORIZED',
  'ACTIVE',
  'AWAITING_REAUTHORIZATION',
  'SUSPENDED',
  'REJECTED',
  'FAILED',
  'LINK_EXPIRED',
  'EXPIRED',
  'REVOKED',
  'SUPERSEDED',
  'UNKNOWN',
] as const
export type ConsentStatus = (typeof CONSENT_STATUSES)[number]

/** Machine-readable reasons beside a status; the raw provider status is always kept too. */
export const STATUS_REASONS = [
  'REVOKED_BY_TPP', // revoked through this API (or the provider's API) by the partner
  'REVOKED_AT_BANK', // the user or bank withdrew it; providers may still label it authorised (evidence beats the label)
  'REVOKED_AT_TPP', // Worldline RevokedAtTpp: dead at the provider, possibly still alive at the bank
  'SUPERSEDED', // a newer consent for the same user and bank replaced it
  'LINK_TIMEOUT', // the authorisation link lapsed before the user finished
  'VALIDITY_ENDED', // the data-access period ended
  'RECONFIRMATION_LAPSED', // UK: not reconfirmed within 90 days
  'USER_DENIED', // the user declined at the bank
  'PROVIDER_ERROR', // the provider or bank reported a technical failure
] as const
export type StatusReason = (typeof STATUS_REASONS)[number]

/** Waiting for the user at the bank: the authorisation link's deadline applies. */
const PENDING: ReadonlySet<ConsentStatus> = new Set(['CREATED', 'AWAITING_AUTHORIZATION', 'PARTIALLY_AUTHORIZED'])
/** Granted: the validity deadline applies. */
const GRANTED: ReadonlySet<ConsentStatus> = new Set(['AUTHORIZED', 'ACTIVE', 'AWAITING_REAUTHORIZATION', 'SUSPENDED'])
/**
 * No provider event can move these on. EXPIRED counts as terminal: only the partner re-authorising it (where the
 * provider allows) brings it back, and that starts a new chapter a subscriber subscribes to again.
 */
const TERMINAL: ReadonlySet<ConsentStatus> = new Set([
  'REJECTED',
  'FAILED',
  'LINK_EXPIRED',
  'EXPIRED',
  'REVOKED',
  'SUPERSEDED',
])

export const isPending = (status: ConsentStatus): boolean => PENDING.has(status)
export const isGranted = (status: ConsentStatus): boolean => GRANTED.has(status)
export const isTerminal = (status: ConsentStatus): boolean => TERMINAL.has(status)
