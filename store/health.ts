// Is the store answering? One eventually consistent GetItem of a key no item ever has: the cheapest read DynamoDB
// offers (half a read unit), on the table the gateway uses, so a missing table or a broken connection both show.
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { keys } from './keys.ts'

/** Resolves when the table answered a read; rejects (ServiceUnavailableError for an outage) otherwise. */
export async function probeStore(db: DynamoDBDocumentClient, tableName: string, signal?: AbortSignal): Promise<void> {
  await db.send(
    new GetCommand({ TableName: tableName, Key: keys.healthProbe, ProjectionExpression: 'pk' }),
    signal ? { abortSignal: signal } : {},
  )
}
