// The sandbox's URL layout: Worldline's service prefix (docs/providers.md, Worldline evidence: Auth), the AIS v3 paths, the hosted bank pages.

/** `S`: every Worldline service lives under it. */
export const SERVICE_PREFIX = '/xs2a/routingservice/services'

/** `A`: AIS v3. */
export const AIS_PREFIX = `${SERVICE_PREFIX}/ob/ais/v3`

export const TOKEN_PATH = `${SERVICE_PREFIX}/authorize/token`
export const DIRECTORY_PATH = `${SERVICE_PREFIX}/directory/v3/aspsps`

/** Route patterns (for the router) of the AIS operations. */
export const AIS_ROUTES = {
  consents: `${AIS_PREFIX}/psus/:psuId/consents`,
  consent: `${AIS_PREFIX}/psus/:psuId/consents/:consentId`,
  status: `${AIS_PREFIX}/psus/:psuId/consents/:consentId/status`,
  authorisations: `${AIS_PREFIX}/psus/:psuId/consents/:consentId/authorisations`,
  accounts: `${AIS_PREFIX}/psus/:psuId/aspsps/:aspspId/accounts`,
} as const

/** The hosted bank page of one holder's authorisation (a sandbox path: Worldline's real pages live elsewhere). */
export const BANK_PAGE_ROUTE = '/bank/sca/:pageId'

export function bankPageUrl(baseUrl: string, pageId: string): string {
  return `${baseUrl}/bank/sca/${encodeURIComponent(pageId)}`
}

/** Absolute link to a consent resource; `suffix` is e.g. `/status` or `/authorisations`. */
export function consentUrl(baseUrl: string, psuId: string, consentId: string, suffix = ''): string {
  return `${baseUrl}${AIS_PREFIX}/psus/${encodeURIComponent(psuId)}/consents/${encodeURIComponent(consentId)}${suffix}`
}
