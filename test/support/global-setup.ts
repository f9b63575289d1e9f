// Starts one DynamoDB Local (in memory, 127.0.0.1) for the whole test run and hands its endpoint to every test file.
import type { TestProject } from 'vitest/node'
import { startDynamoDBLocal } from '../../local/dynamodb-local.ts'
import { warmUpDynamoDBLocal } from './dynamo-warm-up.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string
  }
}

export default async function setup(project: TestProject) {
  // A JVM start takes seconds on an idle machine and more than the default 30 s on a loaded, shared one.
  const dynamo = await startDynamoDBLocal({ startTimeoutMs: 180_000 })
  // Here, once, rather than in the first test of whichever file runs first (dynamo-warm-up.ts).
  await warmUpDynamoDBLocal(dynamo.endpoint)
  project.provide('dynamoEndpoint', dynamo.endpoint)
  return async () => {
    await dynamo.stop()
  }
}
