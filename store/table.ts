// The one DynamoDB table: a single definition used by tests and `npm start` (CreateTable) and by infra/storage.ts.

export interface IndexDefinition {
  readonly name: string
  readonly partitionKey: string
  readonly sortKey: string
}

/** Generic key attributes every entity shares (docs/data-model.md); the key formats live in keys.ts. */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Every attribute used in a key, all strings. */
  keyAttributes: [
    'pk',
    'sk',
    'gsi1pk',
    'gsi1sk',
    'gsi2pk',
    'gsi2sk',
    'gsi3pk',
    'gsi3sk',
    'gsi4pk',
    'gsi4sk',
    'gsi5pk',
    'gsi5sk',
  ],
  globalIndexes: [
    /** A tenant's consents, newest first (sort key is the consent ULID). */
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /** One end user's consents within a tenant, newest first. */
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    /**
     * Due work, sparse: a consent's next deadline (link expiry, end of validity, reconfirmation, warnings) and a
     * webhook delivery's next attempt, sharded, sorted by when they fall due; only items with work to do are in it.
     */
    { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
    /** Consents to re-check at their provider (the reconciler), sparse, per provider and shard, by when they fall due. */
    { name: 'gsi4', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
    /**
     * The change feed across tenants, sparse: every event item, sharded by consent id, sorted by event id (time), so
     * the subscription poller reads what changed since its cursor with one range query per shard.
     */
    { name: 'gsi5', partitionKey: 'gsi5pk', sortKey: 'gsi5sk' },
  ],
  /** Epoch seconds; idempotency records and leases expire through TTL. */
  ttlAttribute: 'expiresAt',
  /** The outbox relay (on AWS) reads inserts from the stream. */
  streamView: 'NEW_AND_OLD_IMAGES',
} as const satisfies {
  partitionKey: string
  sortKey: string
  keyAttributes: readonly string[]
  globalIndexes: readonly IndexDefinition[]
  ttlAttribute: string
  streamView: string
}

export type IndexName = (typeof TABLE.globalIndexes)[number]['name']

/** The CreateTable request for {@link TABLE} (on-demand billing, as on AWS). */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: TABLE.keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: TABLE.globalIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.streamView },
  }
}
