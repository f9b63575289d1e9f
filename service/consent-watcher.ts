// Live consent updates for every subscriber of the process from one poll of what changed: while anyone watches, one
// loop reads the change feed (every shard from its cursor), reads the changed consents somebody watches in one batch,
// and hands each to its subscribers: `consentUpdated` streams by consent, `consentEvents` streams by tenant. The reads
// per tick follow the number of changes, never the number of subscribers; with nobody watching nothing is read. A
// consent stream ends on a terminal status, at its deadline, or at once when its subscriber goes away.
import type { Consent, ConsentEvent } from '../domain/consent.ts'
import { effectiveStatus } from '../domain/derived.ts'
import { isTerminal, type ConsentStatus } from '../domain/status.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import {
  FEED_SETTLE_MS,
  firstIdAt,
  readAllShards,
  startCursors,
  type ChangeSource,
  type ShardCursor,
} from './change-feed.ts'
import type { Logger } from '../runtime/logging.ts'

export interface WatcherOptions {
  /**
   * How often the change feed is polled while anyone watches.
   * @default 1_000
   */
  readonly pollIntervalMs?: number
  /**
   * The wall clock event ids are made with (epoch ms); the gateway's clock, which may be moved in tests, says what a
   * consent shows.
   * @default Date.now
   */
  readonly wallClock?: () => number
}

export interface WatchOptions {
  /** Epoch ms at which the stream completes even if the consent is still moving. */
  readonly deadline: number
  /** The subscriber's connection: aborting it ends the stream at once. */
  readonly signal?: AbortSignal | undefined
}

/** What the poller reads: the change feed and the changed consents. */
export interface WatcherStore {
  readonly events: ChangeSource
  readonly consents: Pick<ConsentRepository, 'getByRefs'>
}

/** A subscriber's queue as an async iterator whose `return()` takes effect immediately, even mid-wait. */
class PushStream<T> implements AsyncIterableIterator<T> {
  readonly #queue: T[] = []
  #waiting: ((result: IteratorResult<T>) => void) | null = null
  #ending = false
  #closed = false
  readonly #cleanups: (() => void)[] = []

  constructor(options: WatchOptions) {
    if (options.signal?.aborted) {
      this.#closed = true
      return
    }
    const timer = setTimeout(() => this.end(), Math.max(0, options.deadline - Date.now()))
    this.#cleanups.push(() => clearTimeout(timer))
    if (options.signal) {
      const signal = options.signal
      const onAbort = () => void this.return()
      signal.addEventListener('abort', onAbort, { once: true })
      this.#cleanups.push(() => signal.removeEventListener('abort', onAbort))
    }
  }

  get closed(): boolean {
    return this.#closed
  }

  get ending(): boolean {
    return this.#ending || this.#closed
  }

