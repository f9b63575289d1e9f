// The WebSocket connection item (API Gateway's graphql-ws): who the connection comes from, once acknowledged who it is
// and until when its credential is trusted, how many operation slots it has taken, and when the poller pings it next
// (gsi3, by the connection's shard). Its subscriptions share its partition (ws-subscription-item.ts).
import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { defineEntity, epochSeconds, orDefault, orNull, timestamp, withoutNulls } from './entity.ts'
import { conditionalWrite, isConditionFailure } from './expressions.ts'
import { keys } from './keys.ts'
import { queryDue } from './query.ts'
import { storedPrincipalSchema, type StoredPrincipal } from './stored-principal.ts'

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

/** A connection as stored: absent optional attributes read as null, `operations` as 0. */
export const wsConnectionEntity = defineEntity<Required<WsConnection> & { firstPingAt: string; expiresAt: number }>({
  type: 'WS_CONNECTION',
  schema: () =>
    z.object({
      connectionId: z.string(),
      connectedAt: timestamp,
      clientAddress: orDefault(z.string(), ''),
      origin: orNull(z.string()),
      principal: orNull(storedPrincipalSchema),
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

/** Writes a new connection (`$connect`), its first ping due at `firstPingAt`. */
export async function putConnection(
  db: DynamoDBDocumentClient,
  tableName: string,
  connection: WsConnection,
  now: Date,
  firstPingAt: Date,
): Promise<void> {
  await db.send(
    new PutCommand({
      TableName: tableName,
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
export async function getConnection(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
): Promise<WsConnection | null> {
  const { Item } = await db.send(
    new GetCommand({ TableName: tableName, Key: keys.wsConnection(connectionId), ConsistentRead: true }),
  )
  return Item ? connectionOf(Item) : null
}

/**
 * Stores the principal `connection_init` authenticated. False when the connection was acknowledged already (a second
 * `connection_init`, even one racing this one in another invocation) or is gone.
 */
export async function acknowledgeConnection(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
  principal: StoredPrincipal,
  trustedUntil: number,
): Promise<boolean> {
  return updateConnection(db, tableName, connectionId, {
    UpdateExpression: 'SET principal = :principal, trustedUntil = :until',
    ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(principal)',
    ExpressionAttributeValues: { ':principal': principal, ':until': trustedUntil },
  })
}

/** Moves the end of the credential's trust after a check (nothing when the connection is gone). */
export async function setTrustedUntil(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
  trustedUntil: number,
): Promise<void> {
  await updateConnection(db, tableName, connectionId, {
    UpdateExpression: 'SET trustedUntil = :until',
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeValues: { ':until': trustedUntil },
  })
}

/**
 * Takes one of the connection's `maxOperations` slots for an operation about to run: 'full' when every slot is
 * taken, 'gone' when the connection is not there (or not acknowledged). Atomic (a conditional update of the
 * connection item), so operations racing in separate invocations cannot all pass.
 */
export async function reserveOperation(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
  maxOperations: number,
): Promise<'reserved' | 'full' | 'gone'> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.wsConnection(connectionId),
        UpdateExpression: 'SET operations = if_not_exists(operations, :zero) + :one',
        ConditionExpression: 'attribute_exists(principal) AND (attribute_not_exists(operations) OR operations < :max)',
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

/** Gives a slot back (nothing when the connection is gone or holds none). */
export async function releaseOperation(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
): Promise<void> {
  await updateConnection(db, tableName, connectionId, {
    UpdateExpression: 'SET operations = operations - :one',
    ConditionExpression: 'attribute_exists(pk) AND operations > :zero',
    ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
  })
}

/** Connections of `shard` whose ping is due at `now`, earliest first, at most `limit`. */
export async function duePings(
  db: DynamoDBDocumentClient,
  tableName: string,
  shard: number,
  now: Date,
  limit: number,
): Promise<string[]> {
  const { items } = await queryDue(db, tableName, 'gsi3', keys.wsPingPartition(shard), now, {
    limit,
    projection: 'connectionId',
  })
  return items.map((item) => String(item.connectionId))
}

/** Moves the connection's next ping to `at` (nothing when it is gone). */
export async function schedulePing(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
  at: Date,
): Promise<void> {
  const due = keys.wsPingDue(connectionId, at.toISOString())
  await updateConnection(db, tableName, connectionId, {
    UpdateExpression: 'SET gsi3pk = :pk, gsi3sk = :sk',
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeValues: { ':pk': due.gsi3pk, ':sk': due.gsi3sk },
  })
}

/** One conditional update of the connection item: false, and nothing written, when its condition does not hold. */
async function updateConnection(
  db: DynamoDBDocumentClient,
  tableName: string,
  connectionId: string,
  update: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'>,
): Promise<boolean> {
  return conditionalWrite(
    db.send(new UpdateCommand({ TableName: tableName, Key: keys.wsConnection(connectionId), ...update })),
  )
}
