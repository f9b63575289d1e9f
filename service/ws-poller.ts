// The graphql-ws poller on AWS: what feeds subscriptions whose sockets API Gateway holds (their state is in the table,
// store/ws-repository.ts). One scheduled run a minute; each takes a lease on every change-feed shard it can and polls
// those shards every tick until just before the next run is due, so one run at a time polls a shard. Per tick and
// shard: what changed since the shard's cursor (one Query), who watches each changed consent (one Query each), those
// consents (one BatchGetItem), and each watcher's stored document run against its consent and posted; each tenant
// whose changes have settled has its feed followers paged from their own cursors, each advanced conditionally before
// posting, so two pollers never both send an event; then the due pings. The reads follow the changes, not the number
// of watchers. The shard's cursor is stored as the tick ends, held back behind whatever is not fully handled (a
// feed waiting to settle, a delivery to retry), so a run that dies or a tick that fails is caught up from it by the
// next, and readers drop what they already sent (a consent stream's last version, a feed follower's cursor).
import type { Consent } from '../domain/consent.ts'
import { effectiveStatus } from '../domain/derived.ts'
import { isTerminal } from '../domain/status.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import { CHANGE_SHARDS } from '../store/keys.ts'
import type { StoredPrincipal } from '../store/stored-principal.ts'
import { WS_PING_INTERVAL_MS } from '../store/ws-connection-item.ts'
import type { WebSocketRepository } from '../store/ws-repository.ts'
import type { WsSubscription } from '../store/ws-subscription-item.ts'
import { readShardChanges, rewindCursor, startCursor, type ChangeSource, type ShardCursor } from './change-feed.ts'
import type { ConnectionSender } from './connection-sender.ts'
import type { EventFeed } from './event-feed.ts'
import type { Logger } from '../runtime/logging.ts'
import type { Principal, PrincipalStorage } from './principal.ts'
import { RunContext, type Outcome } from './ws-poller-run.ts'
import { currentDeadline } from '../runtime/request-scope.ts'

export interface WsPollerSettings {
  /**
   * How often each leased shard is polled (`SUBSCRIPTION_POLL_INTERVAL_MS`).
   * @default 1_000
   */
  readonly pollIntervalMs: number
  /**
   * The schedule's period: a run polls until `stopBeforeNextMs` before the next run is due.
   * @default 60_000
   */
  readonly periodMs: number
  /**
   * How long before the next run is due a run stops polling and gives its leases back.
   * @default 2_000
   */
  readonly stopBeforeNextMs: number
  /**
   * How long a lease outlasts its run's polling window: its last tick, storing the cursor, releasing. A run that dies
   * holds its shards until then at most; the next run takes them over from the stored cursor.
   * @default 3_000
   */
  readonly leaseGraceMs: number
  /**
   * How often a run asks again for a shard another run holds (the previous run finishing late, or dead).
   * @default 2_000
   */
  readonly leaseRetryMs: number
  /**
   * How often a connection is pinged: inside API Gateway's 10-minute idle limit.
   * @default WS_PING_INTERVAL_MS (5 minutes)
   */
  readonly pingIntervalMs: number
  /**
   * Due pings sent per tick and shard, at most (the rest stay due for the next tick).
   * @default 200
   */
  readonly pingsPerTick: number
  /**
   * Posts (and their reads) in flight at once per shard.
   * @default 32
   */
  readonly concurrency: number
  /**
   * Failed posts (anything but 410) after which a run gives up on a connection and closes it: its client reconnects,
   * resubscribes and gets the current state (consentUpdated) or resumes from its last cursor (consentEvents).
   * @default 3
   */
  readonly maxPostFailures: number
}

export const WS_POLLER_DEFAULTS: WsPollerSettings = {
  pollIntervalMs: 1_000,
  periodMs: 60_000,
  stopBeforeNextMs: 2_000,
  leaseGraceMs: 3_000,
  leaseRetryMs: 2_000,
  pingIntervalMs: WS_PING_INTERVAL_MS,
  pingsPerTick: 200,
  concurrency: 32,
  maxPostFailures: 3,
}

