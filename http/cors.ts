// Which web pages may read the API's answers. A configured origin is named exactly (never reflected, never with
// credentials: clients send their credentials in `Authorization` themselves); any other origin gets no CORS header at
// all, so a browser keeps the answer from its scripts. Every answer varies by Origin, allowed or not, so no cache hands
// one origin's answer to another. A preflight is answered here, before anything else runs.
import type { HttpMiddleware } from './env.ts'

/** What a browser may do cross-origin: the methods and headers the API uses, and reading our request id. */
const GRANT = {
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'authorization, content-type, accept, x-request-id',
  'access-control-max-age': '600',
} as const
const EXPOSED = 'x-request-id'

export function cors(allowedOrigins: readonly string[]): HttpMiddleware {
  const allowed = new Set(allowedOrigins)
  const allowedOrigin = (origin: string | null) => (origin !== null && allowed.has(origin) ? origin : null)
  return async (c, next): Promise<Response | undefined> => {
    const origin = allowedOrigin(c.req.raw.headers.get('origin'))
    if (c.req.method === 'OPTIONS') {
      const headers: Record<string, string> = { vary: 'Origin' }
      if (origin !== null) {
        Object.assign(headers, GRANT, {
          'access-control-allow-origin': origin,
          'access-control-expose-headers': EXPOSED,
        })
      }
      return new Response(null, { status: 204, headers })
    }
    await next()
    const headers = c.res.headers
    const vary = headers.get('vary')
    if (!vary?.toLowerCase().includes('origin')) headers.set('vary', vary ? `${vary}, Origin` : 'Origin')
    if (origin !== null) {
      headers.set('access-control-allow-origin', origin)
      headers.set('access-control-expose-headers', EXPOSED)
    }
    return undefined
  }
}
