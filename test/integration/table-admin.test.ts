// connected: the table `npm start` keeps between runs is brought up to date: a table made before the due-work indexes
// existed gets them at start, and an up-to-date table is left alone.
import { randomUUID } from 'node:crypto'
import { CreateTableCommand, DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb'
import { describe, expect, inject, it } from 'vitest'
import { createDynamoClient } from '../../store/client.ts'
import { ensureTable } from '../../store/table-admin.ts'
import { createTableInput, TABLE } from '../../store/table.ts'

const indexesOf = async (client: ReturnType<typeof createDynamoClient>, tableName: string) =>
  ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.GlobalSecondaryIndexes ?? [])
    .map((index) => index.IndexName)
    .sort()

describe('ensureTable', () => {
  it('adds the indexes a table made by an older version lacks, and keeps its items', async () => {
    // Prepare: the table as the first version made it (gsi1 and gsi2 only)
    const client = createDynamoClient({ endpoint: inject('dynamoEndpoint') })
    const tableName = `old-${randomUUID()}`
    const current = createTableInput(tableName)
    const old = {
      ...current,
      AttributeDefinitions: current.AttributeDefinitions.filter((d) => !/gsi[34]/.test(d.AttributeName)),
      GlobalSecondaryIndexes: current.GlobalSecondaryIndexes.filter((i) => ['gsi1', 'gsi2'].includes(i.IndexName)),
    }
    await client.send(new CreateTableCommand(old))
    expect(await indexesOf(client, tableName)).toEqual(['gsi1', 'gsi2'])
    const item = { pk: { S: 'T#t#C#c' }, sk: { S: 'CONSENT' }, entityType: { S: 'CONSENT' } }
    await client.send(new PutItemCommand({ TableName: tableName, Item: item }))
    // Act
    const started = Date.now()
    const created = await ensureTable(client, tableName)
    console.log(`ensureTable added ${TABLE.globalIndexes.length - 2} indexes in ${Date.now() - started} ms`)
    // Assess
    expect(created).toBe(false)
    expect(await indexesOf(client, tableName)).toEqual(TABLE.globalIndexes.map((index) => index.name).sort())
    expect(
      (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk } }))).Item,
    ).toEqual(item)
    // Again: nothing to do
    await ensureTable(client, tableName)
    expect(await indexesOf(client, tableName)).toHaveLength(TABLE.globalIndexes.length)
    // Building indexes one after the other takes DynamoDB Local seconds when the whole suite loads the machine
  }, 120_000)
})