  /** Runs once the stream is closed (or now, when it already is). */
  onClose(cleanup: () => void): void {
    if (this.#closed) cleanup()
    else this.#cleanups.push(cleanup)
  }

  push(value: T): void {
    if (this.#closed || this.#ending) return
    if (this.#waiting) {
      const resolve = this.#waiting
      this.#waiting = null
      resolve({ value, done: false })
    } else {
      this.#queue.push(value)
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
    for (const cleanup of this.#cleanups.splice(0)) cleanup()
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.#queue.shift()
    if (value !== undefined) return Promise.resolve({ value, done: false })
    if (this.#ending || this.#closed) {
      this.#finish()
      return Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve) => (this.#waiting = resolve))
  }

  return(): Promise<IteratorResult<T>> {
    this.#finish()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

/** One `consentUpdated` subscriber: the last consent it was shown, and the status it showed then. */
class ConsentStream extends PushStream<Consent> {
  last: Consent
  lastShown: ConsentStatus

  constructor(
    readonly key: string,
    initial: Consent,
    now: Date,
    options: WatchOptions,
  ) {
    super(options)
    this.last = initial
    this.lastShown = effectiveStatus(initial, now).status
    this.push(initial)
    if (isTerminal(this.lastShown)) this.end()
  }

  show(consent: Consent, now: Date): void {
    if (this.ending) return
    this.last = consent
    this.lastShown = effectiveStatus(consent, now).status
    this.push(consent)
    if (isTerminal(this.lastShown)) this.end()
  }
}

/**
 * One `consentEvents` subscriber's live part: the tenant's events from the change feed, held until the subscriber has
 * caught up from its cursor (`resumeAfter`), then released in id order once settled, each once.
 */
export class TenantEventStream extends PushStream<ConsentEvent> {
  readonly #pending = new Map<string, ConsentEvent>()
  /** The last id handed out (or caught up to); nothing at or below it is handed out. */
  #released: string | null = null
  #live = false
  #settledBefore: string | null

  constructor(
    readonly tenantId: string,
    recent: readonly ConsentEvent[],
    settledBefore: string | null,
    options: WatchOptions,
  ) {
    super(options)
    this.#settledBefore = settledBefore
    for (const event of recent) this.#pending.set(event.id, event)
  }

  /** New events of the tenant from the feed, and how far the feed has settled. */
  offer(events: readonly ConsentEvent[], settledBefore: string): void {
    for (const event of events)
      if (this.#released === null || event.id > this.#released) this.#pending.set(event.id, event)
    this.#settledBefore = settledBefore
    if (this.#live) this.#release()
  }

  /** The subscriber has read the tenant's feed up to `eventId` (null: nothing at all): live events follow it. */
  resumeAfter(eventId: string | null): void {
    this.#released = eventId
    this.#live = true
    this.#release()
  }

  #release(): void {
    const bound = this.#settledBefore
    if (bound === null) return
    const due = [...this.#pending.keys()].filter((id) => id < bound).sort()
    for (const id of due) {
      const event = this.#pending.get(id)
      this.#pending.delete(id)
      if (!event || (this.#released !== null && id <= this.#released)) continue
      this.#released = id
      this.push(event)
    }
  }
}

const keyOf = (tenantId: string, consentId: string) => `${tenantId}/${consentId}`

/** How long the poller keeps the events it read, for `consentEvents` subscribers arriving meanwhile. */
const RECENT_MS = 2 * FEED_SETTLE_MS

export interface WatcherStats {
  /** Polls of the change feed done so far. */
  readonly ticks: number
  /** Changes read from the feed so far. */
  readonly changes: number
}

export class ConsentWatcher {
  readonly #streams = new Map<string, Set<ConsentStream>>()
  readonly #tenants = new Map<string, Set<TenantEventStream>>()
  readonly #pollIntervalMs: number
  readonly #wallClock: () => number
  #timer: NodeJS.Timeout | null = null
  #polling = false
  /** Where the poll is in each shard; null while nobody watches (then nothing is polled). */
  #cursors: ShardCursor[] | null = null
  #settledBefore: string | null = null
  /** The events read in the last {@link RECENT_MS}. */
  #recent: ConsentEvent[] = []
  /** Watched consents to read next tick whatever the feed says: they changed just before their subscriber came. */
  readonly #refresh = new Map<string, { tenantId: string; consentId: string }>()
  #ticks = 0
  #changes = 0

  constructor(
    private readonly store: WatcherStore,
    private readonly clock: () => Date,
    private readonly logger: Logger,
    options: WatcherOptions = {},
  ) {
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000
    this.#wallClock = options.wallClock ?? Date.now
  }

  /** Streams `initial` (the current state) and then every later version, until terminal, deadline or abort. */
  watch(initial: Consent, options: WatchOptions): AsyncIterableIterator<Consent> {
    const key = keyOf(initial.tenantId, initial.id)
    const stream = new ConsentStream(key, initial, this.clock(), options)
    if (stream.closed) return stream
    let set = this.#streams.get(key)
    if (!set) this.#streams.set(key, (set = new Set()))
    set.add(stream)
    // A change the poll read between the subscriber's read of the consent and now would not be read again.
    if (
      this.#recent.some(
        (e) => e.tenantId === initial.tenantId && e.consentId === initial.id && e.version > initial.version,
      )
    )
      this.#refresh.set(key, { tenantId: initial.tenantId, consentId: initial.id })
    stream.onClose(() => {
      const streams = this.#streams.get(key)
      streams?.delete(stream)
      if (streams?.size === 0) this.#streams.delete(key)
    })
    this.#start()
    return stream
  }

  /**
   * The live events of a tenant, for a `consentEvents` subscriber: registered before it reads its backlog, so nothing
   * committed meanwhile is missed; it calls `resumeAfter` with the last id it read, then gets what follows.
   */
  followTenant(tenantId: string, options: WatchOptions): TenantEventStream {
    const stream = new TenantEventStream(
      tenantId,
      this.#recent.filter((event) => event.tenantId === tenantId),
      this.#settledBefore,
      options,
    )
    if (stream.closed) return stream
    let set = this.#tenants.get(tenantId)
    if (!set) this.#tenants.set(tenantId, (set = new Set()))
    set.add(stream)
    stream.onClose(() => {
      const streams = this.#tenants.get(tenantId)
      streams?.delete(stream)
      if (streams?.size === 0) this.#tenants.delete(tenantId)
    })
    this.#start()
    return stream
  }

  /** Streams currently open (for tests and metrics). */
  get activeStreams(): number {
    let count = 0
    for (const set of this.#streams.values()) count += set.size
    for (const set of this.#tenants.values()) count += set.size
    return count
  }

  get stats(): WatcherStats {
    return { ticks: this.#ticks, changes: this.#changes }
  }

  /**
   * One poll now rather than at the next tick (tests count what one poll reads); the loop goes on on its timer.
   * Nothing is read while nobody watches.
   */
  async pollNow(): Promise<void> {
    if (this.#polling) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.#poll()
  }

  get #idle(): boolean {
    return this.#streams.size === 0 && this.#tenants.size === 0
  }

  #start(): void {
    // The feed is read from now (less the overlap): a subscriber's current state was read just before.
    this.#cursors ??= startCursors(this.#wallClock())
    this.#schedule()
  }

  #schedule(): void {
    if (this.#timer || this.#polling) return
    if (this.#idle) {
      // Nobody watches: stop reading; the next subscriber starts afresh from its own current state.
      this.#cursors = null
      this.#settledBefore = null
      this.#recent = []
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = null
      void this.#poll()
    }, this.#pollIntervalMs)
  }

  async #poll(): Promise<void> {
    this.#polling = true
    try {
      const cursors = this.#cursors
      if (!cursors || this.#idle) return
      const readAt = this.#wallClock()
      const read = await readAllShards(this.store.events, cursors, readAt)
      const changed = new Map(this.#refresh)
      for (const event of read.events) {
        const key = keyOf(event.tenantId, event.consentId)
        if (this.#streams.has(key)) changed.set(key, { tenantId: event.tenantId, consentId: event.consentId })
      }
      // One batch for every changed consent anyone watches, whoever watches it and however many do.
      const fresh = changed.size ? await this.store.consents.getByRefs([...changed.values()]) : []
      // Only a successful tick moves on: a failed one is read again, from the same cursors, next tick.
      for (const key of changed.keys()) this.#refresh.delete(key)
      this.#cursors = read.cursors
      this.#settledBefore = read.settledBefore
      this.#ticks++
      this.#changes += read.events.length
      const recentFrom = firstIdAt(readAt - RECENT_MS)
      this.#recent = [...this.#recent, ...read.events].filter((event) => event.id >= recentFrom)

      const now = this.clock()
      for (const consent of fresh) {
        for (const stream of this.#streams.get(keyOf(consent.tenantId, consent.id)) ?? []) {
          if (consent.version > stream.last.version) stream.show(consent, now)
        }
      }
      // Time alone can change what a consent shows (link or validity deadline passed): no read, the last one shown.
      for (const streams of this.#streams.values()) {
        for (const stream of streams) {
          // A copy: a subscription's request keeps each consent's derived state by object, for all its events.
          if (effectiveStatus(stream.last, now).status !== stream.lastShown) stream.show({ ...stream.last }, now)
        }
      }

      const byTenant = new Map<string, ConsentEvent[]>()
      for (const event of read.events) {
        if (!this.#tenants.has(event.tenantId)) continue
        const events = byTenant.get(event.tenantId)
        if (events) events.push(event)
        else byTenant.set(event.tenantId, [event])
      }
      for (const [tenantId, streams] of this.#tenants) {
        for (const stream of streams) stream.offer(byTenant.get(tenantId) ?? [], read.settledBefore)
      }
    } catch (error) {
      this.logger.warn('subscription poll failed; retrying next tick', { error })
    } finally {
      this.#polling = false
      this.#schedule()
    }
  }
}