/** What a subscription stored of its operation. */
export interface PolledOperation {
  readonly query: string
  readonly variables: Record<string, unknown> | null
  readonly operationName: string | null
}

/**
 * Runs stored operations against changes (schema/stored-operations.ts): `forTick()` gives a runner for one tick (each
 * distinct text parsed once), which answers the `next` message's payload.
 */
export interface PollerOperations {
  forTick(): (operation: PolledOperation, principal: Principal, payload: unknown) => Promise<object>
}

export type WsPollerStore = Pick<
  WebSocketRepository,
  | 'getConnection'
  | 'setTrustedUntil'
  | 'deleteConnection'
  | 'deleteSubscription'
  | 'watchersOfConsent'
  | 'watchersOfTenantFeed'
  | 'getSubscription'
  | 'advanceCursor'
  | 'setLastVersion'
  | 'duePings'
  | 'schedulePing'
  | 'getPollerCursor'
  | 'putPollerCursor'
  | 'acquirePollerLease'
  | 'releasePollerLease'
>

export interface WsPollerDependencies {
  readonly store: WsPollerStore
  /** The change feed. */
  readonly changes: ChangeSource
  /** The changed consents. */
  readonly consents: Pick<ConsentRepository, 'getByRefs'>
  /** A tenant's feed, paged from a follower's cursor (settled events only). */
  readonly events: Pick<EventFeed, 'page'>
  readonly sender: ConnectionSender
  readonly principals: Pick<PrincipalStorage, 'restore'>
  readonly operations: PollerOperations
  /** The gateway's clock: what a consent shows (its effective status). */
  readonly clock: () => Date
  /**
   * The wall clock (epoch ms): event ids, leases, pings, deadlines.
   * @default Date.now
   */
  readonly wallClock?: () => number
  /** A run's id: its leases' token. */
  readonly newRunId: () => string
  readonly logger: Logger
}

export interface WsPollerReport {
  /** The shards this run polled (leased). */
  readonly shards: number[]
  /** Polls of every shard it held, side by side. */
  readonly ticks: number
  /** Changes read from the feed (each event once per run). */
  readonly changes: number
  /** `next` messages posted. */
  readonly sent: number
  /** Subscriptions completed (terminal status, deadline). */
  readonly completed: number
  /** Connections found gone (410, or removed meanwhile) and deleted. */
  readonly gone: number
  /** Connections closed because their credential no longer holds. */
  readonly lapsed: number
  readonly pinged: number
  /** Posts that failed (other than 410). */
  readonly failedPosts: number
  /** Polls of one shard that failed as a whole (read again next tick). */
  readonly failedTicks: number
  /** How long the run's longest tick took, every shard it held included. */
  readonly slowestTickMs: number
  readonly meanTickMs: number
}

