// Limits on failed authentication attempts: one token bucket per client id and one per source address, in memory
// (so per process: per Lambda container on AWS). An attempt that needs a real check takes a token from both and gets
// it back if it succeeds; an empty bucket answers "retry after" before any table read or hash. Memory is bounded: a
// full bucket is the same as none and is dropped, and past `maxTracked` the least recently used go first.
import ipaddr from 'ipaddr.js'

export interface BucketSettings {
  /** Failed attempts allowed in a row. */
  readonly burst: number
  /** How many more failed attempts each minute gives back. */
  readonly refillPerMinute: number
}

export interface FailureLimits {
  /** @default { burst: 10, refillPerMinute: 10 } */
  readonly perClient?: BucketSettings
  /** @default { burst: 30, refillPerMinute: 30 } */
  readonly perSource?: BucketSettings
  /**
   * Buckets kept per dimension (client ids, sources); the least recently used go first.
   * @default 10_000
   */
  readonly maxTracked?: number
}

export const DEFAULT_FAILURE_LIMITS = {
  perClient: { burst: 10, refillPerMinute: 10 },
  perSource: { burst: 30, refillPerMinute: 30 },
  maxTracked: 10_000,
} as const satisfies Required<FailureLimits>

class Buckets {
  /** Tokens left and when that was computed; absent means full. */
  readonly #levels = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly settings: BucketSettings,
    private readonly maxTracked: number,
  ) {}

  get size(): number {
    return this.#levels.size
  }

  level(key: string, now: number): number {
    const entry = this.#levels.get(key)
    if (!entry) return this.settings.burst
    const refilled = ((now - entry.at) / 60_000) * this.settings.refillPerMinute
    return Math.min(this.settings.burst, entry.tokens + refilled)
  }

  /** Milliseconds until one token is back (0 when there is one). */
  waitMs(key: string, now: number): number {
    const missing = 1 - this.level(key, now)
    return missing <= 0 ? 0 : (missing / this.settings.refillPerMinute) * 60_000
  }

  add(key: string, delta: number, now: number): void {
    const tokens = Math.min(this.settings.burst, this.level(key, now) + delta)
    // Re-inserted, so the map's order is least recently used first.
    this.#levels.delete(key)
    if (tokens >= this.settings.burst) return
    this.#levels.set(key, { tokens, at: now })
    while (this.#levels.size > this.maxTracked) {
      const oldest = this.#levels.keys().next().value
      if (oldest === undefined) break
      this.#levels.delete(oldest)
    }
  }
}

/** An attempt allowed to be checked; say how it ended. */
export interface Reservation {
  /** The credential verified: the tokens go back. */
  succeeded(): void
  /** It did not: the tokens stay spent. */
  failed(): void
  /** The check could not be made (the store was down): the tokens go back. */
  cancelled(): void
}

export class FailureLimiter {
  readonly #clients: Buckets
  readonly #sources: Buckets

  constructor(
    limits: FailureLimits = {},
    private readonly now: () => number = Date.now,
  ) {
    const maxTracked = limits.maxTracked ?? DEFAULT_FAILURE_LIMITS.maxTracked
    this.#clients = new Buckets(limits.perClient ?? DEFAULT_FAILURE_LIMITS.perClient, maxTracked)
    this.#sources = new Buckets(limits.perSource ?? DEFAULT_FAILURE_LIMITS.perSource, maxTracked)
  }

  /** Buckets held (for tests and metrics). */
  get size(): number {
    return this.#clients.size + this.#sources.size
  }

  /** A token from each bucket, or how many seconds to wait when either is empty. */
  reserve(clientId: string, source: string | null): Reservation | { readonly retryAfterSeconds: number } {
    const now = this.now()
    const sourceKey = source === null ? null : sourceKeyOf(source)
    const waitMs = Math.max(
      this.#clients.waitMs(clientId, now),
      sourceKey === null ? 0 : this.#sources.waitMs(sourceKey, now),
    )
    if (waitMs > 0) return { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) }
    this.#clients.add(clientId, -1, now)
    if (sourceKey !== null) this.#sources.add(sourceKey, -1, now)
    let settled = false
    const giveBack = () => {
      if (settled) return
      settled = true
      const at = this.now()
      this.#clients.add(clientId, 1, at)
      if (sourceKey !== null) this.#sources.add(sourceKey, 1, at)
    }
    return {
      succeeded: giveBack,
      cancelled: giveBack,
      failed: () => {
        settled = true
      },
    }
  }
}

/**
 * One bucket per address, except IPv6: one per /64, the smallest block a host is given (it can use every address in
 * it). IPv4-mapped IPv6 addresses are their IPv4 address.
 */
export function sourceKeyOf(address: string): string {
  // A zone (`%eth0`) names the interface a link-local address is reached through, not another host.
  const value = address.trim().toLowerCase().split('%')[0] ?? ''
  if (!ipaddr.isValid(value)) return value
  // `process` turns an IPv4-mapped IPv6 address, dotted or not, into its IPv4 address.
  const parsed = ipaddr.process(value)
  if (parsed instanceof ipaddr.IPv4) return parsed.toString()
  return `${parsed.parts
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`
}
