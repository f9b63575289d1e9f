// Load generation for the suites: one autocannon run against one HTTP target, with exact latency percentiles and
// correctness counts, and the small statistics (median, percentile) the suites report.
import autocannon from 'autocannon'

/** One HTTP request, sent over and over, and the exact answer it must get. */
export interface HttpTarget {
  readonly name: string
  readonly url: string
  readonly method: 'GET' | 'POST'
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
  /** Every answer must be exactly this body; any other counts as a mismatch. */
  readonly expectBody: string
}

export interface LoadOptions {
  readonly durationSec: number
  readonly connections: number
  /** Stops the load early; {@link measure} then rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined
}

export interface Measurement {
  readonly target: string
  /** Completed responses, whatever their status. */
  readonly requests: number
  readonly durationSec: number
  readonly reqPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly non2xx: number
  /** Connection errors, timeouts included. */
  readonly errors: number
  readonly timeouts: number
  /** 2xx or not, answers whose body was not `expectBody`. */
  readonly mismatches: number
}

/** Nearest-rank percentile of `values` (0 < p <= 100); NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] ?? Number.NaN
}

/** Median of `values` (mean of the middle two for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

/**
 * Loads `target` with `connections` keep-alive connections (no pipelining) for `durationSec`, then reports
 * throughput, latency percentiles and every kind of failure.
 *
 * Latencies come from each response's own timing (sub-millisecond), not from autocannon's histogram, which
 * rounds to whole milliseconds: too coarse for answers that take 1-3 ms.
 *
 * @example
 * const m = await measure({ name: 'raw', url, method: 'GET', headers: {}, expectBody: 'ok' }, { durationSec: 5, connections: 10 })
 */
export async function measure(target: HttpTarget, options: LoadOptions): Promise<Measurement> {
  options.signal?.throwIfAborted()
  const latencies: number[] = []
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: target.method,
        headers: { ...target.headers },
        ...(target.body === undefined ? {} : { body: target.body }),
        expectBody: target.expectBody,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationSec,
        // A stalled server shows up as timeouts within the round instead of hanging it.
        timeout: 10,
      },
      (error: unknown, done) => {
        options.signal?.removeEventListener('abort', stop)
        if (error) reject(error instanceof Error ? error : new Error(`autocannon failed: ${JSON.stringify(error)}`))
        else resolve(done)
      },
    )
    const stop = () => instance.stop()
    options.signal?.addEventListener('abort', stop, { once: true })
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime))
  })
  options.signal?.throwIfAborted()
  const requests = result.requests.total
  return {
    target: target.name,
    requests,
    durationSec: result.duration,
    reqPerSec: result.duration > 0 ? requests / result.duration : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
  }
}
