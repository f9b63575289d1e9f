// A tenant's history feed: every event of every consent, in order, resumable from a cursor with no gaps. Events are
// ordered by their ULIDs (time first). A writer takes its event's id just before its transaction, so an event with a
// smaller id can still commit after a larger one has: the feed therefore serves only ids older than a settling window,
// by when every transaction that took a smaller id has committed or failed. The window is on the wall clock, the
// clock the ids are made with.
import { encodeTime } from 'ulid'
import type { ConsentEvent } from '../domain/consent.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import { CursorCodec, queryFingerprint } from '../store/cursor.ts'

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
   * Up to `first` events after the cursor, oldest first. With no new events the end cursor is the one given, so a
   * client polls with its last `endCursor` and never misses or repeats one.
   */
  async page(tenantId: string, first: number, after: string | null): Promise<EventFeedPage> {
    const fingerprint = queryFingerprint({ tenant: tenantId, feed: 'events' })
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
