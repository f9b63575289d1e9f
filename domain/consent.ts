// The unified Consent and its history events: plain data, identical whatever provider holds the consent.
import type { DataScope, Provider, Region } from './provider.ts'
import type { ConsentStatus, StatusReason } from './status.ts'

/** An ISO-8601 UTC timestamp, e.g. `2026-11-21T10:00:00.000Z` (always `Date#toISOString()` form, so it sorts). */
export type Timestamp = string

export interface Institution {
  readonly id: string
  readonly name: string
  /** ISO 3166-1 alpha-2. */
  readonly country: string
}

export interface Consent {
  /** Gateway id: a ULID, so ids sort by creation time. */
  readonly id: string
  readonly tenantId: string
  readonly provider: Provider
  readonly providerConsentId: string
  /** The provider's raw status, always kept beside the unified one. */
  readonly providerStatus: string | null
  /** The partner's own end-user reference, as the partner sent it; never sent to a provider. */
  readonly userId: string
  /**
   * What the provider knows the user by (Worldline psuId, Yapily applicationUserId): an opaque reference derived from
   * the tenant and `userId` when the consent was created, and kept, so a later key change never orphans the consent.
   * Null for consents created before references existed: they keep using `userId`, as they were created with.
   */
  readonly providerUserRef: string | null
  readonly institution: Institution
  readonly region: Region
  readonly scope: readonly DataScope[]
  readonly validityDays: number
  /** The stored status; what clients see is the effective status (see derived.ts). */
  readonly status: ConsentStatus
  readonly statusReason: StatusReason | null
  readonly authorizationUrl: string | null
  readonly linkExpiresAt: Timestamp | null
  readonly validUntil: Timestamp | null
  readonly lastConfirmedAt: Timestamp | null
  readonly reconfirmBy: Timestamp | null
  readonly redirectUrl: string | null
  readonly webhookUrl: string | null
  readonly supersededBy: string | null
  readonly supersedes: string | null
  /** Set once the consent was deleted at its provider (Yapily): whether it worked there and at the bank. */
  readonly deletion: ConsentDeletion | null
  /** The next moment the deadline sweep has something to do for this consent (a warning, an expiry); null: nothing. */
  readonly nextDeadline: ConsentDeadline | null
  /** Deadlines up to this moment are handled (the sweep moves it on); null: none handled yet, counted from creation. */
  readonly sweptUntil: Timestamp | null
  /** When the reconciler should next re-check the consent at its provider; null for a terminal consent. */
  readonly nextCheckAt: Timestamp | null
  readonly createdAt: Timestamp
  readonly updatedAt: Timestamp
  /** Optimistic-lock counter: 1 at creation, +1 on every change. */
  readonly version: number
}

export interface ConsentDeletion {
  /** The provider's verdict (Yapily `deleteStatus`). */
  readonly status: 'SUCCESS' | 'FAILED'
  /** Whether the bank deleted its copy too (Yapily `isDeletedByInstitution`); null when unknown. */
  readonly deletedAtInstitution: boolean | null
  readonly at: Timestamp
}

/** What a new consent is made of: who and what it is for, and what its provider said when it was created. */
export interface NewConsentInput {
  readonly id: string
  readonly tenantId: string
  readonly provider: Provider
  readonly providerConsentId: string
  readonly userId: string
  readonly providerUserRef: string | null
  readonly institution: Institution
  readonly region: Region
  readonly scope: readonly DataScope[]
  readonly validityDays: number
  /** The provider's answer, mapped to the unified model; dates it did not report are null. */
  readonly observed: {
    readonly providerStatus: string | null
    readonly status: ConsentStatus
    readonly reason: StatusReason | null
    readonly authorizationUrl?: string | null | undefined
    readonly linkExpiresAt?: Timestamp | null | undefined
    readonly validUntil?: Timestamp | null | undefined
    readonly lastConfirmedAt?: Timestamp | null | undefined
    readonly reconfirmBy?: Timestamp | null | undefined
  }
  readonly redirectUrl?: string | null | undefined
  readonly webhookUrl?: string | null | undefined
  /** When it was created. */
  readonly at: Timestamp
}

/**
 * A consent at its first version, not yet scheduled (no deadline, no re-check: the service schedules it) and linked
 * to no other consent.
 *
 * @example
 * newConsent({ id: ulid(), tenantId, provider: 'FINQWARE', ..., observed: { providerStatus: 'created', status: 'CREATED', reason: null }, at })
 */
