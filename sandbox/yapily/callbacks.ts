// Authorisation Callbacks: which callback URLs are registered (Yapily, "Callback URL",
// https://docs.yapily.com/knowledge/callback_url), and the redirect back with the outcome
// (docs/providers.md, Yapily).
import { redirectBackUrl } from '../shared/bank-page.ts'
import type { YapilyConsent } from './consent.ts'

/**
 * True when `callback` is registered: an entry ending in `/` covers every URL below it (same scheme, host and port;
 * the callback's path starts with the entry's path; its query does not matter), any other entry must equal it
 * (compared as parsed URLs, so `HTTPS://Host` and `https://host` are the same). Paths are compared after URL
 * normalisation, so `/cb/../admin` is not below `/cb/`.
 */
export function isRegisteredCallback(callback: string, registered: readonly string[]): boolean {
  const candidate = parseHttpUrl(callback)
  if (!candidate) return false
  return registered.some((entry) => {
    const allowed = parseHttpUrl(entry)
    if (!allowed) return false
    if (!entry.endsWith('/')) return allowed.href === candidate.href
    return allowed.origin === candidate.origin && candidate.pathname.startsWith(allowed.pathname)
  })
}

function parseHttpUrl(text: string): URL | null {
  if (!URL.canParse(text)) return null
  const url = new URL(text)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null
}

/**
 * Success: `consent=<token>` plus who and where, and one more `consent=<token>` per further consent a bank that
 * returns one consent per account created. The parameter names other than `consent` are our guess
 * (docs/providers.md, Yapily); they are appended to any query the callback already has.
 */
export function approvedCallbackUrl(
  callback: string,
  consent: Pick<YapilyConsent, 'consentToken' | 'applicationUserId' | 'userUuid' | 'institutionId'>,
  otherTokens: readonly string[] = [],
): string {
  const url = new URL(
    redirectBackUrl(callback, {
      consent: consent.consentToken ?? '',
      'application-user-id': consent.applicationUserId,
      'user-uuid': consent.userUuid,
      institution: consent.institutionId,
    }),
  )
  for (const token of otherTokens) url.searchParams.append('consent', token)
  return url.toString()
}

/**
 * Failure: `error=access_denied` and a description; names and values are our guess (docs/providers.md,
 * Yapily).
 */
export function deniedCallbackUrl(
  callback: string,
  consent: Pick<YapilyConsent, 'applicationUserId' | 'institutionId'>,
  description: string,
): string {
  return redirectBackUrl(callback, {
    error: 'access_denied',
    'error-description': description,
    'application-user-id': consent.applicationUserId,
    institution: consent.institutionId,
  })
}
