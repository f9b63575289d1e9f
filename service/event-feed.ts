// A tenant's history feed: every event of every consent, in order, resumable from a cursor with no gaps. Events are
// ordered by their ULIDs (time first). A writer takes its event's id just before its transaction, so an event with a
// smaller id can still commit after a larger one has: the feed therefore serves only ids older than a settling window,
// by when every transaction that took a smaller id has committed or failed. The window is on the wall clock, the
// clock the ids are made with.
import { encodeTime } from 'ulid'
import type { ConsentEvent } from '../domain/consent.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import { CursorCodec, queryFingerprint } from '../store/cursor.ts'
import { tenantWide, type AccessScope } from './principal.ts'

/** Longer than any write of ours takes from taking its id to committing, its SDK retries included. */
export const FEED_SETTLE_MS = 5_000

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
  readonly pollIntervalMs: number
}

/** Resolves after `ms`, or at once when `signal` fires. */
const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

export class EventFeed {
  readonly #cursors: CursorCodec

  constructor(
    private readonly consents: ConsentRepository,
    cursorSecret: string,
    private readonly wallClock: () => number = Date.now,
  ) {
    this.#cursors = new CursorCodec(cursorSecret)
  }

  /**
   * The feed as a stream (the `consentEvents` subscription): every event after `after`, then each new one as it
   * settles, polled; completes at the deadline. Each item carries its cursor, to resume from after a disconnect.
   * A malformed or foreign cursor throws before anything is streamed. Tenant-wide: FORBIDDEN to an end user's token.
   */
  follow(
    scope: AccessScope,
    after: string | null,
    options: FollowOptions,
  ): AsyncGenerator<{ node: ConsentEvent; cursor: string }> {
    const tenantId = tenantWide(scope)
    if (after !== null) this.#cursors.decode(after, this.#fingerprint(tenantId))
    return this.#follow(tenantId, after, options)
  }

  async *#follow(tenantId: string, after: string | null, options: FollowOptions) {
    let cursor = after
    while (!options.signal?.aborted && Date.now() < options.deadline) {
      const page = await this.page({ tenantId }, 100, cursor)
      for (const edge of page.edges) {
        if (options.signal?.aborted) return
        yield edge
      }
      cursor = page.pageInfo.endCursor
      if (page.pageInfo.hasNextPage) continue
      await pause(Math.min(options.pollIntervalMs, Math.max(0, options.deadline - Date.now())), options.signal)
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
    const until = `${encodeTime(this.wallClock() - FEED_SETTLE_MS, 10)}0000000000000000`
    const { events, hasMore } = await this.consents.eventsOfTenant(tenantId, position, until, first)
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
