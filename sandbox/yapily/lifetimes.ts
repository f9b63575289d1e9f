// Pure time rules: validity at authorisation, the UK reconfirmation clock, expiry, and `timeToExpire`.
import type { YapilyConsent } from './consent.ts'
import type { Region, SandboxInstitution } from './institutions.ts'

export const DAY_MS = 24 * 3600 * 1000

/** How long an authorisation is valid before SCA is needed again (Yapily, "Financial data consents"). */
export const VALIDITY_DAYS: Readonly<Record<Region, number>> = { UK: 90, EEA: 180 }

/** `reconfirmBy` = `lastConfirmedAt` + 90 days (Yapily API 12.13.0, the extend example). */
export const RECONFIRM_DAYS = 90

export interface AuthorisationDates {
  authorizedAt: Date
  lastConfirmedAt: Date
  /** UK only; null elsewhere. */
  reconfirmBy: Date | null
  expiresAt: Date
}

/**
 * The dates an (re-)authorisation sets at `now`: a requested `expiresAt` the institution honours stays the hard
 * expiry (re-authorising does not move it: the docs say it opts out of perpetual re-authorisation); otherwise the
 * region's validity from now.
 */
export function authorisationDates(
  institution: Pick<SandboxInstitution, 'region'>,
  requestedExpiresAt: Date | null,
  now: Date,
): AuthorisationDates {
  return {
    authorizedAt: now,
    lastConfirmedAt: now,
    reconfirmBy: reconfirmByFor(institution.region, now),
    expiresAt: requestedExpiresAt ?? new Date(now.getTime() + VALIDITY_DAYS[institution.region] * DAY_MS),
  }
}

export function reconfirmByFor(region: Region, lastConfirmedAt: Date): Date | null {
  return region === 'UK' ? new Date(lastConfirmedAt.getTime() + RECONFIRM_DAYS * DAY_MS) : null
}

/** An `AUTHORIZED` consent whose `expiresAt` has come becomes `EXPIRED`; `reconfirmBy` passing changes nothing. */
export function isDueToExpire(consent: Pick<YapilyConsent, 'status' | 'expiresAt'>, now: Date): boolean {
  return consent.status === 'AUTHORIZED' && hasPassed(consent.expiresAt, now)
}

export function hasPassed(deadline: Date | null, now: Date): boolean {
  return deadline !== null && now.getTime() >= deadline.getTime()
}

/** ISO-8601 duration such as `P89DT12H12M35.472S` (the spec's `timeToExpire`); never negative. */
export function isoDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms))
  const days = Math.floor(rest / DAY_MS)
  rest -= days * DAY_MS
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = rest / 1000
  let time = ''
  if (hours) time += `${hours}H`
  if (minutes) time += `${minutes}M`
  if (seconds || (!days && !time)) time += `${seconds}S`
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`
}
