// The tenant's request limits before GraphQL runs, where the process applies them itself (npm start; on AWS API
// Gateway's usage plans do it before Lambda, and the gateway gives the process no limiter): a refused request is 429
// RATE_LIMITED with Retry-After, every answer carries the RateLimit fields of its tenant.
import type { Plugin } from 'graphql-yoga'
import { RateLimitedError } from '../domain/errors.ts'
import type { Principal } from '../service/principal.ts'
import type { TenantRateLimiter } from '../service/rate-limiter.ts'
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
        if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, decision.headers)
        const response = await handler(request, serverContext)
        for (const [name, value] of Object.entries(decision.headers)) response.headers.set(name, value)
        return response
      })
    },
  }
}