export function newConsent(input: NewConsentInput): Consent {
  const { observed } = input
  return {
    id: input.id,
    tenantId: input.tenantId,
    provider: input.provider,
    providerConsentId: input.providerConsentId,
    providerStatus: observed.providerStatus,
    userId: input.userId,
    providerUserRef: input.providerUserRef,
    institution: { id: input.institution.id, name: input.institution.name, country: input.institution.country },
    region: input.region,
    scope: input.scope,
    validityDays: input.validityDays,
    status: observed.status,
    statusReason: observed.reason,
    authorizationUrl: observed.authorizationUrl ?? null,
    linkExpiresAt: observed.linkExpiresAt ?? null,
    validUntil: observed.validUntil ?? null,
    lastConfirmedAt: observed.lastConfirmedAt ?? null,
    reconfirmBy: observed.reconfirmBy ?? null,
    redirectUrl: input.redirectUrl ?? null,
    webhookUrl: input.webhookUrl ?? null,
    supersededBy: null,
    supersedes: null,
    deletion: null,
    nextDeadline: null,
    sweptUntil: null,
    nextCheckAt: null,
    createdAt: input.at,
    updatedAt: input.at,
    version: 1,
  }
}

/**
 * What told us about a change: this API; a provider's push; our read at the provider (a refresh, a job); the user's
 * browser coming back from the provider (a callback, after which we read the provider); the scheduler.
 */
export const EVENT_SOURCES = ['API', 'PROVIDER_WEBHOOK', 'PROVIDER_POLL', 'PROVIDER_REDIRECT', 'SCHEDULER'] as const
export type EventSource = (typeof EVENT_SOURCES)[number]

export const DEADLINE_KINDS = [
  'LINK_EXPIRY', // the authorisation link lapses: a pending consent becomes LINK_EXPIRED
  'EXPIRY_WARNING', // a configured time before the end of validity
  'VALIDITY_END', // the end of data access: a granted consent becomes EXPIRED
  'RECONFIRMATION_WARNING', // UK: a configured time before reconfirmation falls due
  'RECONFIRMATION_DUE', // UK: not reconfirmed in time, data access stops until it is
] as const
export type DeadlineKind = (typeof DEADLINE_KINDS)[number]

export interface ConsentDeadline {
  readonly kind: DeadlineKind
  readonly at: Timestamp
  /** The moment the deadline is about: `linkExpiresAt`, `validUntil` or `reconfirmBy`. */
  readonly target: Timestamp
}

/**
 * What an event records: a change of the consent (its status, or anything else the partner sees), or a deadline the
 * sweep reached without a change of status (a warning; reconfirmation falling due).
 */
export const EVENT_KINDS = ['CHANGE', 'EXPIRY_WARNING', 'RECONFIRMATION_WARNING', 'RECONFIRMATION_LAPSED'] as const
export type ConsentEventKind = (typeof EVENT_KINDS)[number]

/** One entry of a consent's append-only history: written in the same transaction as the change it records. */
export interface ConsentEvent {
  readonly kind: ConsentEventKind
  /** When a deadline caused the event (warnings, lapses, expiries): the deadline it is about. */
  readonly deadline: Timestamp | null
  /** ULID: events sort by time across a tenant. */
  readonly id: string
  readonly consentId: string
  readonly tenantId: string
  /** The consent version this event produced; a per-consent sequence number. */
  readonly version: number
  readonly from: ConsentStatus | null
  readonly to: ConsentStatus
  readonly reason: StatusReason | null
  readonly providerStatus: string | null
  readonly source: EventSource
  /** Who caused it: `api-client:<id>`, `provider:<name>`, `scheduler`. */
  readonly initiator: string
  readonly at: Timestamp
}

/**
 * The history event recording that `consent` (already at its new version) came from status `from`.
 *
 * @example
 * newConsentEvent(next, 'CREATED', { id: ulid(), source: 'PROVIDER_WEBHOOK', initiator: 'provider:finqware' })
 */
export function newConsentEvent(
  consent: Consent,
  from: ConsentStatus | null,
  origin: {
    readonly id: string
    readonly source: EventSource
    readonly initiator: string
    readonly kind?: ConsentEventKind
    readonly deadline?: Timestamp | null
  },
): ConsentEvent {
  return {
    kind: origin.kind ?? 'CHANGE',
    deadline: origin.deadline ?? null,
    id: origin.id,
    consentId: consent.id,
    tenantId: consent.tenantId,
    version: consent.version,
    from,
    to: consent.status,
    reason: consent.statusReason,
    providerStatus: consent.providerStatus,
    source: origin.source,
    initiator: origin.initiator,
    at: consent.updatedAt,
  }
}

export const DAY_MS = 86_400_000

export const addDays = (at: Date | Timestamp, days: number): Timestamp =>
  new Date(new Date(at).getTime() + days * DAY_MS).toISOString()

/** True when `deadline` is set and `now` has reached it. */
export const hasPassed = (deadline: Timestamp | null, now: Date): boolean =>
  deadline !== null && Date.parse(deadline) <= now.getTime()
