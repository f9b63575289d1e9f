// graphql-ws over API Gateway's WebSocket API keeps its state in the table, since no Lambda invocation outlives a
// message: one item per connection (who it is once acknowledged, until when its credential is trusted, when it is next
// pinged) and one per subscription beside it (what it runs and watches, where its feed is), indexed by what it watches
// so the poller finds the watchers of a change with one Query; and each change-feed shard's poller cursor and lease.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  paginateQuery,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { defineEntity, orDefault, orNull, timestamp } from './entity.ts'
import { keys } from './keys.ts'
import { deleteLease, putLease } from './lease-repository.ts'
import { queryAll, queryDue } from './query.ts'

/**
 * An acknowledged caller as stored with its connection and its subscriptions, so another invocation can restore it
 * and check again that its credential holds (service/stored-principal.ts). Never a secret: a Basic credential keeps
 * only a fingerprint of WHICH stored hash its secret matched (the current one, or the one a rotation replaced).
 */
export type StoredPrincipal =
  | {
      readonly kind: 'API_CLIENT'
      readonly credential: 'BASIC'
      readonly tenantId: string
      readonly clientId: string
      /** SHA-256 (base64url) of the stored secret hash the secret verified against. */
      readonly secretHashFingerprint: string
    }
  | {
      readonly kind: 'API_CLIENT'
      readonly credential: 'BEARER'
      readonly tenantId: string
      readonly clientId: string
      readonly tokenId: string
      /** Epoch ms. */
      readonly expiresAt: number
    }
  | {
      readonly kind: 'END_USER'
      readonly tenantId: string
      readonly clientId: string
      readonly userId: string
      readonly scopes: readonly string[]
      /** Internal consent ids the token is restricted to; null: every consent of the user. */
      readonly consentIds: readonly string[] | null
      readonly tokenId: string
      /** Epoch ms. */
      readonly issuedAt: number
      /** Epoch ms. */
      readonly expiresAt: number
    }

export interface WsConnection {
  readonly connectionId: string
  /** ISO instant of `$connect`. */
  readonly connectedAt: string
  /** `requestContext.identity.sourceIp` at `$connect`: the failure limits count by it. */
  readonly clientAddress: string
  /** A page's `Origin` at `$connect` (checked against the caller's tenant at `connection_init`); null for none. */
  readonly origin: string | null
  /** Absent until `connection_init` authenticated the caller. */
  readonly principal: StoredPrincipal | null
  /** Epoch ms until which the principal is trusted without checking its credential again. */
  readonly trustedUntil: number | null
  /**
   * Slots taken: operations running and subscriptions stored. Always read back; ignored when a connection is put (it
   * starts at 0).
   */
  readonly operations?: number
}

export type WsSubscriptionField = 'consentUpdated' | 'consentEvents'

export interface WsSubscription {
  readonly connectionId: string
  readonly operationId: string
  readonly tenantId: string
  /** The connection's principal, copied: the poller needs one read per watcher. */
  readonly principal: StoredPrincipal
  /** The document's text (a trusted document's, when the client named one by id). */
  readonly query: string
  readonly variables: Record<string, unknown> | null
  readonly operationName: string | null
  readonly field: WsSubscriptionField
  /** The watched consent (internal id) of a `consentUpdated`; null for the feed. */
  readonly consentId: string | null
  /** The feed's position (the cursor of the last event sent, or the one subscribed with); null: from the start. */
  readonly cursor: string | null
  /** A consent stream's last version sent, so an event read twice is not sent twice; null: none yet. */
  readonly lastVersion: number | null
  /** Epoch ms at which the subscription completes. */
  readonly deadline: number
}

/** The change-feed cursor the poller stores (structurally service/change-feed.ts's `ShardCursor`). */
export interface StoredShardCursor {
  readonly after: string
  readonly seen: readonly string[]
}

/**
 * The connection item outlives a connection by this much at most (TTL, for connections whose `$disconnect` never
 * ran): API Gateway ends every connection at 2 hours.
 */
const CONNECTION_RETENTION_S = 3 * 3600
/**
 * How often the poller pings a connection: inside API Gateway's 10-minute idle limit, with room for a late run.
 * @default 300_000 (5 minutes)
 */
export const WS_PING_INTERVAL_MS = 5 * 60_000

/** TTL past a subscription's deadline. */
const SUBSCRIPTION_RETENTION_S = 3600

