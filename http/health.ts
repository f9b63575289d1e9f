// /healthz: 200 `{status: ok, store: ok}` while the store answers, else 503 with Retry-After. It names the store's state
// and nothing else, and however many ask, the store sees one probe per period (service/store-health.ts).
import type { StoreHealth } from '../service/store-health.ts'
import type { HttpContext } from './env.ts'

export function health(storeHealth: StoreHealth) {
  return async (c: HttpContext): Promise<Response> => {
    const store = await storeHealth.check()
    return c.json(
      store === 'ok' ? { status: 'ok', store } : { status: 'unavailable', store },
      store === 'ok' ? 200 : 503,
      store === 'ok'
        ? { 'cache-control': 'no-store' }
        : { 'cache-control': 'no-store', 'retry-after': String(storeHealth.retryAfterSeconds) },
    )
  }
}
