// The WebSocket poller's cursor item: where the poller of one change-feed shard stopped, kept between its scheduled
// runs (one a minute on AWS). The run's claim on the shard is a lease item (lease-repository.ts) beside it.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { defineEntity, orDefault, timestamp } from './entity.ts'
import { keys } from './keys.ts'

/** The change-feed cursor the poller stores (structurally service/change-feed.ts's `ShardCursor`). */
export interface StoredShardCursor {
  readonly after: string
  readonly seen: readonly string[]
}

export const wsPollerCursorEntity = defineEntity<StoredShardCursor & { shard: number; updatedAt: string }>({
  type: 'WS_POLLER_CURSOR',
  schema: () =>
    z.object({
      shard: z.number(),
      after: z.string(),
      seen: orDefault(z.array(z.string()), []),
      updatedAt: timestamp,
    }),
  keys: (cursor) => keys.wsPollerCursor(cursor.shard),
  keyOnly: ['shard'],
})

/** Where the poller of `shard` stopped; null before its first run. Strongly consistent. */
export async function getPollerCursor(
  db: DynamoDBDocumentClient,
  tableName: string,
  shard: number,
): Promise<StoredShardCursor | null> {
  const { Item } = await db.send(
    new GetCommand({ TableName: tableName, Key: keys.wsPollerCursor(shard), ConsistentRead: true }),
  )
  if (!Item) return null
  const { after, seen } = wsPollerCursorEntity.parse({ shard, ...Item })
  return { after, seen }
}

export async function putPollerCursor(
  db: DynamoDBDocumentClient,
  tableName: string,
  shard: number,
  cursor: StoredShardCursor,
  now: Date,
): Promise<void> {
  await db.send(
    new PutCommand({
      TableName: tableName,
      Item: wsPollerCursorEntity.item({
        shard,
        after: cursor.after,
        seen: [...cursor.seen],
        updatedAt: now.toISOString(),
      }),
    }),
  )
}
