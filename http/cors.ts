// Which web pages may call the API, and read its answers. Each tenant registers its pages' origins
// (`npm run admin -- set-origins`); the operator may configure origins of its own, good for every tenant. A preflight
// carries no credentials, so it is answered for an origin some tenant registered (or the operator configured); the
// request itself is checked once its caller is authenticated (schema/request-guard.ts asks the check this middleware
// hands it): a page on another tenant's origin is refused, 403 ORIGIN_NOT_ALLOWED, with no CORS header. An allowed
// origin is named exactly (never reflected, never in credentials mode: clients send their token in `Authorization`
// themselves); any other gets no CORS header at all, so the browser keeps the answer from its scripts. Every answer
// varies by Origin. A request from the API's own origin (the GraphiQL page) is not cross-origin.
import type { WebOriginCheck } from '../schema/request-guard.ts'
import type { HttpContext, HttpMiddleware } from './env.ts'

/** What a browser may do cross-origin: the methods and headers the API uses (graphql-sse, Apollo included). */
const GRANT = {
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'authorization, content-type, accept, x-request-id',
  'access-control-max-age': '600',
} as const
/** What a page's script may read of an answer besides the safelisted headers. */
const EXPOSED = 'x-request-id, retry-after, www-authenticate'
/**
 * Answers given before the caller was known (no or a bad credential, too many attempts, the store down): a page on a
 * registered origin may read them, to mint a new token or back off.
 */
const BEFORE_AUTHENTICATION = new Set([401, 429, 503])

/** The web origins tenants registered (service/web-origins.ts). */
export interface RegisteredOrigins {
  isRegistered(origin: string): Promise<boolean>
  allows(tenantId: string, origin: string): Promise<boolean>
}

export interface CorsOptions {
  /** Origins good for every tenant (the operator's, `CORS_ALLOWED_ORIGINS`). */
  readonly configured: readonly string[]
  /** Tenants' own origins; none when absent. */
  readonly registered?: RegisteredOrigins | undefined
}

/** Which pages may call: asked before the caller is known (any tenant's origin) and after (the caller's tenant's). */
export interface PageOrigins {
  /** Whether the operator configured `origin` or some tenant registered it; false when that cannot be read now. */
  known(origin: string): Promise<boolean>
  /** The check a request from `origin` carries to authentication (schema/request-guard.ts, schema/graphql-ws.ts). */
  checkFor(origin: string, onVerdict?: (allowed: boolean) => void): WebOriginCheck
}

/** The page origins of `options`: for CORS here, and for a WebSocket's `Origin` (local/graphql-ws-server.ts). */
export function pageOrigins(options: CorsOptions): PageOrigins {
  const configured = new Set(options.configured)
  const registered = options.registered
  return {
    async known(origin) {
      if (configured.has(origin)) return true
      try {
        return (await registered?.isRegistered(origin)) ?? false
      } catch {
        return false
      }
    },
    checkFor: (origin, onVerdict) => ({
      origin,
      allows: async (tenantId) => {
        const verdict = configured.has(origin) || ((await registered?.allows(tenantId, origin)) ?? false)
        onVerdict?.(verdict)
        return verdict
      },
    }),
  }
}

export function cors(options: CorsOptions): HttpMiddleware {
  const origins = pageOrigins(options)
  const configured = new Set(options.configured)
  return async (c, next): Promise<Response | undefined> => {
    const origin = crossOriginOf(c)
    if (c.req.method === 'OPTIONS') {
      const headers: Record<string, string> = { vary: 'Origin' }
      if (origin !== null && (await origins.known(origin))) {
        Object.assign(headers, GRANT, { 'access-control-allow-origin': origin })
      }
      return new Response(null, { status: 204, headers })
    }
    if (origin === null) {
      await next()
      varyByOrigin(c.res.headers)
      return undefined
    }
    // Asked (once) after authentication; what it answered decides the CORS headers below.
    let verdict: boolean | undefined
    c.set(
      'webOrigin',
      origins.checkFor(origin, (allowed) => (verdict = allowed)),
    )
    await next()
    const headers = c.res.headers
    varyByOrigin(headers)
    const readable =
      verdict ?? (configured.has(origin) || (BEFORE_AUTHENTICATION.has(c.res.status) && (await origins.known(origin))))
    if (readable) {
      headers.set('access-control-allow-origin', origin)
      headers.set('access-control-expose-headers', EXPOSED)
    }
    return undefined
  }
}

/** The request's Origin when it is another than the API's own (null: a server, or a page of ours). */
function crossOriginOf(c: HttpContext): string | null {
  const origin = c.req.raw.headers.get('origin')
  if (origin === null) return null
  return URL.canParse(c.req.url) && new URL(c.req.url).origin === origin ? null : origin
}

function varyByOrigin(headers: Headers): void {
  const vary = headers.get('vary')
  if (!vary?.toLowerCase().includes('origin')) headers.set('vary', vary ? `${vary}, Origin` : 'Origin')
}
