// The reads of the history event item (event-item.ts): one consent's history, a tenant's feed and one event of it
// (gsi1), and a shard of the change feed across tenants (gsi5). Events are written only inside the transaction of the
// change they record (consent-repository.ts), so this module reads and never writes.
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { ConsentEvent } from '../domain/consent.ts'
import { toEvent } from './event-item.ts'
import { keys } from './keys.ts'
import { queryAll, queryPrefix } from './query.ts'

export class EventRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** A consent's history, oldest first. */
  async history(tenantId: string, consentId: string): Promise<ConsentEvent[]> {
    const { items } = await queryPrefix(this.db, this.tableName, keys.consent(tenantId, consentId).pk, keys.eventPrefix)
    return items.map(toEvent)
  }

  /**
   * One shard of the change feed (every tenant's events, gsi5): the events with ids above `afterEventId`, in id order,
   * every page read. Eventually consistent, like every index read: the caller re-reads an overlap window behind its
   * cursor (see service/change-feed.ts). `pageSize` bounds each Query, not the answer.
   */
  async changesOfShard(shard: number, afterEventId: string, pageSize = 500): Promise<ConsentEvent[]> {
    const { items } = await queryAll(
      this.db,
      {
        TableName: this.tableName,
        IndexName: 'gsi5',
        KeyConditionExpression: 'gsi5pk = :pk AND gsi5sk > :after',
        ExpressionAttributeValues: { ':pk': keys.changePartition(shard), ':after': afterEventId },
      },
      Number.POSITIVE_INFINITY,
      pageSize,
    )
    return items.map(toEvent)
  }

  /**
   * The tenant's history feed in event order, after `afterEventId`, up to `until` (exclusive): events are ordered by
   * their ULIDs, so the feed only serves ids below `until`, a moment every transaction that could still carry a
   * smaller id has committed by (see service/event-feed.ts).
   */
  async eventsOfTenant(
    tenantId: string,
    afterEventId: string | null,
    untilEventId: string,
    limit: number,
  ): Promise<{ events: ConsentEvent[]; hasMore: boolean }> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: afterEventId
          ? 'gsi1pk = :pk AND gsi1sk BETWEEN :after AND :until'
          : 'gsi1pk = :pk AND gsi1sk < :until',
        ExpressionAttributeValues: {
          ':pk': keys.tenantEventsPartition(tenantId),
          ':until': untilEventId,
          ...(afterEventId ? { ':after': afterEventId } : {}),
        },
        // BETWEEN is inclusive: one more, and the cursor's own event dropped.
        Limit: limit + 1 + (afterEventId ? 1 : 0),
      }),
    )
    const events = (page.Items ?? [])
      .map(toEvent)
      .filter((event) => event.id !== afterEventId && event.id < untilEventId)
    return { events: events.slice(0, limit), hasMore: events.length > limit || page.LastEvaluatedKey !== undefined }
  }

  /**
   * One event of the tenant's, by id: only the tenant's own event partition is read (gsi1), so another tenant's id
   * finds nothing. Eventually consistent, like the feed.
   */
  async eventOfTenant(tenantId: string, eventId: string): Promise<ConsentEvent | null> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk = :id',
        ExpressionAttributeValues: { ':pk': keys.tenantEventsPartition(tenantId), ':id': eventId },
      }),
    )
    const item = page.Items?.[0]
    return item ? toEvent(item) : null
  }
}
