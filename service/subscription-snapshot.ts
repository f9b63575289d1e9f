// A subscription's first answer without a live stream, for a transport where no process outlives a message (graphql-ws
// through API Gateway: each subscribe is one Lambda invocation, and a poller elsewhere sends what follows). It stands
// in for the in-process watcher and the feed's live part for ONE operation: the resolvers run exactly as for any
// subscription (the same scope checks, reads and errors), `consentUpdated` streams the consent as it is now and ends,
// `consentEvents` streams the settled backlog after its cursor and ends; and it records what the subscription watches
// (the consent and its version, or the tenant and the feed's position), which is what the transport stores.
import type { Consent } from '../domain/consent.ts'
import { effectiveStatus } from '../domain/derived.ts'
import { isTerminal } from '../domain/status.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import type { EventRepository } from '../store/event-repository.ts'
import { TenantEventStream, type ConsentWatcher, type WatchOptions } from './consent-watcher.ts'
import { EventFeed, type FollowOptions } from './event-feed.ts'
import type { AccessScope } from './principal.ts'

/** What one subscription watches, as its snapshot found it. */
export type SubscriptionTarget =
  | {
      readonly field: 'consentUpdated'
      /** The consent as sent. */
      readonly consent: Consent
      /** Its status as shown then is final: the stream completes after this one answer. */
      readonly terminal: boolean
    }
  | {
      readonly field: 'consentEvents'
      readonly tenantId: string
      /** The cursor of the last event sent, or the one subscribed with when none was. */
      readonly cursor: string | null
      /** Whether every settled event was sent; false when the backlog was longer than one snapshot sends. */
      readonly caughtUp: boolean
    }

export interface SnapshotSettings {
  /**
   * Backlog events one `consentEvents` subscribe sends at most; a longer backlog completes the subscription after
   * them, and the client resumes from the last cursor it received (every post is a call to API Gateway: a Lambda
   * invocation cannot send an unbounded backlog).
   * @default 200
   */
  readonly maxBacklog?: number
}

export const SNAPSHOT_DEFAULTS: Required<SnapshotSettings> = { maxBacklog: 200 }

export interface SnapshotOptions {
  /** A consent read later than the one the resolver reads (a re-check after the subscription was stored). */
  readonly fresher?: Consent | undefined
  /** Where the feed starts instead of the subscription's own `after` (a re-check from the stored cursor). */
  readonly after?: string | null | undefined
}

/** One operation's stand-ins for the live streams, and what they found. */
export class SubscriptionSnapshot {
  #target: SubscriptionTarget | null = null

  constructor(
    private readonly feed: EventFeed,
    private readonly clock: () => Date,
    private readonly maxBacklog: number,
    private readonly options: SnapshotOptions,
  ) {}

  /** What the subscription watches; null when no subscription resolver ran (a query, or one refused before). */
  get target(): SubscriptionTarget | null {
    return this.#target
  }

  /** In place of the in-process watcher: the consent now (or the fresher one), then the end. */
  readonly watcher: Pick<ConsentWatcher, 'watch'> = {
    watch: (initial: Consent, _options: WatchOptions) => {
      const fresher = this.options.fresher
      const consent =
        fresher && fresher.id === initial.id && fresher.version > initial.version ? { ...fresher } : initial
      this.#target = {
        field: 'consentUpdated',
        consent,
        terminal: isTerminal(effectiveStatus(consent, this.clock()).status),
      }
      return once(consent)
    },
  }

  /** In place of the live feed: the settled backlog after the cursor, at most `maxBacklog` events, then the end. */
  readonly events: Pick<EventFeed, 'page' | 'follow'> = {
    page: (scope, first, after) => this.feed.page(scope, first, after),
    follow: (scope: AccessScope, after: string | null, options: FollowOptions) => {
      const start = this.options.after !== undefined ? this.options.after : after
      // Refuses (an end user's token, a foreign cursor) at once, as the live feed does.
      const backlog = this.feed.follow(scope, start, options)
      let target = { field: 'consentEvents' as const, tenantId: scope.tenantId, cursor: start, caughtUp: false }
      this.#target = target
      const max = this.maxBacklog
      const record = (next: Partial<typeof target>) => {
        target = { ...target, ...next }
        this.#target = target
      }
      return (async function* () {
        let sent = 0
        try {
          for (;;) {
            if (sent >= max) {
              // One more read tells whether the backlog had ended exactly at the bound.
              const more = await backlog.next()
              if (more.done) record({ caughtUp: true })
              return
            }
            const item = await backlog.next()
            if (item.done) {
              record({ caughtUp: true })
              return
            }
            sent++
            record({ cursor: item.value.cursor })
            yield item.value
          }
        } finally {
          await backlog.return?.()
        }
      })()
    },
  }
}

async function* once<T>(value: T): AsyncGenerator<T, void, undefined> {
  yield value
}

/** What the snapshots read: the consents, and the tenants' events for the feed's backlog. */
export interface SnapshotStore {
  readonly consents: Pick<ConsentRepository, 'getByRefs'>
  readonly events: Pick<EventRepository, 'eventsOfTenant'>
}

/** Makes each operation's snapshot: its feed reads the backlog as `consentEvents` does, with no live part after it. */
export class SubscriptionSnapshots {
  readonly #feed: EventFeed
  readonly #maxBacklog: number

  constructor(
    private readonly store: SnapshotStore,
    cursorSecret: string,
    private readonly clock: () => Date,
    settings: SnapshotSettings = {},
    wallClock: () => number = Date.now,
  ) {
    // The feed's live part, ended before it starts: the backlog is read page by page up to the settling bound, as a
    // live subscriber's is, and the stream ends there instead of waiting for new events.
    const noLiveEvents = {
      followTenant: (tenantId: string, options: WatchOptions) => {
        const stream = new TenantEventStream(tenantId, [], null, options)
        stream.end()
        return stream
      },
    }
    this.#feed = new EventFeed(store.events, noLiveEvents, cursorSecret, wallClock)
    this.#maxBacklog = settings.maxBacklog ?? SNAPSHOT_DEFAULTS.maxBacklog
  }

  /**
   * The consent as it is now (strongly consistent), when it is newer than `version`: what a subscription stored just
   * now must still be sent, as it may have changed after its first answer was read and before the poller could find
   * the subscription.
   */
  async newerThan(target: { tenantId: string; id: string; version: number }): Promise<Consent | null> {
    const [consent] = await this.store.consents.getByRefs([{ tenantId: target.tenantId, consentId: target.id }])
    return consent && consent.version > target.version ? consent : null
  }

  /** Whether the feed has settled events after `cursor` for the caller (refused as `consentEvents` refuses). */
  async feedHasEventsAfter(scope: AccessScope, cursor: string | null): Promise<boolean> {
    return (await this.#feed.page(scope, 1, cursor)).edges.length > 0
  }

  /** The stand-ins for one operation. */
  snapshot(options: SnapshotOptions = {}): SubscriptionSnapshot {
    return new SubscriptionSnapshot(this.#feed, this.clock, this.#maxBacklog, options)
  }
}
