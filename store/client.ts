// The DynamoDB clients, configured once per process (Lambda module scope, `npm start`, tests).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { classifyStoreFailures } from './unavailable.ts'

export interface DynamoConfig {
  /** DynamoDB Local's URL; unset on AWS. */
  readonly endpoint?: string | undefined
  /** @default process.env.AWS_REGION, else 'eu-west-1' */
  readonly region?: string | undefined
}

/** A client whose "store unavailable" failures arrive as ServiceUnavailableError (see unavailable.ts). */
export function createDynamoClient(config: DynamoConfig = {}): DynamoDBClient {
  const client = new DynamoDBClient({
    region: config.region ?? process.env.AWS_REGION ?? 'eu-west-1',
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          // DynamoDB Local accepts any credentials (it runs with -sharedDb).
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  })
  classifyStoreFailures(client)
  return client
}

/** The document client repositories use: plain JS values in and out, undefined attributes dropped. */
export function createDocumentClient(config: DynamoConfig | DynamoDBClient = {}): DynamoDBDocumentClient {
  const client = config instanceof DynamoDBClient ? config : createDynamoClient(config)
  classifyStoreFailures(client)
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } })
}
