// Warms a fresh DynamoDB Local before any test runs. Its JVM loads and compiles the code behind each kind of call on
// the first ones: on a loaded 2-core machine a first CreateTable takes seconds and a first Query hundreds of
// milliseconds, against tens once warm, and without this the first test of whichever file runs first pays for all of
// it (test/integration/ws-poller.test.ts's first test spent most of its ~18 s there).
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb'
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import { randomUUID } from 'node:crypto'
import { createDocumentClient, createDynamoClient } from '../../store/client.ts'
import { TABLE } from '../../store/table.ts'
import { ensureTable } from '../../store/table-admin.ts'

/**
 * Sends every kind of call the tests send, `rounds` times, to a table of the app's shape that it then deletes.
 * @default rounds 3
 */
export async function warmUpDynamoDBLocal(endpoint: string, rounds = 3): Promise<void> {
  const client = createDynamoClient({ endpoint })
  const db = createDocumentClient(client)
  const TableName = `warm-up-${randomUUID()}`
  const { partitionKey: pk, sortKey: sk } = TABLE
  const key = (round: number, i: number) => ({ [pk]: `WARM#${round}`, [sk]: `ITEM#${i}` })
  // Each item in every index, so each index's write and read paths run.
  const item = (round: number, i: number) =>
    Object.assign(
      key(round, i),
      ...TABLE.globalIndexes.map((index) => ({
        [index.partitionKey]: `WARM#${round}`,
        [index.sortKey]: `ITEM#${i}`,
      })),
      { version: 1, [TABLE.ttlAttribute]: Math.floor(Date.now() / 1000) + 3_600 },
    ) as Record<string, unknown>
  try {
    await ensureTable(client, TableName)
    for (let round = 0; round < rounds; round++) {
      await db.send(
        new TransactWriteCommand({
          TransactItems: [0, 1, 2].map((i) => ({
            Put: { TableName, Item: item(round, i), ConditionExpression: `attribute_not_exists(${pk})` },
          })),
        }),
      )
      await db.send(new PutCommand({ TableName, Item: item(round, 3) }))
      await db.send(new GetCommand({ TableName, Key: key(round, 3), ConsistentRead: true }))
      await db.send(
        new UpdateCommand({
          TableName,
          Key: key(round, 3),
          UpdateExpression: 'SET version = version + :one',
          ConditionExpression: 'version = :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      )
      await db.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: [key(round, 0), key(round, 1)] } } }))
      for (const index of [undefined, ...TABLE.globalIndexes]) {
        await db.send(
          new QueryCommand({
            TableName,
            IndexName: index?.name,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: { '#pk': index?.partitionKey ?? pk, '#sk': index?.sortKey ?? sk },
            ExpressionAttributeValues: { ':pk': `WARM#${round}`, ':prefix': 'ITEM#' },
            ScanIndexForward: false,
            Limit: 2,
          }),
        )
      }
      await db.send(new DeleteCommand({ TableName, Key: key(round, 3) }))
    }
  } finally {
    await client.send(new DeleteTableCommand({ TableName })).catch(() => undefined)
    client.destroy()
  }
}
