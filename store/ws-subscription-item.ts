// The WebSocket subscription item: one stored graphql-ws subscription, in its connection's partition, with what it
// runs (the document, variables, the principal copied from the connection) and what it watches, indexed on gsi1 by
// that (a consent, or a tenant's feed) so the poller finds a change's watchers with one Query; and where it is (a
// feed's cursor, a consent stream's last version), moved only forward by conditional updates.
import {
  DeleteCommand,
  GetCommand,
  paginateQuery,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { defineEntity, epochSeconds, orNull, withoutNulls } from './entity.ts'
import { conditionalWrite } from './expressions.ts'
import { keys } from './keys.ts'
import { queryAll } from './query.ts'
import { storedPrincipalSchema, type StoredPrincipal } from './stored-principal.ts'

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

/** TTL past a subscription's deadline. */
const SUBSCRIPTION_RETENTION_S = 3600

export const wsSubscriptionEntity = defineEntity<WsSubscription & { expiresAt: number }>({
  type: 'WS_SUBSCRIPTION',
  schema: () =>
    z.object({
      connectionId: z.string(),
      operationId: z.string(),
      tenantId: z.string(),
      principal: storedPrincipalSchema,
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

/** Stores a subscription. False when the connection already has one by that id (a duplicate id). */
export async function putSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  subscription: WsSubscription,
): Promise<boolean> {
  return conditionalWrite(
    db.send(
      new PutCommand({
        TableName: tableName,
        Item: withoutNulls(
          wsSubscriptionEntity.item({
            ...subscription,
            expiresAt: epochSeconds(subscription.deadline) + SUBSCRIPTION_RETENTION_S,
          }),
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  )
}

/** The subscription by its operation id, strongly consistent; null when there is none. */
export async function getSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
  operationId: string,
): Promise<WsSubscription | null> {
  const { Item } = await db.send(
    new GetCommand({ TableName: tableName, Key: keys.wsSubscription(connectionId, operationId), ConsistentRead: true }),
  )
  return Item ? subscriptionOf(Item) : null
}

/** Deletes a subscription; false when there was none (completed already, or never). */
export async function deleteSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
  operationId: string,
): Promise<boolean> {
  const { Attributes } = await db.send(
    new DeleteCommand({
      TableName: tableName,
      Key: keys.wsSubscription(connectionId, operationId),
      ReturnValues: 'ALL_OLD',
    }),
  )
  return Attributes !== undefined
}

/** How many subscriptions the connection has stored (strongly consistent; reads only their keys). */
export async function countSubscriptions(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
): Promise<number> {
  let count = 0
  const pages = paginateQuery(
    { client: db },
    {
      TableName: tableName,
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

/** Every subscription watching `partition` of gsi1 (a consent's, or a tenant feed's), every page; eventually consistent. */
export async function watchers(
  db: DynamoDBDocumentClient,
  tableName: string,
  partition: string,
): Promise<WsSubscription[]> {
  const { items } = await queryAll(db, {
    TableName: tableName,
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
export async function advanceCursor(
  db: DynamoDBDocumentClient,
  tableName: string,
  subscription: { connectionId: string; operationId: string },
  from: string | null,
  to: string | null,
): Promise<boolean> {
  return conditionalWrite(
    db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.wsSubscription(subscription.connectionId, subscription.operationId),
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
    ),
  )
}

/**
 * Records the last version a consent stream sent; it only moves forward. False when it was at or past `version`
 * already, or the subscription is gone.
 */
export async function setLastVersion(
  db: DynamoDBDocumentClient,
  tableName: string,
  subscription: { connectionId: string; operationId: string },
  version: number,
): Promise<boolean> {
  return conditionalWrite(
    db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.wsSubscription(subscription.connectionId, subscription.operationId),
        UpdateExpression: 'SET lastVersion = :version',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastVersion) OR lastVersion < :version)',
        ExpressionAttributeValues: { ':version': version },
      }),
    ),
  )
}
