// A tenant's history feed: every event of every consent, in order, resumable from a cursor with no gaps. Events are
// ordered by their ULIDs (time first). A writer takes its event's id just before its transaction, so an event with a
// smaller id can still commit after a larger one has: the feed therefore serves only ids older than a settling window,
// by when every transaction that took a smaller id has committed or failed. The window is on the wall clock, the
// clock the ids are made with. Live, the feed is read page by page up to the subscriber's present, then taken from
// the process's one poll of the change feed (service/consent-watcher.ts), in the same order, with no gap in between.
import type { ConsentEvent } from '../domain/consent.ts'
import type { EventRepository } from '../store/event-repository.ts'
import { CursorCodec, queryFingerprint } from '../store/cursor.ts'
import { FEED_SETTLE_MS, firstIdAt } from './change-feed.ts'
import type { ConsentWatcher, TenantEventStream } from './consent-watcher.ts'
import { tenantWide, type AccessScope } from './principal.ts'

export { FEED_SETTLE_MS } from './change-feed.ts'

export interface EventFeedPage {
  readonly edges: { node: ConsentEvent; cursor: string }[]
  readonly pageInfo: {
    readonly hasNextPage: boolean
    readonly hasPreviousPage: boolean
    readonly startCursor: string | null
    readonly endCursor: string | null
  }
}

export interface FollowOptions {
  /** Epoch ms: the stream completes then. */
  readonly deadline: number
  /** Fires when the client goes away: the stream stops at once. */
  readonly signal?: AbortSignal | undefined
}

type FeedItem = { node: ConsentEvent; cursor: string }

export class EventFeed {
  readonly #cursors: CursorCodec

  constructor(
    private readonly events: Pick<EventRepository, 'eventsOfTenant'>,
    /** The process's one poll of the change feed, which live subscribers take new events from. */
    private readonly changes: Pick<ConsentWatcher, 'followTenant'>,
    cursorSecret: string,
    private readonly wallClock: () => number = Date.now,
  ) {
    this.#cursors = new CursorCodec(cursorSecret)
  }

  /**
   * The feed as a stream (the `consentEvents` subscription): every event after `after`, then each new one as it
   * settles; completes at the deadline. Each item carries its cursor, to resume from after a disconnect. A malformed
   * or foreign cursor throws before anything is streamed. Tenant-wide: FORBIDDEN to an end user's token.
   */
  follow(scope: AccessScope, after: string | null, options: FollowOptions): AsyncIterableIterator<FeedItem> {
    const tenantId = tenantWide(scope)
    const position = after === null ? null : this.#cursors.decode(after, this.#fingerprint(tenantId))
    // Taken before the backlog is read: what commits while it is read reaches the stream too.
    const live = this.changes.followTenant(tenantId, options)
    const stream = this.#follow(tenantId, after, position, live)
    return {
      next: () => stream.next(),
      // Ends the live part at once, so a generator waiting on it finishes instead of waiting for a next event.
      return: async () => {
        await live.return()
        return stream.return(undefined)
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }

  async *#follow(
    tenantId: string,
    after: string | null,
    position: string | null,
    live: TenantEventStream,
  ): AsyncGenerator<FeedItem, void, undefined> {
    try {
      let cursor = after
      let last = position
      // The backlog, page by page up to the settling bound, as `consentEvents` queries read it.
      for (;;) {
        if (live.closed) return
        const page = await this.page({ tenantId }, 100, cursor)
        for (const edge of page.edges) {
          yield edge
          last = edge.node.id
        }
        cursor = page.pageInfo.endCursor
        if (!page.pageInfo.hasNextPage) break
      }
      live.resumeAfter(last)
      const fingerprint = this.#fingerprint(tenantId)
      for await (const node of live) yield { node, cursor: this.#cursors.encode(fingerprint, node.id) }
    } finally {
      await live.return()
    }
  }

  #fingerprint(tenantId: string) {
    return queryFingerprint({ tenant: tenantId, feed: 'events' })
  }

  /**
   * Up to `first` events after the cursor, oldest first. With no new events the end cursor is the one given, so a
   * client polls with its last `endCursor` and never misses or repeats one. Tenant-wide: FORBIDDEN to an end user's
   * token.
   */
  async page(scope: AccessScope, first: number, after: string | null): Promise<EventFeedPage> {
    const tenantId = tenantWide(scope)
    const fingerprint = this.#fingerprint(tenantId)
    const position = after === null ? null : this.#cursors.decode(after, fingerprint)
    // The smallest id of the settling window's first millisecond: every served id is below it.
    const until = firstIdAt(this.wallClock() - FEED_SETTLE_MS)
    const { events, hasMore } = await this.events.eventsOfTenant(tenantId, position, until, first)
    const edges = events.map((node) => ({ node, cursor: this.#cursors.encode(fingerprint, node.id) }))
    return {
      edges,
      pageInfo: {
        hasNextPage: hasMore,
        hasPreviousPage: position !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? after,
      },
    }
  }
}
