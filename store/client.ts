// The DynamoDB clients, configured once per process (Lambda module scope, `npm start`, tests).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

export interface DynamoConfig {
  /** DynamoDB Local's URL; unset on AWS. */
  readonly endpoint?: string | undefined
  /** @default process.env.AWS_REGION, else 'eu-west-1' */
  readonly region?: string | undefined
}

export function createDynamoClient(config: DynamoConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region ?? process.env.AWS_REGION ?? 'eu-west-1',
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          // DynamoDB Local accepts any credentials (it runs with -sharedDb).
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  })
}

/** The document client repositories use: plain JS values in and out, undefined attributes dropped. */
export function createDocumentClient(config: DynamoConfig | DynamoDBClient = {}): DynamoDBDocumentClient {
  const client = config instanceof DynamoDBClient ? config : createDynamoClient(config)
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } })
}