const epochSeconds = (ms: number): number => Math.ceil(ms / 1000)

const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException =>
  error instanceof ConditionalCheckFailedException

const principalSchema: z.ZodMiniType<StoredPrincipal> = z.union([
  z.object({
    kind: z.literal('API_CLIENT'),
    credential: z.literal('BASIC'),
    tenantId: z.string(),
    clientId: z.string(),
    secretHashFingerprint: z.string(),
  }),
  z.object({
    kind: z.literal('API_CLIENT'),
    credential: z.literal('BEARER'),
    tenantId: z.string(),
    clientId: z.string(),
    tokenId: z.string(),
    expiresAt: z.number(),
  }),
  z.object({
    kind: z.literal('END_USER'),
    tenantId: z.string(),
    clientId: z.string(),
    userId: z.string(),
    scopes: z.array(z.string()),
    consentIds: orNull(z.array(z.string())),
    tokenId: z.string(),
    issuedAt: z.number(),
    expiresAt: z.number(),
  }),
])

/** A connection as stored: absent optional attributes read as null, `operations` as 0. */
export const wsConnectionEntity = defineEntity<Required<WsConnection> & { firstPingAt: string; expiresAt: number }>({
  type: 'WS_CONNECTION',
  schema: z.object({
    connectionId: z.string(),
    connectedAt: timestamp,
    clientAddress: orDefault(z.string(), ''),
    origin: orNull(z.string()),
    principal: orNull(principalSchema),
    trustedUntil: orNull(z.number()),
    operations: orDefault(z.number(), 0),
    // Where the ping schedule started: the index keys carry the next ping; never read back.
    firstPingAt: orDefault(timestamp, ''),
    expiresAt: z.number(),
  }),
  keys: (connection) => ({
    ...keys.wsConnection(connection.connectionId),
    ...keys.wsPingDue(connection.connectionId, connection.firstPingAt),
  }),
  keyOnly: ['firstPingAt'],
})

function connectionOf(item: Record<string, unknown>): WsConnection {
  const { firstPingAt: _first, expiresAt: _expires, ...connection } = wsConnectionEntity.parse(item)
  return connection
}

export const wsSubscriptionEntity = defineEntity<WsSubscription & { expiresAt: number }>({
  type: 'WS_SUBSCRIPTION',
  schema: z.object({
    connectionId: z.string(),
    operationId: z.string(),
    tenantId: z.string(),
    principal: principalSchema,
    query: z.string(),
    variables: orNull(z.record(z.string(), z.unknown())),
    operationName: orNull(z.string()),
    field: z.enum(['consentUpdated', 'consentEvents']),
    consentId: orNull(z.string()),
    cursor: orNull(z.string()),
    lastVersion: orNull(z.number()),
    deadline: z.number(),
    expiresAt: z.number(),
  }),
  keys: (subscription) => ({
    ...keys.wsSubscription(subscription.connectionId, subscription.operationId),
    ...(subscription.field === 'consentUpdated'
      ? keys.wsWatchOfConsent(String(subscription.consentId), subscription.connectionId, subscription.operationId)
      : keys.wsWatchOfTenantFeed(subscription.tenantId, subscription.connectionId, subscription.operationId)),
  }),
})

function subscriptionOf(item: Record<string, unknown>): WsSubscription {
  const { expiresAt: _expires, ...subscription } = wsSubscriptionEntity.parse(item)
  return subscription
}

export const wsPollerCursorEntity = defineEntity<StoredShardCursor & { shard: number; updatedAt: string }>({
  type: 'WS_POLLER_CURSOR',
  schema: z.object({
    shard: z.number(),
    after: z.string(),
    seen: orDefault(z.array(z.string()), []),
    updatedAt: timestamp,
  }),
  keys: (cursor) => keys.wsPollerCursor(cursor.shard),
  keyOnly: ['shard'],
})

/** Drops the attributes that hold null: an absent attribute is how a connection or subscription stores "none". */
const withoutNulls = (item: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(item).filter(([, value]) => value !== null))

