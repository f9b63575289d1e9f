// connected: the table `npm start` keeps between runs (under .data/) is brought up to date: a table made before the
// due-work indexes existed gets them at the next start, and keeps its items. It runs on a DynamoDB Local of its own,
// kept on disk and restarted in between, as `npm start` does; the shared test instance is busy with every other test,
// and DynamoDB Local can leave a new index CREATING for good when other tables are hammered while it builds.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateTableCommand, DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import { startDynamoDBLocal } from '../../local/dynamodb-local.ts'
import { createDynamoClient } from '../../store/client.ts'
import { ensureTable } from '../../store/table-admin.ts'
import { createTableInput, TABLE } from '../../store/table.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'consent-gateway-table-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const indexesOf = async (client: ReturnType<typeof createDynamoClient>, tableName: string) =>
  ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.GlobalSecondaryIndexes ?? [])
    .map((index) => index.IndexName)
    .sort()

describe('ensureTable', () => {
  it('adds the indexes a table made by an older version lacks, and keeps its items', async () => {
    // Prepare: the table as the first version made it (gsi1 and gsi2 only), with an item, on disk
    const tableName = 'consent-gateway'
    const item = { pk: { S: 'T#t#C#c' }, sk: { S: 'CONSENT' }, entityType: { S: 'CONSENT' } }
    const before = await startDynamoDBLocal({ dbPath: dataDir })
    try {
      const client = createDynamoClient({ endpoint: before.endpoint })
      const current = createTableInput(tableName)
      await client.send(
        new CreateTableCommand({
          ...current,
          AttributeDefinitions: current.AttributeDefinitions.filter((d) => !/gsi[345]/.test(d.AttributeName)),
          GlobalSecondaryIndexes: current.GlobalSecondaryIndexes.filter((i) => ['gsi1', 'gsi2'].includes(i.IndexName)),
        }),
      )
      await client.send(new PutItemCommand({ TableName: tableName, Item: item }))
      expect(await indexesOf(client, tableName)).toEqual(['gsi1', 'gsi2'])
    } finally {
      await before.stop()
    }
    // Act: the next start
    const after = await startDynamoDBLocal({ dbPath: dataDir })
    try {
      const client = createDynamoClient({ endpoint: after.endpoint })
      const started = Date.now()
      const created = await ensureTable(client, tableName)
      console.log(`ensureTable added ${TABLE.globalIndexes.length - 2} indexes in ${Date.now() - started} ms`)
      // Assess
      expect(created).toBe(false)
      expect(await indexesOf(client, tableName)).toEqual(TABLE.globalIndexes.map((index) => index.name).sort())
      const kept = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk } }))
      expect(kept.Item).toEqual(item)
      // Again: nothing to do
      await ensureTable(client, tableName)
      expect(await indexesOf(client, tableName)).toHaveLength(TABLE.globalIndexes.length)
    } finally {
      await after.stop()
    }
  }, 120_000)
})
