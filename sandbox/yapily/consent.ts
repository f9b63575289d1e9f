// The Yapily AIS consent as the sandbox keeps it, its hosted bank pages, and the status groups the rules use.
import type { AuthorisationStatus, Feature } from './enums.ts'

/** An SCA method the embedded bank offers (`ScaMethod`). */
export interface ScaMethod {
  id: string
  type: 'SMS_OTP' | 'CHIP_OTP' | 'PHOTO_OTP' | 'PUSH_OTP'
  description: string
}

/**
 * A hosted bank page: the first authorisation's (`POST /account-auth-requests`) or a re-authorisation's (`PATCH`).
 * Only the consent's current page takes decisions; older pages answer an error page.
 */
export interface BankPage {
  id: string
  purpose: 'authorisation' | 'reauthorisation'
}

export interface YapilyConsent {
  id: string
  /** The application that created it; other applications see it as unknown. */
  applicationId: string
  userUuid: string
  applicationUserId: string
  institutionId: string
  status: AuthorisationStatus
  /** On the sandbox clock. */
  createdAt: Date
  /** Creation order, to list consents created in the same millisecond newest first. */
  sequence: number
  featureScope: Feature[]
  /** As sent (normalised ISO), or null. Kept and shown, not enforced. */
  transactionFrom: string | null
  transactionTo: string | null
  /** `accountRequest.expiresAt` when the institution honours it; null when absent or ignored. */
  requestedExpiresAt: Date | null
  /** Shown from creation when requested; set at every authorisation. */
  expiresAt: Date | null
  /** Correlation id with the bank; renewed with every page. */
  state: string
  institutionConsentId: string
  /** Where the user goes after the bank page; null shows a result page instead. */
  callback: string | null
  /**
   * Minted at the first authorisation, then kept for good (re-authorisation keeps it, Yapily, "Financial data
   * consents").
   */
  consentToken: string | null
  authorizedAt: Date | null
  lastConfirmedAt: Date | null
  reconfirmBy: Date | null
  /** Null until DELETE went through at Yapily; then whether the bank deleted its copy too. */
  isDeletedByInstitution: boolean | null
  /**
   * The user revoked access at the bank: the status stays, data calls answer 403 (Yapily, "Financial data consents").
   */
  revokedAtBank: boolean
  /** The status a denied re-authorisation goes back to (the status before the PATCH). */
  statusBeforeReauthorisation: 'AUTHORIZED' | 'EXPIRED' | null
  pages: BankPage[]
  /** The page awaiting a decision, if any. */
  currentPageId: string | null
  /**
   * The accounts the consent covers: null for every account of the institution; one account each at a bank that
   * returns one consent per account. Absent in states saved before it existed: null.
   */
  accountIds?: string[] | null
  /** At a bank that returns one consent per account: the consent whose authorisation created this one. */
  siblingOf?: string | null
  /** Embedded flow: the methods offered and the one chosen. */
  scaMethods: ScaMethod[] | null
  selectedScaMethod: ScaMethod | null
}

/** The hosted page of a first authorisation still takes decisions in these statuses. */
export const AWAITING_FIRST_DECISION: ReadonlySet<AuthorisationStatus> = new Set<AuthorisationStatus>([
  'AWAITING_AUTHORIZATION',
  'AWAITING_SCA_METHOD',
  'AWAITING_SCA_CODE',
])

/** `PATCH /account-auth-requests` starts a re-authorisation from these (Yapily API 12.13.0). */
export const REAUTHORISABLE: ReadonlySet<AuthorisationStatus> = new Set<AuthorisationStatus>(['AUTHORIZED', 'EXPIRED'])

/** A DELETE went through at Yapily (forced or with the bank). */
export function isDeleted(consent: Pick<YapilyConsent, 'isDeletedByInstitution'>): boolean {
  return consent.isDeletedByInstitution !== null
}

export function currentPage(consent: Pick<YapilyConsent, 'pages' | 'currentPageId'>): BankPage | undefined {
  return consent.pages.find((page) => page.id === consent.currentPageId)
}
