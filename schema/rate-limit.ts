// The tenant's request limits before GraphQL runs, where the process applies them itself (npm start; on AWS API
// Gateway's usage plans do it before Lambda, and the gateway gives the process no limiter): a refused request is 429
// RATE_LIMITED with Retry-After, every answer carries the RateLimit fields of its tenant (written here, from the
// limiter's numbers, for every path that answers: this plugin, the fast path, graphql-ws operations).
import type { Plugin } from 'graphql-yoga'
import { RateLimitedError } from '../domain/errors.ts'
import type { Principal } from '../service/principal.ts'
import type { RateLimitDecision, TenantRateLimiter } from '../service/rate-limiter.ts'
import type { Handovers, TransportContext } from './request-guard.ts'

/**
 * Counts each authenticated request against its tenant's limits. List it before useApiClientAuthentication: it wraps
 * the handler inside authentication's wrapper, so the principal is known when it runs.
 */
export function useTenantRateLimits(
  limiter: Pick<TenantRateLimiter, 'take'> | null | undefined,
  principals: WeakMap<Request, Principal>,
  handovers: Handovers = new WeakMap(),
): Plugin<Record<string, unknown>, TransportContext> {
  return {
    onRequest(payload) {
      if (!limiter) return
      const handler = payload.requestHandler
      payload.setRequestHandler(async (request, serverContext) => {
        const principal = principals.get(request)
        const handover = handovers.get(request)
        // The fast path (fast-path.ts) counted a request it handed over: its decision stands.
        const decision =
          handover && 'counted' in handover
            ? await handover.counted
            : principal
              ? await limiter.take(principal.tenantId)
              : null
        if (!decision) return handler(request, serverContext)
        const fields = rateLimitFields(decision)
        if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, fields)
        const response = await handler(request, serverContext)
        response.headers.set('ratelimit-policy', fields['ratelimit-policy'])
        response.headers.set('ratelimit', fields.ratelimit)
        return response
      })
    },
  }
}

/**
 * `RateLimit-Policy` and `RateLimit` of draft-ietf-httpapi-ratelimit-headers-11 (structured fields) for a decision:
 * both policies with their quota and window; the one closest to exhaustion with what it has left and when it is whole.
 */
export function rateLimitFields(
  decision: RateLimitDecision,
): Readonly<Record<'ratelimit-policy' | 'ratelimit', string>> {
  const { burst, day } = decision.policies
  return {
    'ratelimit-policy': `"burst";q=${burst.quota};w=${burst.windowSeconds}, "day";q=${day.quota};w=${day.windowSeconds}`,
    ratelimit: `"${decision.closest}";r=${decision.remaining};t=${decision.resetSeconds}`,
  }
}
