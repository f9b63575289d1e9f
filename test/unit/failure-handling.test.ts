// offline: the pieces behind "the store is down" and "someone is guessing secrets": which store errors mean an outage,
// the failure log's one line per kind per interval, the store probe's cache and /healthz's answer, the failure
// limiter's buckets and source keys, and a stream ending when its credential lapses.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ServiceUnavailableError, UnauthorizedError } from '../../domain/errors.ts'
import type { HttpEnv } from '../../http/env.ts'
import { health as healthRoute } from '../../http/health.ts'
import { untilCredentialLapses } from '../../service/credential-lapse.ts'
import { FailureLimiter, sourceKeyOf } from '../../service/failure-limiter.ts'
import { FailureLog, withoutStoreOutageLines } from '../../service/failure-log.ts'
import { StoreHealth } from '../../service/store-health.ts'
import { asServiceUnavailable, storeFailureReason } from '../../store/unavailable.ts'
import type { Logger } from '../../runtime/logging.ts'

function recording() {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = []
  const logger = Object.fromEntries(
    (['debug', 'info', 'warn', 'error'] as const).map((level) => [
      level,
      (message: string, extra?: Record<string, unknown>) => lines.push({ level, message, ...(extra ? { extra } : {}) }),
    ]),
  ) as unknown as Logger
  return { lines, logger }
}

