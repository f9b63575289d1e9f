// What one run of the graphql-ws poller (ws-poller.ts) knows of the connections it sends to, across its ticks: whether
// each is there and its credential still trusted (read once per run, checked again once the trust runs out, a lapsed
// one closed), how often posting to it failed (given up on, and closed, after `maxPostFailures`), what it sent each
// subscription last, and the run's figures.
import type { WebSocketRepository } from '../store/ws-repository.ts'
import type { WsSubscription } from '../store/ws-subscription-item.ts'
import type { Logger } from '../runtime/logging.ts'
import type { ConnectionSender } from './connection-sender.ts'
import type { PrincipalStorage } from './principal.ts'

/** What a run reads and writes of its connections. */
export interface RunConnections {
  readonly store: Pick<
    WebSocketRepository,
    'getConnection' | 'setTrustedUntil' | 'deleteConnection' | 'deleteSubscription'
  >
  readonly sender: ConnectionSender
  readonly principals: Pick<PrincipalStorage, 'restore'>
  readonly logger: Logger
}

/** What a run knows of a connection: trusted until, gone, or not known (its check failed: try again). */
type Trust =
  { readonly kind: 'trusted'; readonly until: number } | { readonly kind: 'gone' } | { readonly kind: 'unknown' }

/** What became of a delivery: done with (sent, or its connection gone or given up on), or to retry next tick. */
export type Outcome = 'done' | 'retry'

class RunStats {
  ticks = 0
  tickMs = 0
  slowestTickMs = 0
  changes = 0
  sent = 0
  completed = 0
  gone = 0
  lapsed = 0
  pinged = 0
  failedPosts = 0
  failedTicks = 0

  /** One tick of the run (every shard it holds, polled side by side) took `ms`. */
  tick(ms: number): void {
    this.ticks++
    this.tickMs += ms
    this.slowestTickMs = Math.max(this.slowestTickMs, ms)
  }
}

const keyOf = (subscription: WsSubscription): string => `${subscription.connectionId}#${subscription.operationId}`

/** What one run knows across its ticks: its connections' credential checks, their failed posts, its figures. */
export class RunContext {
  readonly stats = new RunStats()
  readonly #trust = new Map<string, Promise<Trust>>()
  readonly #failures = new Map<string, number>()
  /** What this run sent each subscription last: a consent stream's version, a feed follower's cursor. */
  readonly #versions = new Map<string, number>()
  readonly #cursors = new Map<string, string | null>()

  constructor(
    private readonly deps: RunConnections,
    private readonly settings: { readonly maxPostFailures: number },
    private readonly wall: () => number,
  ) {}

  /**
   * Whether the connection is there and its credential trusted: read once per run and connection, and checked again
   * (the restored principal's `revalidate`) once its trust runs out. A lapsed one is closed and deleted.
   */
  async trust(connectionId: string): Promise<Trust> {
    const known = this.#trust.get(connectionId)
    if (known) {
      const trust = await known
      if (trust.kind === 'gone' || (trust.kind === 'trusted' && trust.until > this.wall())) return trust
      // Expired or not known: check again, once for everyone asking now.
      if (this.#trust.get(connectionId) !== known) return this.trust(connectionId)
    }
    const check = this.#check(connectionId)
    this.#trust.set(connectionId, check)
    return check
  }

  async #check(connectionId: string): Promise<Trust> {
    try {
      const connection = await this.deps.store.getConnection(connectionId)
      if (!connection) {
        // Gone, yet a subscription of it was found: what is left of it goes too (a subscribe whose invocation died
        // between storing it and reading its connection back, a $disconnect cut short after the connection item).
        await this.deps.store.deleteConnection(connectionId)
        return { kind: 'gone' }
      }
      if (!connection.principal) {
        // Due for its first ping and still not acknowledged: it never authenticated, and is closed.
        await this.deps.sender.close(connectionId).catch(() => undefined)
        await this.deps.store.deleteConnection(connectionId)
        return { kind: 'gone' }
      }
      if (connection.trustedUntil !== null && connection.trustedUntil > this.wall())
        return { kind: 'trusted', until: connection.trustedUntil }
      const until = await this.deps.principals.restore(connection.principal).revalidate()
      if (until === null) {
        this.stats.lapsed++
        await this.deps.sender.close(connectionId).catch(() => undefined)
        await this.deps.store.deleteConnection(connectionId)
        return { kind: 'gone' }
      }
      await this.deps.store.setTrustedUntil(connectionId, until)
      return { kind: 'trusted', until }
    } catch (error) {
      // Not known now (the store unavailable): nothing is sent to it this tick, and it is asked again next tick.
      this.deps.logger.warn('checking a connection failed; trying again next tick', { connectionId, error })
      return { kind: 'unknown' }
    }
  }

  /**
   * Posts one message. 'done': nothing more to do for it (sent, or the connection was gone and is deleted, or it
   * failed too often and is closed); 'retry': it failed, try again next tick.
   */
  async post(connectionId: string, message: object): Promise<'sent' | Outcome> {
    try {
      if ((await this.deps.sender.post(connectionId, message)) === 'sent') return 'sent'
      await this.gone(connectionId)
      return 'done'
    } catch (error) {
      this.stats.failedPosts++
      return this.failed(connectionId, 'posting to a connection failed', error)
    }
  }

  /**
   * Sending to a connection failed (a post, or a read or write about one of its subscriptions): 'retry' next tick,
   * or once it failed `maxPostFailures` times in the run, 'done' with it closed and deleted, so one connection never
   * holds its shard back for long. Its client reconnects and resubscribes from the present or its last cursor.
   */
  async failed(connectionId: string, what: string, error: unknown): Promise<Outcome> {
    const failures = (this.#failures.get(connectionId) ?? 0) + 1
    this.#failures.set(connectionId, failures)
    this.deps.logger.warn(what, { connectionId, failures, error })
    if (failures < this.settings.maxPostFailures) return 'retry'
    await this.deps.sender.close(connectionId).catch(() => undefined)
    await this.gone(connectionId).catch((cause: unknown) => {
      this.deps.logger.warn('deleting a connection given up on failed; its TTL removes it', { connectionId, cause })
    })
    return 'done'
  }

  sentVersion(subscription: WsSubscription): number {
    return this.#versions.get(keyOf(subscription)) ?? 0
  }

  sent(subscription: WsSubscription, version: number): void {
    this.#versions.set(keyOf(subscription), version)
  }

  /** Where this run moved the follower's cursor; undefined when it did not. */
  feedCursor(follower: WsSubscription): string | null | undefined {
    return this.#cursors.get(keyOf(follower))
  }

  movedFeed(follower: WsSubscription, cursor: string | null): void {
    this.#cursors.set(keyOf(follower), cursor)
  }

  /** The connection is no more: its items go (410, or given up on). */
  async gone(connectionId: string): Promise<void> {
    this.#trust.set(connectionId, Promise.resolve({ kind: 'gone' }))
    this.stats.gone++
    await this.deps.store.deleteConnection(connectionId)
  }

  /** Ends a subscription: `complete`, and its item goes. */
  async complete(subscription: WsSubscription): Promise<Outcome> {
    const { connectionId, operationId } = subscription
    const posted = await this.post(connectionId, { id: operationId, type: 'complete' })
    if (posted === 'retry') return 'retry'
    if (posted === 'sent') {
      this.stats.completed++
      await this.deps.store.deleteSubscription(connectionId, operationId)
    }
    return 'done'
  }
}
