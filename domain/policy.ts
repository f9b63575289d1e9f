// The UK/EEA consent rules: how long access and authorisation links may last, and the UK reconfirmation clock.
import type { Consent } from './consent.ts'
import { effectiveStatus } from './derived.ts'
import { ConsentNotActiveError, ValidationError, type ValidationIssue } from './errors.ts'
import type { Region } from './provider.ts'

/** The regulatory limits, in days. One place; documented in docs/architecture.md. */
export const CONSENT_POLICY = {
  /** Access before SCA is needed again: UK 90 days, EEA 180 days. */
  maxValidityDays: { UK: 90, EEA: 180 } satisfies Record<Region, number>,
  /** Used when the partner does not say: the maximum for the region. */
  defaultValidityDays: { UK: 90, EEA: 180 } satisfies Record<Region, number>,
  /** Finqware's documented maximum for an authorisation link; applied to every provider. */
  maxLinkExpiresInDays: 45,
  /** A week: long enough for a link sent by e-mail, short enough not to linger. */
  defaultLinkExpiresInDays: 7,
  /** UK: the TPP must reconfirm with the user every 90 days. */
  reconfirmationIntervalDays: 90,
} as const

export interface ConsentTermsInput {
  readonly region: Region
  readonly validityDays?: number | null
  readonly linkExpiresInDays?: number | null
}

export interface ConsentTerms {
  readonly validityDays: number
  readonly linkExpiresInDays: number
}

function checkDays(path: string, value: number, max: number, rule: string, issues: ValidationIssue[]): void {
  if (!Number.isInteger(value)) issues.push({ path, message: 'must be a whole number of days' })
  else if (value < 1) issues.push({ path, message: 'must be at least 1 day' })
  else if (value > max) issues.push({ path, message: `must be at most ${max} days (${rule})` })
}

/**
 * Applies defaults and the UK/EEA limits; throws {@link ValidationError} naming every broken rule.
 *
 * @example
 * resolveConsentTerms({ region: 'UK', validityDays: 120 }) // throws: input.validityDays: must be at most 90 days (UK)
 */
export function resolveConsentTerms(input: ConsentTermsInput, pathPrefix = 'input'): ConsentTerms {
  const validityDays = input.validityDays ?? CONSENT_POLICY.defaultValidityDays[input.region]
  const linkExpiresInDays = input.linkExpiresInDays ?? CONSENT_POLICY.defaultLinkExpiresInDays
  const issues: ValidationIssue[] = []
  checkDays(
    `${pathPrefix}.validityDays`,
    validityDays,
    CONSENT_POLICY.maxValidityDays[input.region],
    input.region,
    issues,
  )
  checkDays(
    `${pathPrefix}.linkExpiresInDays`,
    linkExpiresInDays,
    CONSENT_POLICY.maxLinkExpiresInDays,
    'link expiry',
    issues,
  )
  if (issues.length > 0) throw new ValidationError(issues)
  return { validityDays, linkExpiresInDays }
}

/**
 * UK reconfirmation (the TPP confirms with the user every 90 days instead of a new SCA): checked before any provider
 * call. The consent must be a UK consent that is effectively ACTIVE; `confirmedAt` may not be in the future and must
 * be later than the last confirmation. Consents here are all AIS, the only kind reconfirmation applies to.
 */
export function checkReconfirmation(consent: Consent, confirmedAt: Date, now: Date): void {
  const status = effectiveStatus(consent, now).status
  if (status !== 'ACTIVE') throw new ConsentNotActiveError(consent.id, status, 'reconfirm')
  const issues: ValidationIssue[] = []
  if (consent.region !== 'UK') issues.push({ path: 'id', message: 'reconfirmation applies to UK consents only' })
  if (Number.isNaN(confirmedAt.getTime())) issues.push({ path: 'confirmedAt', message: 'must be a date-time' })
  else if (confirmedAt.getTime() > now.getTime())
    issues.push({ path: 'confirmedAt', message: 'must not be in the future' })
  else if (consent.lastConfirmedAt && confirmedAt.getTime() <= Date.parse(consent.lastConfirmedAt)) {
    issues.push({
      path: 'confirmedAt',
      message: `must be later than the last confirmation (${consent.lastConfirmedAt})`,
    })
  }
  if (issues.length) throw new ValidationError(issues)
}
