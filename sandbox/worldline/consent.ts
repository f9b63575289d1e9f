// The Worldline AIS v3 consent as the sandbox keeps it, and the status groups the flow rules are written in.

/** Every status of the status table (docs/providers.md, Worldline evidence: Statuses). The force control also accepts others (tolerant parsing). */
export const KNOWN_STATUSES = [
  'Open',
  'Pending',
  'Rejected',
  'PartiallyAuthorised',
  'Authorised',
  'Expired',
  'Revoked',
  'RevokedAtTpp',
  'Error',
  'Inactive',
  /** Final: the authorisation did not complete in time (in the Open Banking Notification v3.3.1 status enum). */
  'TimeoutAtTpp',
] as const
export type KnownStatus = (typeof KNOWN_STATUSES)[number]
// `string & {}` keeps editor completion for the known values while allowing forced unknown ones.
export type ConsentStatus = KnownStatus | (string & {})

export type Permission = 'Accounts' | 'Balances' | 'Transactions'

/** The only combinations Worldline accepts (docs/providers.md, Worldline evidence: Consents), in canonical order. */
export const ALLOWED_PERMISSIONS: ReadonlyArray<readonly Permission[]> = [
  ['Accounts'],
  ['Accounts', 'Balances'],
  ['Accounts', 'Transactions'],
  ['Accounts', 'Balances', 'Transactions'],
]

/** The first holder's bank page is still waiting for a decision. */
export const AWAITING_FIRST_HOLDER: ReadonlySet<ConsentStatus> = new Set(['Open', 'Pending'])

/** What reaching `ValidUntilDate` expires (the bank granted something that can lapse). */
export const VALIDITY_BOUND: ReadonlySet<ConsentStatus> = new Set(['Authorised', 'PartiallyAuthorised'])

/** What DELETE turns into `Revoked` (or `RevokedAtTpp` when the bank call fails). */
export const REVOCABLE: ReadonlySet<ConsentStatus> = new Set(['Open', 'Pending', 'PartiallyAuthorised', 'Authorised'])

/** Multi-level SCA: the account holders the first holder can declare on the bank page. */
export const HOLDERS = { min: 1, max: 5, default: 1 } as const

/** Where Worldline posts status notifications for a consent (docs/providers.md, Worldline evidence: Consents form A or B). */
export interface NotificationTarget {
  /** The URL notifications are POSTed to, already resolved (form A: `{url}/notification/status`). */
  url: string
  form: 'A' | 'B'
  /** Form A: implied by the URL's `/v2` or `/v3`; form B: the `NotificationVersion` header. */
  version: 'v2' | 'v3'
}

/** One account holder's SCA: the first one comes with the consent, the others from `POST .../authorisations`. */
export interface HolderAuthorisation {
  authorisationId: string
  /** The opaque id in the bank page URL. */
  pageId: string
  /** 1 for the holder who starts the consent, then 2, 3, ... */
  holder: number
  decision: 'pending' | 'approved' | 'denied'
}

export interface ConsentAccount {
  AccountId: string
  Iban: string
  Currency: string
  Name: string
}

export interface WorldlineConsent {
  consentId: string
  psuId: string
  aspspId: string
  permissions: Permission[]
  /** `YYYY-MM-DD`; the consent lapses at the end of that day, UTC. */
  validUntilDate: string
  recurringIndicator: boolean
  status: ConsentStatus
  /** Initiation time on the sandbox clock: the notification window counts from here. */
  createdAt: Date
  /** When it last became `Authorised`; orders consents for supersession and data calls. */
  authorisedAt: Date | null
  returnUrl: string | null
  notification: NotificationTarget | null
  holdersRequired: number
  holdersDone: number
  authorisations: HolderAuthorisation[]
  /** The bank has expired the consent (control `bank-expiry`), whether or not Worldline's status shows it. */
  bankExpired: boolean
  /** The accounts the bank shared, set when the consent is first authorised. */
  accounts: ConsentAccount[] | null
}