export class WebSocketRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes a new connection (`$connect`), its first ping due at `firstPingAt`. */
  async putConnection(
    connection: WsConnection,
    now: Date,
    firstPingAt: Date = new Date(now.getTime() + WS_PING_INTERVAL_MS),
  ): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: withoutNulls(
          wsConnectionEntity.item({
            ...connection,
            operations: 0,
            firstPingAt: firstPingAt.toISOString(),
            expiresAt: epochSeconds(now.getTime()) + CONNECTION_RETENTION_S,
          }),
        ),
      }),
    )
  }

  /** The connection, strongly consistent; null when it is gone (or never was). */
  async getConnection(connectionId: string): Promise<WsConnection | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.wsConnection(connectionId), ConsistentRead: true }),
    )
    return Item ? connectionOf(Item) : null
  }

  /**
   * Stores the principal `connection_init` authenticated. False when the connection was acknowledged already (a second
   * `connection_init`, even one racing this one in another invocation) or is gone.
   */
  async acknowledge(connectionId: string, principal: StoredPrincipal, trustedUntil: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.wsConnection(connectionId),
          UpdateExpression: 'SET principal = :principal, trustedUntil = :until',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(principal)',
          ExpressionAttributeValues: { ':principal': principal, ':until': trustedUntil },
        }),
      )
      return true
    } catch (error) {
      if (isConditionFailure(error)) return false
      throw error
    }
  }

  /** Moves the end of the credential's trust after a check (nothing when the connection is gone). */
  async setTrustedUntil(connectionId: string, trustedUntil: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.wsConnection(connectionId),
          UpdateExpression: 'SET trustedUntil = :until',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':until': trustedUntil },
        }),
      )
    } catch (error) {
      if (!isConditionFailure(error)) throw error
    }
  }

  /** Deletes the connection and every subscription of it (one partition: one Query, then batched deletes). */
  async deleteConnection(connectionId: string): Promise<void> {
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
  async reserveOperation(connectionId: string, maxOperations: number): Promise<'reserved' | 'full' | 'gone'> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.wsConnection(connectionId),
          UpdateExpression: 'SET operations = if_not_exists(operations, :zero) + :one',
          ConditionExpression:
            'attribute_exists(principal) AND (attribute_not_exists(operations) OR operations < :max)',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':max': maxOperations },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return 'reserved'
    } catch (error) {
      if (!isConditionFailure(error)) throw error
      return error.Item?.principal ? 'full' : 'gone'
    }
  }

  /** Gives a slot back (an operation that ended without a stored subscription). */
  async releaseOperation(connectionId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.wsConnection(connectionId),
          UpdateExpression: 'SET operations = operations - :one',
          ConditionExpression: 'attribute_exists(pk) AND operations > :zero',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
        }),
      )
    } catch (error) {
      if (!isConditionFailure(error)) throw error
    }
  }

  /**
   * Stores a subscription, in the slot its operation reserved. False when the connection already has one by that id
   * (a duplicate id).
   */
  async putSubscription(subscription: WsSubscription): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: withoutNulls(
            wsSubscriptionEntity.item({
              ...subscription,
              expiresAt: epochSeconds(subscription.deadline) + SUBSCRIPTION_RETENTION_S,
            }),
          ),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      return true
    } catch (error) {
      if (isConditionFailure(error)) return false
      throw error
    }
  }

  /** The subscription by its operation id, strongly consistent; null when there is none. */
  async getSubscription(connectionId: string, operationId: string): Promise<WsSubscription | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.wsSubscription(connectionId, operationId),
        ConsistentRead: true,
      }),
    )
    return Item ? subscriptionOf(Item) : null
  }

  /** Deletes a subscription and gives its slot back; false when there was none (completed already, or never). */
  async deleteSubscription(connectionId: string, operationId: string): Promise<boolean> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.wsSubscription(connectionId, operationId),
        ReturnValues: 'ALL_OLD',
      }),
    )
    if (!Attributes) return false
    await this.releaseOperation(connectionId)
    return true
  }

  /** How many subscriptions the connection has stored (strongly consistent; reads only their keys). */
  async countSubscriptions(connectionId: string): Promise<number> {
    let count = 0
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.wsConnectionPartition(connectionId),
          ':prefix': keys.wsSubscriptionPrefix,
        },
        Select: 'COUNT',
        ConsistentRead: true,
      },
    )
    for await (const page of pages) count += page.Count ?? 0
    return count
  }

  /** Every `consentUpdated` subscription of a consent (gsi1, every page; eventually consistent). */
  async watchersOfConsent(consentId: string): Promise<WsSubscription[]> {
    return this.#watchers(keys.wsConsentWatchersPartition(consentId))
  }

  /** Every `consentEvents` subscription of a tenant's feed (gsi1, every page; eventually consistent). */
  async watchersOfTenantFeed(tenantId: string): Promise<WsSubscription[]> {
    return this.#watchers(keys.wsFeedWatchersPartition(tenantId))
  }

  async #watchers(partition: string): Promise<WsSubscription[]> {
    const { items } = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': partition },
    })
    return items.map(subscriptionOf)
  }

  /**
   * Moves a feed subscription's cursor from `from` to `to` (null: no cursor), only if it still is `from`: of two
   * writers that read the same cursor one wins. False when it moved meanwhile or the subscription is gone.
   */
  async advanceCursor(
    connectionId: string,
    operationId: string,
    from: string | null,
    to: string | null,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.wsSubscription(connectionId, operationId),
          UpdateExpression: to === null ? 'REMOVE #cursor' : 'SET #cursor = :to',
          ConditionExpression:
            from === null
              ? 'attribute_exists(pk) AND attribute_not_exists(#cursor)'
              : 'attribute_exists(pk) AND #cursor = :from',
          ExpressionAttributeNames: { '#cursor': 'cursor' },
          ...(to === null && from === null
            ? {}
            : {
                ExpressionAttributeValues: {
                  ...(to === null ? {} : { ':to': to }),
                  ...(from === null ? {} : { ':from': from }),
                },
              }),
        }),
      )
      return true
    } catch (error) {
      if (isConditionFailure(error)) return false
      throw error
    }
  }

  /**
   * Records the last version a consent stream sent; it only moves forward. False when it was at or past `version`
   * already, or the subscription is gone.
   */
  async setLastVersion(connectionId: string, operationId: string, version: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.wsSubscription(connectionId, operationId),
          UpdateExpression: 'SET lastVersion = :version',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastVersion) OR lastVersion < :version)',
          ExpressionAttributeValues: { ':version': version },
        }),
      )
      return true
    } catch (error) {
      if (isConditionFailure(error)) return false
      throw error
    }
  }

  /** Connections of `shard` whose ping is due at `now`, earliest first, at most `limit`. */
  async duePings(shard: number, now: Date, limit: number): Promise<string[]> {
    const { items } = await queryDue(this.db, this.tableName, 'gsi3', keys.wsPingPartition(shard), now, {
      limit,
      projection: 'connectionId',
    })
    return items.map((item) => String(item.connectionId))
  }

  /** Moves the connection's next ping to `at` (nothing when it is gone). */
  async schedulePing(connectionId: string, at: Date): Promise<void> {
    const due = keys.wsPingDue(connectionId, at.toISOString())
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.wsConnection(connectionId),
          UpdateExpression: 'SET gsi3pk = :pk, gsi3sk = :sk',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':pk': due.gsi3pk, ':sk': due.gsi3sk },
        }),
      )
    } catch (error) {
      if (!isConditionFailure(error)) throw error
    }
  }

  /** Where the poller of `shard` stopped; null before its first run. Strongly consistent. */
  async getPollerCursor(shard: number): Promise<StoredShardCursor | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.wsPollerCursor(shard), ConsistentRead: true }),
    )
    if (!Item) return null
    const { after, seen } = wsPollerCursorEntity.parse({ shard, ...Item })
    return { after, seen }
  }

  async putPollerCursor(shard: number, cursor: StoredShardCursor, now: Date): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: wsPollerCursorEntity.item({
          shard,
          after: cursor.after,
          seen: [...cursor.seen],
          updatedAt: now.toISOString(),
        }),
      }),
    )
  }

  /**
   * Claims `shard` for one poller run until `now + durationMs`; false while another run holds an unexpired claim.
   * `token` (the run's id) is what releases it.
   */
  async acquirePollerLease(shard: number, token: string, now: Date, durationMs: number): Promise<boolean> {
    const until = now.getTime() + durationMs
    try {
      await this.db.send(new PutCommand(putLease(this.tableName, keys.wsPollerLease(shard), token, until, now)))
      return true
    } catch (error) {
      if (isConditionFailure(error)) return false
      throw error
    }
  }

  /** Gives the claim on `shard` back, if it is still `token`'s. */
  async releasePollerLease(shard: number, token: string): Promise<void> {
    try {
      await this.db.send(new DeleteCommand(deleteLease(this.tableName, keys.wsPollerLease(shard), token)))
    } catch (error) {
      if (!isConditionFailure(error)) throw error
    }
  }
}
