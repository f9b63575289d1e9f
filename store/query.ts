// Reading a Query to its end (or to a limit), page by page: what every multi-page read of ours does, through the
// SDK's paginator.
import { paginateQuery, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb'

export interface QueriedItems {
  readonly items: Record<string, unknown>[]
  /** Items DynamoDB read to answer (`ScannedCount`): the work done, filters included. */
  readonly read: number
}

/**
 * Runs `input` until DynamoDB has no more pages, or `limit` items have come back (each page asks for at most `limit`,
 * or `pageSize` when given; no page is read after the one that reached the limit).
 */
export async function queryAll(
  db: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'Limit'>,
  limit = Number.POSITIVE_INFINITY,
  pageSize?: number,
): Promise<QueriedItems> {
  const items: Record<string, unknown>[] = []
  let read = 0
  const size = pageSize ?? (Number.isFinite(limit) ? limit : undefined)
  for await (const page of paginateQuery({ client: db, ...(size === undefined ? {} : { pageSize: size }) }, input)) {
    read += page.ScannedCount ?? 0
    items.push(...(page.Items ?? []))
    if (items.length >= limit) break
  }
  return { items: items.slice(0, limit), read }
}

/** The items of one partition whose sort key starts with `prefix`, in sort-key order. */
export function queryPrefix(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  prefix: string,
  options: { consistent?: boolean } = {},
): Promise<QueriedItems> {
  return queryAll(db, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
    ConsistentRead: options.consistent ?? false,
  })
}

/** Everything due at or before `now` in one partition of a due-work index (`<index>sk` = `<ISO time>#...`). */
export function queryDue(
  db: DynamoDBDocumentClient,
  tableName: string,
  index: 'gsi3' | 'gsi4',
  partition: string,
  now: Date,
  options: { limit?: number; projection?: string } = {},
): Promise<QueriedItems> {
  return queryAll(
    db,
    {
      TableName: tableName,
      IndexName: index,
      KeyConditionExpression: `${index}pk = :pk AND ${index}sk <= :until`,
      // '~' sorts after every character of the suffix: everything due at or before `now`.
      ExpressionAttributeValues: { ':pk': partition, ':until': `${now.toISOString()}#~` },
      ...(options.projection ? { ProjectionExpression: options.projection } : {}),
    },
    options.limit,
  )
}
