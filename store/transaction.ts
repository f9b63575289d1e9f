// Writes of several repositories in one TransactWriteItems: an administrative change and its log entry succeed or
// fail together. Each repository builds its own writes (keys, conditions); this runs them and says which condition
// failed.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb'
import {
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb'

/** One write of a transaction, as a repository builds it. */
export type StoreWrite = NonNullable<TransactWriteCommandInput['TransactItems']>[number]

/** DynamoDB's limit on the writes of one transaction. */
export const MAX_TRANSACTION_WRITES = 100

/** A condition of the transaction did not hold: nothing was written. `failed` are the writes' indexes. */
export class WriteConditionFailedError extends Error {
  constructor(readonly failed: readonly number[]) {
    super(`A condition of write ${failed.join(', ')} did not hold; nothing was written`)
    this.name = 'WriteConditionFailedError'
  }
}

/** Writes all of `writes` or none; throws {@link WriteConditionFailedError} when a condition does not hold. */
export async function writeTogether(db: DynamoDBDocumentClient, writes: readonly StoreWrite[]): Promise<void> {
  if (writes.length === 0) return
  if (writes.length > MAX_TRANSACTION_WRITES) {
    throw new RangeError(`A transaction holds at most ${MAX_TRANSACTION_WRITES} writes, not ${writes.length}`)
  }
  try {
    await db.send(new TransactWriteCommand({ TransactItems: [...writes] }))
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const failed = (error.CancellationReasons ?? []).flatMap((reason, index) =>
        reason.Code === 'ConditionalCheckFailed' ? [index] : [],
      )
      if (failed.length > 0) throw new WriteConditionFailedError(failed)
    }
    throw error
  }
}
