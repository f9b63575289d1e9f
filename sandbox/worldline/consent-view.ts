// How a consent reads over the API: `ConsentDetailedInformation` of GET .../status and the `Links` section, which
// names the next call to make (docs/providers.md, Worldline evidence: Consents). Hrefs are absolute URLs [I].
import { AWAITING_FIRST_HOLDER, type HolderAuthorisation, type WorldlineConsent } from './consent.ts'
import { bankPageUrl, consentUrl } from './paths.ts'

interface Link {
  Href: string
}

/**
 * `GetConsentStatus` always; `RedirectUrl` (the first holder's bank page) while that holder's decision is awaited,
 * so `Pending` too (a user who closed the tab can reopen it) [I]; `StartAuthorisation` while `PartiallyAuthorised`.
 */
export function consentLinks(consent: WorldlineConsent, baseUrl: string): Record<string, Link> {
  const links: Record<string, Link> = {}
  const first = firstHolder(consent)
  if (AWAITING_FIRST_HOLDER.has(consent.status) && first?.decision === 'pending') {
    links.RedirectUrl = { Href: bankPageUrl(baseUrl, first.pageId) }
  }
  if (consent.status === 'PartiallyAuthorised') {
    links.StartAuthorisation = { Href: consentUrl(baseUrl, consent.psuId, consent.consentId, '/authorisations') }
  }
  links.GetConsentStatus = { Href: consentUrl(baseUrl, consent.psuId, consent.consentId, '/status') }
  return links
}

/** The 201 of `POST /psus/{psuId}/consents` (`ConsentResponse`). */
export function consentCreated(consent: WorldlineConsent, baseUrl: string): Record<string, unknown> {
  return { ConsentId: consent.consentId, ConsentStatus: consent.status, Links: consentLinks(consent, baseUrl) }
}

/** The 200 of `GET .../status` (`ConsentDetailedInformation`). */
export function consentDetails(consent: WorldlineConsent, baseUrl: string): Record<string, unknown> {
  return {
    ConsentId: consent.consentId,
    ConsentStatus: consent.status,
    AspspId: consent.aspspId,
    PsuId: consent.psuId,
    Permissions: consent.permissions,
    // A date-time in the spec (Open Banking Notification v3.3.1): the end of the requested day, UTC [I].
    ValidUntilDate: `${consent.validUntilDate}T23:59:59.999Z`,
    RecurringIndicator: consent.recurringIndicator,
    // Until the first holder declares the holder count on the bank page, one authorisation is assumed.
    NumberOfAuthorisationsRequired: consent.holdersRequired,
    NumberOfAuthorisationsDone: consent.holdersDone,
    Links: consentLinks(consent, baseUrl),
  }
}

/** The 201 of `POST .../authorisations` (`ConsentAuthorisationResponse`). */
export function authorisationStarted(authorisation: HolderAuthorisation, baseUrl: string): Record<string, unknown> {
  return {
    AuthorisationId: authorisation.authorisationId,
    ScaStatus: 'Started',
    Links: { RedirectUrl: { Href: bankPageUrl(baseUrl, authorisation.pageId) } },
  }
}

export function firstHolder(consent: WorldlineConsent): HolderAuthorisation | undefined {
  return consent.authorisations.find((authorisation) => authorisation.holder === 1)
}
