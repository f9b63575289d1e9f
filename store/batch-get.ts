// BatchGetItem in batches of 100, retrying what DynamoDB leaves unprocessed: how every multi-key read of ours runs.
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { ItemKey } from './keys.ts'

const BATCH_GET_LIMIT = 100

/** Every item found under `itemKeys` (missing ones simply absent), in no particular order. */
export async function batchGet(
  db: DynamoDBDocumentClient,
  tableName: string,
  itemKeys: readonly ItemKey[],
  options: { projection?: string; consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = []
  for (let start = 0; start < itemKeys.length; start += BATCH_GET_LIMIT) {
    let pending: Record<string, unknown>[] | undefined = itemKeys.slice(start, start + BATCH_GET_LIMIT)
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(20 * 2 ** attempt, 1_000)))
      const result: BatchGetCommandOutput = await db.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: options.consistent ?? false,
              ...(options.projection ? { ProjectionExpression: options.projection } : {}),
            },
          },
        }),
      )
      items.push(...(result.Responses?.[tableName] ?? []))
      pending = result.UnprocessedKeys?.[tableName]?.Keys
    }
  }
  return items
}
