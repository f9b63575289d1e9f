// The one DynamoDB table, built from store/table.ts (the definition tests and `npm start` create locally), so the
// deployed keys and indexes cannot drift from the ones the code queries.
import { TABLE } from '../store/table.ts'

/** Stages whose data must survive a mistaken `sst remove` or a replaced resource. */
const isProduction = $app.stage === 'production'

/** DynamoDB's stream view types in the spelling `sst.aws.Dynamo` takes. */
const STREAM_KINDS = {
  NEW_AND_OLD_IMAGES: 'new-and-old-images',
  NEW_IMAGE: 'new-image',
  OLD_IMAGE: 'old-image',
  KEYS_ONLY: 'keys-only',
} as const

/**
 * The consent gateway's table: on-demand billing (nothing to pay while idle but storage), point-in-time recovery
 * (always on in `sst.aws.Dynamo`), the stream for the outbox relay, TTL for idempotency records and leases.
 *
 * On `production` the table has deletion protection and is retained if removed from the app.
 */
export const table = new sst.aws.Dynamo(
  'Table',
  {
    fields: Object.fromEntries(TABLE.keyAttributes.map((name) => [name, 'string' as const])),
    primaryIndex: { hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey },
    globalIndexes: Object.fromEntries(
      TABLE.globalIndexes.map((index) => [
        index.name,
        { hashKey: index.partitionKey, rangeKey: index.sortKey, projection: 'all' as const },
      ]),
    ),
    stream: STREAM_KINDS[TABLE.streamView],
    ttl: TABLE.ttlAttribute,
    deletionProtection: isProduction,
    transform: {
      // sst.aws.Dynamo turns point-in-time recovery on already; stated here so the guarantee lives in this file.
      table: { pointInTimeRecovery: { enabled: true } },
    },
  },
  // Passed down to the DynamoDB table by the component (with `removal: 'retain'` SST would retain it too).
  { retainOnDelete: isProduction },
)
