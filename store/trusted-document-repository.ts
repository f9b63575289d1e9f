// A tenant's trusted GraphQL documents (persisted operations): the only documents its apps' end-user tokens may run.
// Each is stored under the id its manifest gives it and, when that id is not its SHA-256, once more under the SHA-256
// (what an APQ client sends), so a lookup by either is one GetItem. Registered once, never changed: an id always
// means the same document, whatever app version sends it.
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  GetCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb'
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

const BATCH_GET_LIMIT = 100

const documentOf = (item: Record<string, unknown>): TrustedDocument => ({
  tenantId: String(item.tenantId),
  documentId: String(item.documentId),
  document: String(item.document),
  sha256: String(item.sha256),
  operations: Array.isArray(item.operations) ? item.operations.map(String) : [],
  registeredAt: String(item.registeredAt),
})

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
    const found = new Map<string, TrustedDocument>()
    const unique = [...new Set(ids)]
    for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] | undefined = unique
        .slice(start, start + BATCH_GET_LIMIT)
        .map((id) => keys.trustedDocument(tenantId, id))
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** attempt)))
        const page: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        )
        for (const item of page.Responses?.[this.tableName] ?? []) {
          found.set(String(item.key), documentOf(item))
        }
        pending = page.UnprocessedKeys?.[this.tableName]?.Keys
      }
    }
    return found
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
    const listed = key === document.documentId
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.trustedDocument(document.tenantId, key),
          ...(listed ? keys.trustedDocumentByTenant(document.tenantId, key) : {}),
          entityType: 'TRUSTED_DOCUMENT',
          key,
          ...document,
          operations: [...document.operations],
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }
  }
}
