// The change feed across tenants as a poller reads it: what changed in one shard since a cursor, with no store state
// of its own, so the in-process hub (service/consent-watcher.ts) and a poller elsewhere (one per shard, its cursor
// stored between runs) read it the same way. Event ids (ULIDs) are taken just before their transaction, so an event
// can commit after one with a larger id: each read goes back an overlap window behind what was read, and the ids
// already handed out in that window are dropped.
import { decodeTime, encodeTime } from 'ulid'
import type { ConsentEvent } from '../domain/consent.ts'
import type { EventRepository } from '../store/event-repository.ts'
import { CHANGE_SHARDS } from '../store/keys.ts'

/** Longer than any write of ours takes from taking its id to committing, its SDK retries included. */
export const FEED_SETTLE_MS = 5_000

/**
 * How far behind its last read a read of the change feed starts again: a write commits within the settling window of
 * taking its id, and the index shows it soon after.
 * @default FEED_SETTLE_MS
 */
export const CHANGE_OVERLAP_MS = FEED_SETTLE_MS

/** Where a reader of one shard is: plain JSON, so a poller can store it between runs. */
export interface ShardCursor {
  /** Every event id above this one is read again next time (exclusive lower bound). */
  readonly after: string
  /** The ids above `after` already handed out: dropped when read again. */
  readonly seen: readonly string[]
}

export interface ShardChanges {
  /** Events not handed out before, in id order. */
  readonly events: ConsentEvent[]
  /** Where to read from next time. */
  readonly cursor: ShardCursor
  /**
   * Every event with a smaller id that will ever exist had committed before this read began: no later read brings
   * one below it. Streams that promise id order release events below it (see service/event-feed.ts).
   */
  readonly settledBefore: string
}

/** The largest id of the millisecond before `ms`: `> it` is `>=` the first id of `ms`. */
const lastIdBefore = (ms: number): string => `${encodeTime(Math.max(0, ms - 1), 10)}ZZZZZZZZZZZZZZZZ`
/** The smallest id of the millisecond `ms`. */
export const firstIdAt = (ms: number): string => `${encodeTime(Math.max(0, ms), 10)}0000000000000000`

/** A cursor for a reader starting now: it reads what committed from an overlap window ago on. */
export function startCursor(wallNow: number, overlapMs: number = CHANGE_OVERLAP_MS): ShardCursor {
  return { after: lastIdBefore(wallNow - overlapMs), seen: [] }
}

export type ChangeSource = Pick<EventRepository, 'changesOfShard'>

/**
 * What changed in `shard` since `cursor`: one Query of the shard (paged when it holds more than a page), from the
 * cursor, so the reads follow the number of changes. `wallNow` is the wall clock (the clock ids are made with) taken
 * just before the read. The cursor moves only when the read succeeded: a failed or missed read is caught up by the
 * next one.
 */
export async function readShardChanges(
  source: ChangeSource,
  shard: number,
  cursor: ShardCursor,
  wallNow: number,
  overlapMs: number = CHANGE_OVERLAP_MS,
): Promise<ShardChanges> {
  const read = await source.changesOfShard(shard, cursor.after)
  const seen = new Set(cursor.seen)
  const events = read.filter((event) => !seen.has(event.id))
  // Whatever took an id before `wallNow - overlap` had committed before this read began, so this read saw it.
  const floor = lastIdBefore(wallNow - overlapMs)
  const after = floor > cursor.after ? floor : cursor.after
  return {
    events,
    cursor: { after, seen: [...cursor.seen, ...events.map((event) => event.id)].filter((id) => id > after) },
    settledBefore: firstIdAt(wallNow - FEED_SETTLE_MS),
  }
}

/**
 * `cursor`, moved back so that `eventId` and every event after it are read again: what a poller stores while an event
 * it read is not yet fully handled (a tenant's feed waiting to settle, a delivery to retry), so a run that dies then
 * loses nothing. Events from the millisecond of `eventId` on are handed out again; readers drop what they already did.
 */
export function rewindCursor(cursor: ShardCursor, eventId: string): ShardCursor {
  const after = lastIdBefore(decodeTime(eventId))
  // The ids kept as seen are those below `eventId`: it and what follows it are read and handed out again.
  if (after >= cursor.after) return { after: cursor.after, seen: cursor.seen.filter((id) => id < eventId) }
  return { after, seen: cursor.seen.filter((id) => id > after && id < eventId) }
}

/** Readers' cursors for every shard, starting now. */
export const startCursors = (wallNow: number): ShardCursor[] =>
  Array.from({ length: CHANGE_SHARDS }, () => startCursor(wallNow))

/** Every shard at once (the in-process poller): the events of all shards merged in id order. */
export async function readAllShards(
  source: ChangeSource,
  cursors: readonly ShardCursor[],
  wallNow: number,
): Promise<{ events: ConsentEvent[]; cursors: ShardCursor[]; settledBefore: string }> {
  const reads = await Promise.all(cursors.map((cursor, shard) => readShardChanges(source, shard, cursor, wallNow)))
  return {
    events: reads.flatMap((read) => read.events).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    cursors: reads.map((read) => read.cursor),
    settledBefore: firstIdAt(wallNow - FEED_SETTLE_MS),
  }
}
