// The Finqware consent as the sandbox keeps it, and the status groups the flow rules are written in.
import type { BankDecision } from '../shared/bank-page.ts'

export type FlowType = 'link' | 'wrapped_sca' | 'direct_sca'
export const FLOW_TYPES: readonly FlowType[] = ['link', 'wrapped_sca', 'direct_sca']

export type ScopeItem = 'accounts' | 'balances' | 'transactions'

/** The only two scopes Finqware accepts (its Consents page), in canonical order; the first is the default. */
export const ALLOWED_SCOPES: ReadonlyArray<readonly ScopeItem[]> = [
  ['accounts', 'balances', 'transactions'],
  ['accounts', 'balances'],
]

/** Every status Finqware's pages name (Consents, Get Consent, changelog); the force control also accepts others, to test tolerant parsing. */
export const KNOWN_STATUSES = [
  'created',
  'started',
  'requested',
  'sca_url_retrieved',
  'awaiting_authz',
  'authorized',
  'active',
  'expired',
  'revoked',
  'deactivated',
  'failed',
  'suspended',
] as const
export type KnownStatus = (typeof KNOWN_STATUSES)[number]
// `string & {}` keeps editor completion for the known values while allowing forced unknown ones.
export type ConsentStatus = KnownStatus | (string & {})

/** Before authorisation: the link is still usable and lapses to `expired` at `expires_at`. */
export const LINK_PENDING_STATUSES: ReadonlySet<ConsentStatus> = new Set([
  'created',
  'started',
  'requested',
  'sca_url_retrieved',
  'awaiting_authz',
])

/** Data access granted: bounded by `authorized_until`. */
export const VALIDITY_BOUND_STATUSES: ReadonlySet<ConsentStatus> = new Set(['authorized', 'active'])

/** What `/ais/consents/revoke` turns into `revoked` (its Revoke Consent page; the pending ones are our guess). */
export const REVOCABLE_STATUSES: ReadonlySet<ConsentStatus> = new Set([
  ...LINK_PENDING_STATUSES,
  ...VALIDITY_BOUND_STATUSES,
])

/**
 * The pending statuses in flow order. `requested` appears only in Finqware's changelog: the sandbox
 * never enters it on its own (only the force control can), but walks past it like any other pending status.
 */
export const PENDING_FLOW_ORDER: readonly ConsentStatus[] = [
  'created',
  'started',
  'requested',
  'sca_url_retrieved',
  'awaiting_authz',
]

export interface ConsentAccount {
  account_id: string
  iban: string
  currency: string
  name: string
}

export interface CompletedJob {
  job_id: string
  status: 'job_completed'
  completed_at: string
}

/** What the fake native bank recorded for a `direct_sca` consent, waiting for `/ais/consents/redirect`. */
export interface DirectScaState {
  /** The `state` parameter of the native bank URL; the redirect query string carries it back. */
  state: string
  scaUrl: string
  bankAnswer: { decision: BankDecision; code: string | null } | null
  redirect: 'not_received' | 'in_progress' | 'processed'
}

export interface FinqwareConsent {
  consentId: string
  webId: string
  clientId: string
  apiClientApp: string
  flow: FlowType
  /** Null for a `link` consent created without a provider filter, until the user picks a bank. */
  providerId: string | null
  scope: ScopeItem[]
  consentValidityDays: number
  createdAt: Date
  expiresAt: Date
  authorizedUntil: Date | null
  /** When the simulated first data job completes (`authorized` -> `active`); null unless `authorized`. */
  activationDueAt: Date | null
  status: ConsentStatus
  webhookUrl: string | null
  redirectUrl: string | null
  accounts: ConsentAccount[] | null
  latestCompletedJob: CompletedJob | null
  directSca: DirectScaState | null
}
