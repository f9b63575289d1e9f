// A tenant's trusted GraphQL documents (persisted operations): the only documents its apps' end-user tokens may run.
// Each is stored under the id its manifest gives it and, when that id is not its SHA-256, once more under the SHA-256
// (what an APQ client sends), so a lookup by either is one GetItem. Registered once, never changed: an id always
// means the same document, whatever app version sends it.
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { batchGet } from './batch-get.ts'
import { defineEntity, timestamp } from './entity.ts'
import { keys } from './keys.ts'
import { queryAll } from './query.ts'
import type { StoreWrite } from './transaction.ts'

export interface TrustedDocument {
  readonly tenantId: string
  /** The id the manifest gave it (its SHA-256 in hex, or the tenant's own id). */
  readonly documentId: string
  /** The GraphQL document, exactly as registered. */
  readonly document: string
  /** SHA-256 of the document's UTF-8 bytes, lower-case hex (the APQ hash). */
  readonly sha256: string
  /** What it runs: `query GetConsent`, `mutation`, ... one per operation. */
  readonly operations: readonly string[]
  readonly registeredAt: string
}

/** A document as stored under one of its keys: its manifest id (listed) or its hash (an alias, not listed). */
interface StoredDocument extends TrustedDocument {
  readonly key: string
}

export const trustedDocumentEntity = defineEntity<StoredDocument>({
  type: 'TRUSTED_DOCUMENT',
  schema: () =>
    z.object({
      key: z.string(),
      tenantId: z.string(),
      documentId: z.string(),
      document: z.string(),
      sha256: z.string(),
      operations: z.array(z.string()),
      registeredAt: timestamp,
    }),
  keys: (stored) => ({
    ...keys.trustedDocument(stored.tenantId, stored.key),
    ...(stored.key === stored.documentId ? keys.trustedDocumentByTenant(stored.tenantId, stored.key) : {}),
  }),
})

const documentOf = (item: Record<string, unknown>): TrustedDocument => {
  const { key: _key, ...document } = trustedDocumentEntity.parse(item)
  return document
}

export class TrustedDocumentRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The document a tenant's app names by `key` (its manifest id or its SHA-256), or null. */
  async get(tenantId: string, key: string): Promise<TrustedDocument | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.trustedDocument(tenantId, key) }),
    )
    return Item ? documentOf(Item) : null
  }

  /** What is registered under each of `ids` (manifest ids or hashes), strongly consistent. */
  async getMany(tenantId: string, ids: readonly string[]): Promise<Map<string, TrustedDocument>> {
    const unique = [...new Set(ids)]
    const items = await batchGet(
      this.db,
      this.tableName,
      unique.map((id) => keys.trustedDocument(tenantId, id)),
      { consistent: true },
    )
    return new Map(
      items.map((item) => {
        const { key, ...document } = trustedDocumentEntity.parse(item)
        return [key, document]
      }),
    )
  }

  /** A tenant's documents by manifest id (an index read). */
  async list(tenantId: string): Promise<TrustedDocument[]> {
    const { items } = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.tenantDocumentsPartition(tenantId) },
    })
    return items.map(documentOf)
  }

  /**
   * The document's write under `key`: its manifest id (listed) or its hash (an alias, not listed). The condition
   * fails when `key` already names a document: registering is never a replacement.
   */
  register(document: TrustedDocument, key: string): StoreWrite {
    return {
      Put: {
        TableName: this.tableName,
        Item: trustedDocumentEntity.item({ key, ...document, operations: [...document.operations] }),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }
  }
}
