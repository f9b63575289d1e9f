// graphql-ws over API Gateway's WebSocket API keeps its state in the table, since no Lambda invocation outlives a
// message. The items have a module each: the connection (ws-connection-item.ts), its subscriptions beside it
// (ws-subscription-item.ts), each change-feed shard's poller cursor (ws-poller-cursor-item.ts) and lease
// (lease-repository.ts). This is the one handle the WebSocket use cases hold, and where a write spans two items: a
// connection deleted with its subscriptions, a subscription deleted with its slot given back.
import { BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { keys } from './keys.ts'
import { claimLease, releaseLease } from './lease-repository.ts'
import { queryAll } from './query.ts'
import * as connections from './ws-connection-item.ts'
import { WS_PING_INTERVAL_MS, type WsConnection } from './ws-connection-item.ts'
import * as cursors from './ws-poller-cursor-item.ts'
import type { StoredShardCursor } from './ws-poller-cursor-item.ts'
import * as subscriptions from './ws-subscription-item.ts'
import type { WsSubscription } from './ws-subscription-item.ts'
import type { StoredPrincipal } from './stored-principal.ts'

export class WebSocketRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes a new connection (`$connect`), its first ping due at `firstPingAt`. */
  putConnection(
    connection: WsConnection,
    now: Date,
    firstPingAt: Date = new Date(now.getTime() + WS_PING_INTERVAL_MS),
  ): Promise<void> {
    return connections.putConnection(this.db, this.tableName, connection, now, firstPingAt)
  }

  /** The connection, strongly consistent; null when it is gone (or never was). */
  getConnection(connectionId: string): Promise<WsConnection | null> {
    return connections.getConnection(this.db, this.tableName, connectionId)
  }

  /**
   * Stores the principal `connection_init` authenticated. False when the connection was acknowledged already (a second
   * `connection_init`, even one racing this one in another invocation) or is gone.
   */
  acknowledge(connectionId: string, principal: StoredPrincipal, trustedUntil: number): Promise<boolean> {
    return connections.acknowledgeConnection(this.db, this.tableName, connectionId, principal, trustedUntil)
  }

  /** Moves the end of the credential's trust after a check (nothing when the connection is gone). */
  setTrustedUntil(connectionId: string, trustedUntil: number): Promise<void> {
    return connections.setTrustedUntil(this.db, this.tableName, connectionId, trustedUntil)
  }

  /**
   * Deletes the connection and every subscription of it: the connection item first, then what its partition holds
   * (one strongly consistent Query, then batched deletes). In that order no subscription outlives it: one stored
   * before the connection item went is found by the Query; one stored after finds the connection gone and removes
   * itself ({@link putSubscription}).
   */
  async deleteConnection(connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.wsConnection(connectionId) }))
    const { items } = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.wsConnectionPartition(connectionId) },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    })
    for (let i = 0; i < items.length; i += 25) {
      let requests: { DeleteRequest: { Key: Record<string, unknown> } }[] = items
        .slice(i, i + 25)
        .map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } }))
      for (let attempt = 0; requests.length; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)))
        const { UnprocessedItems } = await this.db.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        )
        requests = (UnprocessedItems?.[this.tableName] ?? []).flatMap((request) =>
          request.DeleteRequest?.Key ? [{ DeleteRequest: { Key: request.DeleteRequest.Key } }] : [],
        )
      }
    }
  }

  /**
   * Takes one of the connection's `maxOperations` slots for an operation about to run: 'full' when every slot is
   * taken, 'gone' when the connection is not there (or not acknowledged). Atomic (a conditional update of the
   * connection item), so operations racing in separate invocations cannot all pass. A stored subscription keeps its
   * slot until it is deleted; anything else gives it back ({@link releaseOperation}).
   */
  reserveOperation(connectionId: string, maxOperations: number): Promise<'reserved' | 'full' | 'gone'> {
    return connections.reserveOperation(this.db, this.tableName, connectionId, maxOperations)
  }

  /** Gives a slot back (an operation that ended without a stored subscription). */
  releaseOperation(connectionId: string): Promise<void> {
    return connections.releaseOperation(this.db, this.tableName, connectionId)
  }

  /**
   * Stores a subscription, in the slot its operation reserved: 'duplicate' when the connection already has one by
   * that id; 'gone' when the connection is not there (any more), and then nothing of it is left stored.
   */
  async putSubscription(subscription: WsSubscription): Promise<'stored' | 'duplicate' | 'gone'> {
    if (!(await subscriptions.putSubscription(this.db, this.tableName, subscription))) return 'duplicate'
    // Read after the write, strongly: a $disconnect racing this store deleted the connection item either before this
    // read (seen here: the subscription goes again) or after it, so after the write (its Query of the partition finds
    // it). A transaction conditional on the connection item instead would make every write to that item (a slot, a
    // ping) able to fail on a transaction conflict.
    if (await connections.getConnection(this.db, this.tableName, subscription.connectionId)) return 'stored'
    await subscriptions.deleteSubscription(this.db, this.tableName, subscription.connectionId, subscription.operationId)
    return 'gone'
  }

  /** The subscription by its operation id, strongly consistent; null when there is none. */
  getSubscription(connectionId: string, operationId: string): Promise<WsSubscription | null> {
    return subscriptions.getSubscription(this.db, this.tableName, connectionId, operationId)
  }

  /** Deletes a subscription and gives its slot back; false when there was none (completed already, or never). */
  async deleteSubscription(connectionId: string, operationId: string): Promise<boolean> {
    if (!(await subscriptions.deleteSubscription(this.db, this.tableName, connectionId, operationId))) return false
    await this.releaseOperation(connectionId)
    return true
  }

  /** How many subscriptions the connection has stored (strongly consistent; reads only their keys). */
  countSubscriptions(connectionId: string): Promise<number> {
    return subscriptions.countSubscriptions(this.db, this.tableName, connectionId)
  }

  /** Every `consentUpdated` subscription of a consent (gsi1, every page; eventually consistent). */
  watchersOfConsent(consentId: string): Promise<WsSubscription[]> {
    return subscriptions.watchers(this.db, this.tableName, keys.wsConsentWatchersPartition(consentId))
  }

  /** Every `consentEvents` subscription of a tenant's feed (gsi1, every page; eventually consistent). */
  watchersOfTenantFeed(tenantId: string): Promise<WsSubscription[]> {
    return subscriptions.watchers(this.db, this.tableName, keys.wsFeedWatchersPartition(tenantId))
  }

  /**
   * Moves a feed subscription's cursor from `from` to `to` (null: no cursor), only if it still is `from`: of two
   * writers that read the same cursor one wins. False when it moved meanwhile or the subscription is gone.
   */
  advanceCursor(connectionId: string, operationId: string, from: string | null, to: string | null): Promise<boolean> {
    return subscriptions.advanceCursor(this.db, this.tableName, { connectionId, operationId }, from, to)
  }

  /**
   * Records the last version a consent stream sent; it only moves forward. False when it was at or past `version`
   * already, or the subscription is gone.
   */
  setLastVersion(connectionId: string, operationId: string, version: number): Promise<boolean> {
    return subscriptions.setLastVersion(this.db, this.tableName, { connectionId, operationId }, version)
  }

  /** Connections of `shard` whose ping is due at `now`, earliest first, at most `limit`. */
  duePings(shard: number, now: Date, limit: number): Promise<string[]> {
    return connections.duePings(this.db, this.tableName, shard, now, limit)
  }

  /** Moves the connection's next ping to `at` (nothing when it is gone). */
  schedulePing(connectionId: string, at: Date): Promise<void> {
    return connections.schedulePing(this.db, this.tableName, connectionId, at)
  }

  /** Where the poller of `shard` stopped; null before its first run. Strongly consistent. */
  getPollerCursor(shard: number): Promise<StoredShardCursor | null> {
    return cursors.getPollerCursor(this.db, this.tableName, shard)
  }

  putPollerCursor(shard: number, cursor: StoredShardCursor, now: Date): Promise<void> {
    return cursors.putPollerCursor(this.db, this.tableName, shard, cursor, now)
  }

  /**
   * Claims `shard` for one poller run until `now + durationMs`; false while another run holds an unexpired claim.
   * `token` (the run's id) is what releases it.
   */
  acquirePollerLease(shard: number, token: string, now: Date, durationMs: number): Promise<boolean> {
    return claimLease(this.db, this.tableName, keys.wsPollerLease(shard), token, now, durationMs)
  }

  /** Gives the claim on `shard` back, if it is still `token`'s. */
  releasePollerLease(shard: number, token: string): Promise<void> {
    return releaseLease(this.db, this.tableName, keys.wsPollerLease(shard), token)
  }
}
