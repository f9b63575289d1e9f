// GET /callbacks/<provider>/<signed link>: the user's browser back from the provider, sent on to the partner's redirect
// URL (302) or shown a page saying it may close the window. A link we did not sign, an altered one or one under another
// provider's prefix gets a "not recognised" page (404); when the result cannot be confirmed or recorded just now, a page
// asking to reload (503 with Retry-After when the store is down, 502 otherwise). `no-referrer` keeps the callback URL
// (and the token in its query) out of the Referer the partner's page would see; `no-store` keeps it out of caches.
import type { Provider } from '../domain/provider.ts'
import { callbackFailure, type CallbackFailure, type CallbackReply } from '../service/authorisation-callback.ts'
import type { Gateway } from '../composition/gateway.ts'
import { providerOfSlug } from '../service/public-paths.ts'
import type { HttpContext } from './env.ts'
import { methodNotAllowed, notFound } from './problems.ts'

export type CallbackServices = Pick<Gateway, 'completeAuthorisation' | 'logger' | 'providers'>

const BROWSER_HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } as const

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  )

const page = (status: number, title: string, text: string, headers: Readonly<Record<string, string>> = {}) =>
  new Response(
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></html>`,
    { status, headers: { 'content-type': 'text/html; charset=utf-8', ...BROWSER_HEADERS, ...headers } },
  )

/** The browser's answer to what became of its return. */
export function callbackAnswer(reply: CallbackReply | CallbackFailure): Response {
  switch (reply.kind) {
    case 'redirect':
      return new Response(null, { status: 302, headers: { location: reply.location, ...BROWSER_HEADERS } })
    case 'done':
      return page(200, 'Done', 'You can close this window and return to the app.')
    case 'unknown_link':
      return page(404, 'Link not recognised', 'This link does not belong to a consent we know.')
    case 'failed':
      return page(
        502,
        'Not confirmed yet',
        'We could not confirm the result with your bank just now; the app will see it shortly.',
      )
    case 'unavailable':
      return page(503, 'Please try again', 'We cannot record the result just now. Reload this page in a few seconds.', {
        'retry-after': String(reply.retryAfterSeconds),
      })
  }
}

export function authorisationCallbacks(services: CallbackServices) {
  const configured = (c: HttpContext): Provider | null => {
    const provider = providerOfSlug(c.req.param('provider'))
    return provider && services.providers.has(provider) ? provider : null
  }
  return {
    complete: async (c: HttpContext): Promise<Response> => {
      // HEAD is routed here as a GET would be; a link checker's HEAD must not complete anyone's authorisation.
      if (c.req.method !== 'GET') return methodNotAllowed('GET')(c)
      const provider = configured(c)
      if (!provider) return callbackAnswer({ kind: 'unknown_link' })
      const token = c.req.param('token') ?? ''
      const query = new URL(c.req.url).searchParams
      const reply = await services
        .completeAuthorisation(provider, token, query, c.get('requestId'))
        .catch((error: unknown) => callbackFailure(error, services.logger, provider))
      return callbackAnswer(reply)
    },
    /** Any other method: 405 for a provider whose users come back to us, 404 for any other name. */
    otherMethod: (c: HttpContext): Response => (configured(c) ? methodNotAllowed('GET')(c) : notFound(c)),
  }
}
