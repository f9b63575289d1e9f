// Live consent updates by polling the store: one loop per process reads the versions of every watched consent in a
// single batch per tick, fetches only the consents that changed, and hands each change to its subscribers. A stream
// ends on a terminal status, at its deadline, or at once when its subscriber goes away.
import type { Consent } from '../domain/consent.ts'
import { effectiveStatus } from '../domain/derived.ts'
import { isTerminal, type ConsentStatus } from '../domain/status.ts'
import type { Logger } from '../providers/adapter.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'

export interface WatcherOptions {
  /**
   * How often the store is polled while anyone watches.
   * @default 1_000
   */
  readonly pollIntervalMs?: number
}

export interface WatchOptions {
  /** Epoch ms at which the stream completes even if the consent is still moving. */
  readonly deadline: number
  /** The subscriber's connection: aborting it ends the stream at once. */
  readonly signal?: AbortSignal | undefined
}

/** One subscriber's stream: an async iterator whose `return()` takes effect immediately, even mid-wait. */
class ConsentStream implements AsyncIterableIterator<Consent> {
  readonly #queue: Consent[] = []
  #waiting: ((result: IteratorResult<Consent>) => void) | null = null
  #ending = false
  #closed = false
  /** The last consent handed out and the status it showed then. */
  last: Consent
  lastShown: ConsentStatus

  constructor(
    readonly key: string,
    initial: Consent,
    now: Date,
    private readonly onClose: (stream: ConsentStream) => void,
  ) {
    this.last = initial
    this.lastShown = effectiveStatus(initial, now).status
    this.#queue.push(initial)
    if (isTerminal(this.lastShown)) this.#ending = true
  }

  push(consent: Consent, now: Date): void {
    if (this.#closed || this.#ending) return
    this.last = consent
    this.lastShown = effectiveStatus(consent, now).status
    if (isTerminal(this.lastShown)) this.#ending = true
    if (this.#waiting) {
      const resolve = this.#waiting
      this.#waiting = null
      resolve({ value: consent, done: false })
    } else {
      this.#queue.push(consent)
    }
  }

  /** Completes after what is queued has been read. */
  end(): void {
    this.#ending = true
    if (this.#waiting && this.#queue.length === 0) this.#finish()
  }

  #finish(): void {
    if (this.#closed) return
    this.#closed = true
    this.#queue.length = 0
    const resolve = this.#waiting
    this.#waiting = null
    resolve?.({ value: undefined, done: true })
    this.onClose(this)
  }

  next(): Promise<IteratorResult<Consent>> {
    const value = this.#queue.shift()
    if (value) return Promise.resolve({ value, done: false })
    if (this.#ending || this.#closed) {
      this.#finish()
      return Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve) => (this.#waiting = resolve))
  }

  return(): Promise<IteratorResult<Consent>> {
    this.#finish()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

const keyOf = (tenantId: string, consentId: string) => `${tenantId}/${consentId}`

export class ConsentWatcher {
  readonly #streams = new Map<string, Set<ConsentStream>>()
  readonly #pollIntervalMs: number
  #timer: NodeJS.Timeout | null = null
  #polling = false

  constructor(
    private readonly consents: ConsentRepository,
    private readonly clock: () => Date,
    private readonly logger: Logger,
    options: WatcherOptions = {},
  ) {
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000
  }

  /** Streams `initial` (the current state) and then every later version, until terminal, deadline or abort. */
  watch(initial: Consent, options: WatchOptions): AsyncIterableIterator<Consent> {
    const key = keyOf(initial.tenantId, initial.id)
    const cleanups: (() => void)[] = []
    const stream = new ConsentStream(key, initial, this.clock(), (closed) => {
      for (const cleanup of cleanups) cleanup()
      const set = this.#streams.get(closed.key)
      set?.delete(closed)
      if (set?.size === 0) this.#streams.delete(closed.key)
    })
    if (options.signal?.aborted) {
      void stream.return()
      return stream
    }
    const timer = setTimeout(() => stream.end(), Math.max(0, options.deadline - Date.now()))
    cleanups.push(() => clearTimeout(timer))
    if (options.signal) {
      const signal = options.signal
      const onAbort = () => void stream.return()
      signal.addEventListener('abort', onAbort, { once: true })
      cleanups.push(() => signal.removeEventListener('abort', onAbort))
    }
    let set = this.#streams.get(key)
    if (!set) this.#streams.set(key, (set = new Set()))
    set.add(stream)
    this.#schedule()
    return stream
  }

  /** Streams currently open (for tests and metrics). */
  get activeStreams(): number {
    let count = 0
    for (const set of this.#streams.values()) count += set.size
    return count
  }

  #schedule(): void {
    if (this.#timer || this.#polling || this.#streams.size === 0) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      void this.#poll()
    }, this.#pollIntervalMs)
  }

  async #poll(): Promise<void> {
    this.#polling = true
    try {
      const watched = [...this.#streams.entries()].flatMap(([key, set]) => {
        const any = set.values().next().value
        return any ? [{ key, tenantId: any.last.tenantId, consentId: any.last.id, set }] : []
      })
      if (watched.length === 0) return
      const versions = await this.consents.versions(watched)
      const changed = watched.filter(({ consentId, set }) =>
        [...set].some((stream) => (versions.get(consentId) ?? 0) > stream.last.version),
      )
      // Map.groupBy needs Node 21; this runs on Node 20 too.
      const byTenant = new Map<string, typeof changed>()
      for (const entry of changed) byTenant.set(entry.tenantId, [...(byTenant.get(entry.tenantId) ?? []), entry])
      const fresh = new Map<string, Consent>()
      for (const [tenantId, entries] of byTenant) {
        const consents = await this.consents.getMany(
          tenantId,
          entries.map((entry) => entry.consentId),
        )
        for (const consent of consents) if (consent) fresh.set(keyOf(consent.tenantId, consent.id), consent)
      }
      const now = this.clock()
      for (const { key, set } of watched) {
        const latest = fresh.get(key)
        for (const stream of set) {
          if (latest && latest.version > stream.last.version) stream.push(latest, now)
          // Time alone can change what a consent shows (link or validity deadline passed).
          else if (effectiveStatus(stream.last, now).status !== stream.lastShown) stream.push(stream.last, now)
        }
      }
    } catch (error) {
      this.logger.warn('subscription poll failed; retrying next tick', { error })
    } finally {
      this.#polling = false
      this.#schedule()
    }
  }
}
