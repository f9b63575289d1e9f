// Delivers a sandbox's webhooks: an in-memory queue of signed POSTs, retried with backoff; drop/duplicate controls.
import { ulid } from 'ulid'

/** Produces the provider's signature headers for one raw body; called again for every attempt (keys may rotate). */
export type WebhookSigner = (body: string) => Promise<Record<string, string>>

export interface WebhookRetryPolicy {
  /**
   * Attempts per delivery, the first one included.
   * @default 6
   */
  maxAttempts: number
  /**
   * Wait before the second attempt; later waits grow by `factor`.
   * @default 200
   */
  baseDelayMs: number
  /**
   * Growth of the wait between attempts.
   * @default 2
   */
  factor: number
  /**
   * Longest wait between two attempts.
   * @default 10_000
   */
  maxDelayMs: number
  /**
   * How long one attempt may take before it counts as a network error.
   * @default 5_000
   */
  attemptTimeoutMs: number
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 200,
  factor: 2,
  maxDelayMs: 10_000,
  attemptTimeoutMs: 5_000,
}

export interface WebhookDispatcherOptions extends Partial<WebhookRetryPolicy> {
  sign: WebhookSigner
}

/** `pending` covers waiting, in flight and waiting for a retry. */
export type DeliveryState = 'pending' | 'delivered' | 'dropped' | 'failed'

export interface DeliveryRecord {
  id: string
  url: string
  /** The raw body, byte for byte what was (or would have been) signed and sent. */
  body: string
  attempts: number
  /** HTTP status of the last attempt; null before any answer or after a network error. */
  lastStatus: number | null
  lastError: string | null
  state: DeliveryState
  /** True for the extra copy made by `duplicateNext`. */
  duplicate: boolean
  enqueuedAt: string
  settledAt: string | null
}

/** The dispatcher's controls, as the control API reports them. */
export interface WebhookControls {
  dropNext: number
  duplicateNext: number
  delayMs: number
}

export class WebhookDispatcher {
  readonly #sign: WebhookSigner
  readonly #policy: WebhookRetryPolicy
  #log: DeliveryRecord[] = []
  #pending = 0
  #idleWaiters: Array<() => void> = []
  readonly #timers = new Set<NodeJS.Timeout>()
  #abort = new AbortController()
  #dropNext = 0
  #duplicateNext = 0
  #closed = false

  /** Wait before the first attempt of every delivery, to let tests observe "not yet delivered". */
  delayMs = 0

  constructor(options: WebhookDispatcherOptions) {
    const { sign, ...policy } = options
    this.#sign = sign
    this.#policy = { ...DEFAULT_WEBHOOK_RETRY, ...definedOnly(policy) }
  }

  get retryPolicy(): Readonly<WebhookRetryPolicy> {
    return this.#policy
  }

  /** The next `count` deliveries are logged as `dropped` and never sent. */
  dropNext(count: number): void {
    this.#dropNext = wholeCount(count, 'dropNext')
  }

  /** The next `count` deliveries are sent twice, as two independent deliveries. */
  duplicateNext(count: number): void {
    this.#duplicateNext = wholeCount(count, 'duplicateNext')
  }

  controls(): WebhookControls {
    return { dropNext: this.#dropNext, duplicateNext: this.#duplicateNext, delayMs: this.delayMs }
  }

  /** Queues a POST of `body` to `url`; returns the delivery records created (none sent yet). */
  enqueue(url: string, body: string): DeliveryRecord[] {
    if (this.#dropNext > 0) {
      this.#dropNext -= 1
      const dropped = this.#record(url, body, false)
      dropped.state = 'dropped'
      dropped.settledAt = new Date().toISOString()
      return [{ ...dropped }]
    }
    const copies = [this.#record(url, body, false)]
    if (this.#duplicateNext > 0) {
      this.#duplicateNext -= 1
      copies.push(this.#record(url, body, true))
    }
    for (const delivery of copies) {
      if (this.#closed) continue
      this.#pending += 1
      this.#later(this.delayMs, () => this.#attempt(delivery))
    }
    return copies.map((delivery) => ({ ...delivery }))
  }

  /** The delivery log in enqueue order (copies). */
  deliveries(): DeliveryRecord[] {
    return this.#log.map((delivery) => ({ ...delivery }))
  }

  /** Resolves once nothing is waiting, in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.#pending === 0 || this.#closed) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Forgets the log and the controls; pending deliveries are abandoned (their state stays `pending`). */
  reset(): void {
    this.#abandonPending()
    this.#log = []
    this.#dropNext = 0
    this.#duplicateNext = 0
    this.delayMs = 0
    this.#abort = new AbortController()
  }

  /** Stops every timer and in-flight attempt; pending retries are abandoned and `idle()` resolves. */
  close(): void {
    this.#closed = true
    this.#abandonPending()
  }

  #record(url: string, body: string, duplicate: boolean): DeliveryRecord {
    const delivery: DeliveryRecord = {
      id: ulid(),
      url,
      body,
      attempts: 0,
      lastStatus: null,
      lastError: null,
      state: 'pending',
      duplicate,
      enqueuedAt: new Date().toISOString(),
      settledAt: null,
    }
    this.#log.push(delivery)
    return delivery
  }

  async #attempt(delivery: DeliveryRecord): Promise<void> {
    // A reset or close between scheduling and now means the delivery was abandoned.
    const abort = this.#abort
    if (abort.signal.aborted) return
    delivery.attempts += 1
    try {
      const headers = { 'content-type': 'application/json', ...(await this.#sign(delivery.body)) }
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(this.#policy.attemptTimeoutMs)]),
      })
      // Read the answer fully so the connection goes back to the pool.
      await response.arrayBuffer()
      delivery.lastStatus = response.status
      delivery.lastError = response.ok ? null : `HTTP ${response.status}`
    } catch (error) {
      delivery.lastStatus = null
      delivery.lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    }
    if (abort.signal.aborted) return
    if (delivery.lastStatus !== null && delivery.lastStatus >= 200 && delivery.lastStatus < 300) {
      this.#settle(delivery, 'delivered')
    } else if (delivery.attempts >= this.#policy.maxAttempts) {
      this.#settle(delivery, 'failed')
    } else {
      this.#later(this.#backoffMs(delivery.attempts), () => this.#attempt(delivery))
    }
  }

  /** Wait after attempt number `attempts`: base, base*factor, base*factor^2, ... capped at maxDelayMs. */
  #backoffMs(attempts: number): number {
    const { baseDelayMs, factor, maxDelayMs } = this.#policy
    return Math.min(maxDelayMs, baseDelayMs * factor ** (attempts - 1))
  }

  #settle(delivery: DeliveryRecord, state: 'delivered' | 'failed'): void {
    delivery.state = state
    delivery.settledAt = new Date().toISOString()
    this.#pending -= 1
    if (this.#pending === 0) this.#wakeIdleWaiters()
  }

  #later(ms: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      void run()
    }, ms)
    this.#timers.add(timer)
  }

  #abandonPending(): void {
    this.#abort.abort()
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.#pending = 0
    this.#wakeIdleWaiters()
  }

  #wakeIdleWaiters(): void {
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const wake of waiters) wake()
  }
}

function wholeCount(count: number, name: string): number {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`${name} needs a whole count >= 0, got ${count}`)
  return count
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>
}