const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:8000`), { code })
const sdkError = (name: string, status = 400) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } })

describe('store failures that mean "unavailable"', () => {
  it.each([
    ['a refused connection', socketError('ECONNREFUSED'), 'connection_refused'],
    ['a reset connection', socketError('ECONNRESET'), 'connection_reset'],
    ['a timed out connection', socketError('ETIMEDOUT'), 'timeout'],
    ['an unresolvable host', socketError('ENOTFOUND'), 'network_error'],
    [
      'every address of a host refusing',
      Object.assign(new AggregateError([socketError('ECONNREFUSED')]), { code: undefined }),
      'connection_refused',
    ],
    ['the SDK giving up waiting', sdkError('TimeoutError', 0), 'timeout'],
    ['throttling', sdkError('ProvisionedThroughputExceededException'), 'throttled'],
    ['request limits', sdkError('RequestLimitExceeded'), 'throttled'],
    ['an error on DynamoDB’s side', sdkError('InternalServerError', 500), 'store_error'],
    ['DynamoDB unavailable', sdkError('ServiceUnavailable', 503), 'store_error'],
    ['any 5xx', sdkError('SomethingNew', 502), 'store_error'],
    [
      'a transaction cancelled by throttling only',
      Object.assign(sdkError('TransactionCanceledException'), {
        CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }],
      }),
      'throttled',
    ],
  ])('recognises %s', (_name, error, reason) => {
    expect(storeFailureReason(error)).toBe(reason)
    const unavailable = asServiceUnavailable(error)
    expect(unavailable).toBeInstanceOf(ServiceUnavailableError)
    expect(unavailable?.cause).toBe(error)
    expect(unavailable?.message).not.toMatch(/ECONN|127\.0\.0\.1|Exception/)
    expect(unavailable?.retryAfterSeconds).toBeGreaterThanOrEqual(1)
  })

  it.each([
    [
      'a failed condition',
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
    ],
    [
      'a transaction cancelled by a condition',
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'ThrottlingError' }],
      }),
    ],
    ['a validation error', sdkError('ValidationException')],
    ['a missing table', sdkError('ResourceNotFoundException')],
    ['a bug of ours', new TypeError('x is undefined')],
  ])('leaves %s alone', (_name, error) => {
    expect(storeFailureReason(error)).toBeNull()
    expect(asServiceUnavailable(error)).toBeNull()
  })
})

describe('the failure log', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('logs the first failure of a kind at once, then one line per interval with the count, then goes quiet', () => {
    const { lines, logger } = recording()
    const log = new FailureLog(logger, { intervalMs: 10_000 })
    const record = () =>
      log.record('store unavailable/connection_refused', {
        message: 'store unavailable',
        level: 'error',
        fields: { reason: 'connection_refused' },
      })
    for (let i = 0; i < 500; i++) record()
    expect(lines).toEqual([
      {
        level: 'error',
        message: 'store unavailable',
        extra: { reason: 'connection_refused', count: 1, intervalSeconds: 10 },
      },
    ])
    vi.advanceTimersByTime(10_000)
    expect(lines).toHaveLength(2)
    expect(lines[1]?.extra).toMatchObject({ count: 499 })
    // A quiet interval: nothing written; the next failure is news again, at once.
    vi.advanceTimersByTime(10_000)
    expect(lines).toHaveLength(2)
    record()
    expect(lines).toHaveLength(3)
    expect(lines[2]?.extra).toMatchObject({ count: 1 })
  })

  it('keeps kinds apart and bounds what it tallies', () => {
    const { lines, logger } = recording()
    const log = new FailureLog(logger, { intervalMs: 10_000, maxTallied: 3 })
    for (let i = 0; i < 100; i++) {
      log.record('authentication failed', { message: 'authentication failed', tally: { clientIds: `id-${i % 10}` } })
      log.record('authentication rate limited', { message: 'rate limited', tally: { clientIds: 'id-0' } })
    }
    log.flush()
    const failed = lines.filter((line) => line.message === 'authentication failed')
    expect(failed.map((line) => line.extra?.count)).toEqual([1, 99])
    expect(Object.keys(failed[1]?.extra?.clientIds as object)).toHaveLength(4)
    expect(failed[1]?.extra?.clientIds).toEqual({ 'id-1': 10, 'id-2': 10, 'id-3': 10, '(others)': 69 })
    expect(lines.filter((line) => line.message === 'rate limited').map((line) => line.extra?.count)).toEqual([1, 99])
  })

  it('leaves out the per-request lines of a store outage, which it counts already', () => {
    const { lines, logger } = recording()
    const quiet = withoutStoreOutageLines(logger)
    const outage = new ServiceUnavailableError('connection_refused', 5, { cause: socketError('ECONNREFUSED') })
    quiet.error('job deliver-webhooks failed', { error: outage })
    quiet.warn('subscription poll failed', { error: new Error('wrapped', { cause: outage }) })
    quiet.error('request failed', { error: new TypeError('a bug') })
    expect(lines.map((line) => line.message)).toEqual(['request failed'])
  })
})

describe('the store probe behind /healthz', () => {
  it('runs one probe at a time and reuses its answer for the cache period', async () => {
    let now = 1_000
    let probes = 0
    let up = true
    const health = new StoreHealth(
      async () => {
        probes++
        if (!up) throw new ServiceUnavailableError('connection_refused', 5)
      },
      { cacheMs: 5_000 },
      () => now,
    )
    expect(await Promise.all(Array.from({ length: 50 }, () => health.check()))).toEqual(Array(50).fill('ok'))
    expect(probes).toBe(1)
    up = false
    now += 4_999
    expect(await health.check()).toBe('ok')
    expect(probes).toBe(1)
    now += 1
    expect(await health.check()).toBe('unavailable')
    expect(probes).toBe(2)
    const answer = await new Hono<HttpEnv>().get('/healthz', healthRoute(health)).request('/healthz')
    expect(answer.status).toBe(503)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.headers.get('retry-after')).toBe('5')
    expect(await answer.json()).toEqual({ status: 'unavailable', store: 'unavailable' })
  })

  it('counts a probe slower than its timeout as unavailable', async () => {
    const health = new StoreHealth(
      (signal) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      { timeoutMs: 20 },
    )
    expect(await health.check()).toBe('unavailable')
  })
})

describe('the failure limiter', () => {
  it('gives tokens back for successes and for checks the store could not make', () => {
    const now = 0
    const limiter = new FailureLimiter({ perClient: { burst: 1, refillPerMinute: 1 } }, () => now)
    for (let i = 0; i < 5; i++) {
      const reservation = limiter.reserve('client-a', '192.0.2.1')
      if (!('succeeded' in reservation)) throw new Error('limited')
      if (i % 2) reservation.succeeded()
      else reservation.cancelled()
    }
    const last = limiter.reserve('client-a', '192.0.2.1')
    if (!('failed' in last)) throw new Error('limited')
    last.failed()
    expect(limiter.reserve('client-a', '192.0.2.1')).toEqual({ retryAfterSeconds: 60 })
  })

  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    // The same IPv4-mapped address written in hex is the same host, not one of the ::/64 bucket's.
    ['::ffff:c000:201', '192.0.2.1'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('keys source %s as %s', (address, key) => {
    expect(sourceKeyOf(address)).toBe(key)
  })
})

describe('a stream whose credential lapses', () => {
  // Time is the subject here: the credential is checked again when its trust runs out, on fake timers.
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  /** A source that never ends on its own: only the lapse can stop it. */
  async function* forever() {
    for (let i = 0; ; i++) yield i
  }

  it('ends with one last item naming why, and stops its source', async () => {
    let checks = 0
    let valid = true
    let stopped = false
    const source = forever()
    const stop = source.return.bind(source)
    source.return = (value) => {
      stopped = true
      return stop(value)
    }
    const stream = untilCredentialLapses(
      source,
      async () => {
        checks++
        return valid ? Date.now() + 10 : null
      },
      (error) => (error instanceof UnauthorizedError ? -1 : -2),
    )
    const seen: number[] = []
    for await (const value of stream) {
      seen.push(value)
      if (checks >= 3) valid = false
      // Each check trusts the credential for 10 ms: two items per trust period.
      await vi.advanceTimersByTimeAsync(5)
    }
    expect(checks).toBe(4)
    expect(seen.at(-1)).toBe(-1)
    expect(seen.slice(0, -1).every((value) => value >= 0)).toBe(true)
    expect(stopped).toBe(true)
  })

  it('ends when the credential cannot be checked, with that error', async () => {
    const stream = untilCredentialLapses(
      forever(),
      async () => {
        throw new ServiceUnavailableError('timeout', 5)
      },
      (error) => (error instanceof ServiceUnavailableError ? -2 : -1),
    )
    const seen: number[] = []
    for await (const value of stream) seen.push(value)
    expect(seen.at(-1)).toBe(-2)
  })
})
