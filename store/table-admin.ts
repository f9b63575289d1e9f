// Creates the table where it does not exist yet (DynamoDB Local for `npm start` and tests; AWS uses infra/).
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb'
import { TABLE, createTableInput } from './table.ts'

/**
 * Creates `tableName` from {@link TABLE} unless it exists; returns true when it created it. A table kept from an older
 * version (`npm start` keeps its data under .data/) gets the global indexes it lacks, one at a time, as DynamoDB
 * requires.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    await addMissingIndexes(client, tableName, new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName)))
    return false
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error
  }
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)))
  } catch (error) {
    if (error instanceof ResourceInUseException) return false
    throw error
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
    }),
  )
  return true
}

async function addMissingIndexes(client: DynamoDBClient, tableName: string, present: ReadonlySet<string | undefined>) {
  const wanted = createTableInput(tableName)
  for (const index of wanted.GlobalSecondaryIndexes) {
    if (present.has(index.IndexName)) continue
    const keyNames = new Set<string>(index.KeySchema.map((key) => key.AttributeName))
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: wanted.AttributeDefinitions.filter((d) => keyNames.has(d.AttributeName)),
        GlobalSecondaryIndexUpdates: [
          { Create: { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection } },
        ],
      }),
    )
    // DynamoDB builds one index at a time: the next may be asked for once this one is ACTIVE.
    await untilIndexActive(client, tableName, index.IndexName)
  }
}

async function untilIndexActive(client: DynamoDBClient, tableName: string, indexName: string, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    const status = Table?.GlobalSecondaryIndexes?.find((index) => index.IndexName === indexName)?.IndexStatus
    if (status === 'ACTIVE' && Table?.TableStatus === 'ACTIVE') return
    if (Date.now() > deadline)
      throw new Error(`index ${indexName} of ${tableName} still ${status} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