/** Where a run is in one shard it holds. */
interface ShardState {
  cursor: ShardCursor
  /** Tenants whose feed followers are still to be paged for changes read: the first and last event id. */
  readonly feeds: Map<string, { first: string; last: string }>
  /** Changed consents with a delivery to retry next tick, by consent id; `first` is the event that brought it. */
  readonly retries: Map<string, { tenantId: string; consentId: string; first: string }>
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await fn(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/** The smaller of two ids (null: none). */
const minId = (a: string | null, b: string): string => (a === null || b < a ? b : a)

export class WsPoller {
  readonly #settings: WsPollerSettings
  readonly #wall: () => number

  constructor(
    private readonly deps: WsPollerDependencies,
    settings: Partial<WsPollerSettings> = {},
  ) {
    this.#settings = { ...WS_POLLER_DEFAULTS, ...settings }
    this.#wall = deps.wallClock ?? Date.now
  }

  /**
   * One scheduled run: leases what shards it can (and keeps asking for the others), polls them until just before
   * the next run is due (or the invocation's deadline), then stores each cursor and gives each lease back.
   */
  async run(): Promise<WsPollerReport> {
    const { pollIntervalMs, periodMs, stopBeforeNextMs, leaseGraceMs } = this.#settings
    const runId = this.deps.newRunId()
    const started = this.#wall()
    const pollUntil = Math.min(started + periodMs - stopBeforeNextMs, currentDeadline() ?? Number.POSITIVE_INFINITY)
    const leaseUntil = pollUntil + leaseGraceMs
    const run = new RunContext(this.deps, this.#settings, this.#wall)
    const held = new Map<number, ShardState>()
    const polled = new Set<number>()
    const nextAsk = new Map<number, number>()
    try {
      for (;;) {
        const tickStart = this.#wall()
        for (let shard = 0; shard < CHANGE_SHARDS; shard++) {
          if (held.has(shard) || (nextAsk.get(shard) ?? 0) > tickStart) continue
          const state = await this.#lease(shard, runId, leaseUntil)
          if (state) {
            held.set(shard, state)
            polled.add(shard)
          } else nextAsk.set(shard, tickStart + this.#settings.leaseRetryMs)
        }
        const runOperation = this.deps.operations.forTick()
        const tickStarted = performance.now()
        await Promise.all([...held].map(([shard, state]) => this.#tick(shard, state, run, runOperation)))
        run.stats.tick(performance.now() - tickStarted)
        if (tickStart + pollIntervalMs > pollUntil) break
        await sleep(tickStart + pollIntervalMs - this.#wall())
      }
    } finally {
      await Promise.all(
        [...held].map(async ([shard, state]) => {
          try {
            await this.deps.store.putPollerCursor(shard, this.#storable(state), new Date(this.#wall()))
          } catch (error) {
            // The cursor stored last (after the last tick that read changes) holds: those are read again.
            this.deps.logger.warn('storing the poller cursor failed', { shard, error })
          }
          await this.deps.store.releasePollerLease(shard, runId).catch((error: unknown) => {
            this.deps.logger.warn('releasing the poller lease failed; it expires by itself', { shard, error })
          })
        }),
      )
    }
    const { stats } = run
    return {
      shards: [...polled].sort((a, b) => a - b),
      ticks: stats.ticks,
      changes: stats.changes,
      sent: stats.sent,
      completed: stats.completed,
      gone: stats.gone,
      lapsed: stats.lapsed,
      pinged: stats.pinged,
      failedPosts: stats.failedPosts,
      failedTicks: stats.failedTicks,
      slowestTickMs: Math.round(stats.slowestTickMs * 10) / 10,
      meanTickMs: stats.ticks ? Math.round((stats.tickMs / stats.ticks) * 10) / 10 : 0,
    }
  }

  /** The shard's lease and where its last poller stopped; null while another run holds it. */
  async #lease(shard: number, runId: string, leaseUntil: number): Promise<ShardState | null> {
    const now = this.#wall()
    try {
      if (!(await this.deps.store.acquirePollerLease(shard, runId, new Date(now), Math.max(0, leaseUntil - now))))
        return null
    } catch (error) {
      this.deps.logger.warn('taking the poller lease failed; asking again', { shard, error })
      return null
    }
    try {
      let cursor = await this.deps.store.getPollerCursor(shard)
      if (!cursor) {
        // The shard's first run: stored now, so a run that dies before storing more is caught up from here.
        cursor = startCursor(this.#wall())
        await this.deps.store.putPollerCursor(shard, cursor, new Date(this.#wall()))
      }
      return { cursor, feeds: new Map(), retries: new Map() }
    } catch (error) {
      this.deps.logger.warn('reading the poller cursor failed; asking again', { shard, error })
      await this.deps.store.releasePollerLease(shard, runId).catch(() => undefined)
      return null
    }
  }

  /** The cursor to store: held back behind the first event not fully handled, so a dead run loses nothing. */
  #storable(state: ShardState): ShardCursor {
    let first: string | null = null
    for (const feed of state.feeds.values()) first = minId(first, feed.first)
    for (const retry of state.retries.values()) first = minId(first, retry.first)
    return first === null ? state.cursor : rewindCursor(state.cursor, first)
  }

  /** One poll of one shard. A tick that fails changes nothing: the next reads from the same cursor. */
  async #tick(
    shard: number,
    state: ShardState,
    run: RunContext,
    runOperation: ReturnType<PollerOperations['forTick']>,
  ): Promise<void> {
    let moved = false
    try {
      const readAt = this.#wall()
      const read = await readShardChanges(this.deps.changes, shard, state.cursor, readAt)
      for (const event of read.events) {
        const feed = state.feeds.get(event.tenantId)
        state.feeds.set(event.tenantId, {
          first: minId(feed?.first ?? null, event.id),
          last: feed && feed.last > event.id ? feed.last : event.id,
        })
      }
      const changed = new Map(state.retries)
      for (const event of read.events) {
        if (!changed.has(event.consentId))
          changed.set(event.consentId, { tenantId: event.tenantId, consentId: event.consentId, first: event.id })
      }
      // Independent of each other: side by side, so a tick lasts as long as the longest of them.
      await Promise.all([
        this.#deliverConsents([...changed.values()], state, run, runOperation),
        this.#deliverFeeds(read.settledBefore, state, run, runOperation),
        this.#ping(shard, run),
      ])
      state.cursor = read.cursor
      moved = read.events.length > 0
      run.stats.changes += read.events.length
    } catch (error) {
      run.stats.failedTicks++
      this.deps.logger.warn('poller tick failed; reading again from the same cursor next tick', { shard, error })
    }
    // Stored when it moved past changes; a quiet tick moves it only by the clock, and reading again from the one
    // stored before costs the same Query. A failed write leaves an older one: what follows it is handled again.
    if (moved) {
      await this.deps.store
        .putPollerCursor(shard, this.#storable(state), new Date(this.#wall()))
        .catch((error: unknown) => this.deps.logger.warn('storing the poller cursor failed', { shard, error }))
    }
  }

  /** Every watcher of each changed consent gets the consent's new version, or its stream's end. */
  async #deliverConsents(
    changed: { tenantId: string; consentId: string; first: string }[],
    state: ShardState,
    run: RunContext,
    runOperation: ReturnType<PollerOperations['forTick']>,
  ): Promise<void> {
    const watchers = new Map<string, WsSubscription[]>()
    await eachLimited(changed, this.#settings.concurrency, async (change) => {
      const subscriptions = await this.deps.store.watchersOfConsent(change.consentId)
      // Consent ids are unique across tenants; a watcher of another tenant's consent is never served one.
      const own = subscriptions.filter((subscription) => subscription.tenantId === change.tenantId)
      if (own.length > 0) watchers.set(change.consentId, own)
    })
    for (const change of changed) if (!watchers.has(change.consentId)) state.retries.delete(change.consentId)
    if (watchers.size === 0) return
    // One batch for every watched consent that changed, however many watch each.
    const consents = await this.deps.consents.getByRefs(changed.filter((change) => watchers.has(change.consentId)))
    const byId = new Map(consents.map((consent) => [consent.id, consent]))
    const deliveries: { subscription: WsSubscription; consent: Consent; change: (typeof changed)[number] }[] = []
    for (const change of changed) {
      const consent = byId.get(change.consentId)
      if (!consent) {
        state.retries.delete(change.consentId)
        continue
      }
      for (const subscription of watchers.get(change.consentId) ?? [])
        deliveries.push({ subscription, consent, change })
    }
    const retry = new Set<string>()
    await eachLimited(deliveries, this.#settings.concurrency, async ({ subscription, consent }) => {
      const outcome = await this.#deliverConsent(subscription, consent, run, runOperation).catch((error: unknown) =>
        run.failed(subscription.connectionId, 'sending a consent to its watcher failed', error),
      )
      if (outcome === 'retry') retry.add(consent.id)
    })
    for (const change of changed) {
      if (!watchers.has(change.consentId) || !byId.has(change.consentId)) continue
      if (retry.has(change.consentId)) state.retries.set(change.consentId, change)
      else state.retries.delete(change.consentId)
    }
  }

  async #deliverConsent(
    subscription: WsSubscription,
    consent: Consent,
    run: RunContext,
    runOperation: ReturnType<PollerOperations['forTick']>,
  ): Promise<Outcome> {
    if (subscription.deadline <= this.#wall()) return run.complete(subscription)
    // The index may lag behind the last version recorded; this run remembers what it sent itself.
    const lastVersion = Math.max(subscription.lastVersion ?? 0, run.sentVersion(subscription))
    if (consent.version <= lastVersion) return 'done'
    const trust = await run.trust(subscription.connectionId)
    if (trust.kind === 'gone') return 'done'
    if (trust.kind === 'unknown') return 'retry'
    const principal = this.#principal(subscription.principal)
    const { connectionId, operationId } = subscription
    // Sent first, then recorded: a run that dies between the two sends the same version again, never none.
    const posted = await run.post(connectionId, {
      id: operationId,
      type: 'next',
      payload: await runOperation(subscription, principal, consent),
    })
    if (posted !== 'sent') return posted
    run.stats.sent++
    run.sent(subscription, consent.version)
    let shown = consent
    if (!(await this.deps.store.setLastVersion(connectionId, operationId, consent.version))) {
      // Recorded at or past this version already. Past it: a newer one went out meanwhile (the subscribe handler's
      // catch-up, another run), perhaps before this one arrived: the newest is sent again, so the client ends on it.
      const stored = await this.deps.store.getSubscription(connectionId, operationId)
      if (!stored) return 'done'
      const [newest] =
        stored.lastVersion !== null && stored.lastVersion > consent.version
          ? await this.deps.consents.getByRefs([{ tenantId: consent.tenantId, consentId: consent.id }])
          : []
      if (newest) {
        const again = await run.post(connectionId, {
          id: operationId,
          type: 'next',
          payload: await runOperation(subscription, principal, newest),
        })
        if (again !== 'sent') return 'done'
        run.stats.sent++
        run.sent(subscription, newest.version)
        shown = newest
      }
    }
    if (isTerminal(effectiveStatus(shown, this.deps.clock()).status)) return run.complete(subscription)
    return 'done'
  }

  /** Each tenant whose changes have settled: its feed followers, each from its own cursor. */
  async #deliverFeeds(
    settledBefore: string,
    state: ShardState,
    run: RunContext,
    runOperation: ReturnType<PollerOperations['forTick']>,
  ): Promise<void> {
    const settled = [...state.feeds].filter(([, feed]) => feed.last < settledBefore).map(([tenantId]) => tenantId)
    await eachLimited(settled, this.#settings.concurrency, async (tenantId) => {
      const followers = await this.deps.store.watchersOfTenantFeed(tenantId).catch((error: unknown) => {
        // Paged again next tick.
        this.deps.logger.warn("reading a tenant's feed followers failed", { tenantId, error })
        return null
      })
      if (!followers) return
      // Followers at the same place share one read of the feed.
      const pages = new Map<string | null, ReturnType<EventFeed['page']>>()
      const pageFrom = (cursor: string | null) => {
        let page = pages.get(cursor)
        if (!page) pages.set(cursor, (page = this.deps.events.page({ tenantId }, FEED_PAGE, cursor)))
        return page
      }
      let pending = false
      await eachLimited(
        followers.filter((follower) => follower.tenantId === tenantId),
        this.#settings.concurrency,
        async (follower) => {
          const outcome = await this.#deliverFeed(follower, pageFrom, run, runOperation).catch((error: unknown) =>
            run.failed(follower.connectionId, "sending a tenant's events to a follower failed", error),
          )
          if (outcome === 'retry') pending = true
        },
      )
      if (!pending) state.feeds.delete(tenantId)
    })
  }

  async #deliverFeed(
    follower: WsSubscription,
    pageFrom: (cursor: string | null) => ReturnType<EventFeed['page']>,
    run: RunContext,
    runOperation: ReturnType<PollerOperations['forTick']>,
  ): Promise<Outcome> {
    if (follower.deadline <= this.#wall()) return run.complete(follower)
    const { connectionId, operationId } = follower
    // The index may lag behind the cursor last stored; this run remembers where it moved it itself.
    let from = run.feedCursor(follower) ?? follower.cursor
    for (let attempt = 0; ; attempt++) {
      const page = await pageFrom(from)
      if (page.edges.length === 0) return 'done'
      const trust = await run.trust(connectionId)
      if (trust.kind === 'gone') return 'done'
      if (trust.kind === 'unknown') return 'retry'
      const to = page.edges.at(-1)?.cursor ?? from
      // Moved before posting, only from where it was read: of two pollers, one sends.
      if (await this.deps.store.advanceCursor(connectionId, operationId, from, to)) {
        run.movedFeed(follower, to)
        return this.#sendFeedPage(follower, page, from, to, run, runOperation)
      }
      // Moved meanwhile (another poller, or a stale index read): from where it is now, strongly read.
      const current = await this.deps.store.getSubscription(connectionId, operationId)
      if (!current) return 'done'
      if (attempt >= 2) return 'retry'
      from = current.cursor
    }
  }

  async #sendFeedPage(
    follower: WsSubscription,
    page: Awaited<ReturnType<EventFeed['page']>>,
    from: string | null,
    to: string | null,
    run: RunContext,
    runOperation: ReturnType<PollerOperations['forTick']>,
  ): Promise<Outcome> {
    const { connectionId, operationId } = follower
    const principal = this.#principal(follower.principal)
    let sentUpTo = from
    for (const edge of page.edges) {
      const payload = await runOperation(follower, principal, edge)
      const posted = await run.post(connectionId, { id: operationId, type: 'next', payload })
      if (posted === 'done') return 'done'
      if (posted === 'retry') {
        // Back to the last event the client got, if nobody moved it meanwhile: the rest is sent again next tick.
        if (await this.deps.store.advanceCursor(connectionId, operationId, to, sentUpTo))
          run.movedFeed(follower, sentUpTo)
        return 'retry'
      }
      run.stats.sent++
      sentUpTo = edge.cursor
    }
    // More than a page behind: the rest next tick.
    return page.pageInfo.hasNextPage ? 'retry' : 'done'
  }

  /** Pings the shard's connections that are due, each after its credential check when that is due. */
  async #ping(shard: number, run: RunContext): Promise<void> {
    const due = await this.deps.store.duePings(shard, new Date(this.#wall()), this.#settings.pingsPerTick)
    await eachLimited(due, this.#settings.concurrency, async (connectionId) => {
      try {
        const trust = await run.trust(connectionId)
        if (trust.kind !== 'trusted') return
        const posted = await run.post(connectionId, { type: 'ping' })
        if (posted !== 'sent') return
        run.stats.pinged++
        await this.deps.store.schedulePing(connectionId, new Date(this.#wall() + this.#settings.pingIntervalMs))
      } catch (error) {
        // Still due: pinged again next tick.
        await run.failed(connectionId, 'pinging a connection failed', error)
      }
    })
  }

  #principal(stored: StoredPrincipal): Principal {
    return this.deps.principals.restore(stored)
  }
}

/** Feed events posted per follower and tick, at most (the rest follow next tick). */
const FEED_PAGE = 100
