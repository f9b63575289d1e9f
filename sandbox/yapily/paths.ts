// The sandbox's own URLs: the hosted bank pages an `authorisationUrl` points at, and their QR code images.

export const BANK_PAGE_ROUTE = '/bank/:pageId'
export const QR_CODE_ROUTE = '/qr/:pageId'

/** The page carries the consent's `state` in its query, as a real bank URL does (our guess). */
export function bankPageUrl(baseUrl: string, pageId: string, state: string): string {
  return `${baseUrl}/bank/${encodeURIComponent(pageId)}?state=${encodeURIComponent(state)}`
}

export function qrCodeUrl(baseUrl: string, pageId: string): string {
  return `${baseUrl}/qr/${encodeURIComponent(pageId)}`
}
