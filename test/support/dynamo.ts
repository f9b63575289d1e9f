// A fresh table in the run's DynamoDB Local for each test file: tests never share state.
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { randomUUID } from 'node:crypto'
import { inject } from 'vitest'
import { createDocumentClient, createDynamoClient } from '../../store/client.ts'
import { ensureTable } from '../../store/table-admin.ts'

export interface TestTable {
  readonly endpoint: string
  readonly tableName: string
  readonly db: DynamoDBDocumentClient
  /** Every item in the table (tests only: the product never scans). */
  scanAll(): Promise<Record<string, unknown>[]>
}

/** A new table in `endpoint` (default: the test run's DynamoDB Local, which only exists inside vitest). */
export async function createTestTable(endpoint: string = inject('dynamoEndpoint')): Promise<TestTable> {
  const tableName = `test-${randomUUID()}`
  const client = createDynamoClient({ endpoint })
  const db = createDocumentClient(client)
  await ensureTable(client, tableName)
  return {
    endpoint,
    tableName,
    db,
    async scanAll() {
      const items: Record<string, unknown>[] = []
      let start: Record<string, unknown> | undefined
      do {
        const page = await db.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }))
        items.push(...(page.Items ?? []))
        start = page.LastEvaluatedKey
      } while (start)
      return items
    },
  }
}

/** A document client whose commands are counted, and the names they were recorded under. */
export interface CountingClient {
  readonly db: DynamoDBDocumentClient
  /** The name of every command sent (`QueryCommand`...), in order; empty it with `commands.length = 0`. */
  readonly commands: string[]
}

/**
 * A document client on `endpoint` that records the name of every command it sends: what a piece of code costs the
 * store, as a count rather than a time.
 */
export function countingClient(endpoint: string): CountingClient {
  const commands: string[] = []
  const client = createDynamoClient({ endpoint })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName))
      return next(args)
    },
    { step: 'initialize' },
  )
  return { db: createDocumentClient(client), commands }
}
