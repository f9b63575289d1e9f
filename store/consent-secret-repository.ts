// A consent's provider-issued secret (sealed; the store never sees it in the clear), kept in the consent's partition
// and separate from the consent item, so reads of the consent never carry it.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb'
import { DeleteCommand, GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { ConcurrentModificationError } from '../domain/errors.ts'
import * as z from '../domain/zod.ts'
import { defineEntity, timestamp } from './entity.ts'
import { keys } from './keys.ts'

export interface StoredSecret {
  readonly keyId: string
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
}

/** A sealed secret's parts (crypto/secret-box.ts): what the webhook settings keep for their signing secrets too. */
const sealedShape = { keyId: z.string(), iv: z.string(), ciphertext: z.string(), tag: z.string() }
export const sealedSchema: z.ZodMiniType<StoredSecret> = z.lazy(() => z.object(sealedShape))

interface ConsentSecretItem extends StoredSecret {
  readonly tenantId: string
  readonly consentId: string
  readonly updatedAt: string
}

export const consentSecretEntity = defineEntity<ConsentSecretItem>({
  type: 'CONSENT_SECRET',
  // Items written before the secret kept its key parts have them in the key only (a read supplies them).
  schema: () => z.object({ ...sealedShape, tenantId: z.string(), consentId: z.string(), updatedAt: timestamp }),
  keys: (secret) => keys.consentSecret(secret.tenantId, secret.consentId),
})

const isCancelledBy = (error: unknown, index: number): boolean =>
  error instanceof TransactionCanceledException && error.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed'

export class ConsentSecretRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Stores the sealed secret unless its consent is already deleted at the provider; false when it was not stored. (A
   * consent not written yet passes: creation seals the secret just before the consent's own transaction.) The check and
   * the write are one transaction, so a reader that fetched the secret before a concurrent deletion cannot bring it
   * back after the deletion shredded it: deletion writes `deletion.status = SUCCESS` first, then deletes the secret,
   * and every later put sees the mark. `replacing` is the sealed secret the caller read (null: none): when another
   * writer stored a different one since, nothing is written and {@link ConcurrentModificationError} is thrown, so a
   * writer that read an older secret never overwrites a newer one unseen.
   */
  async put(
    tenantId: string,
    consentId: string,
    sealed: StoredSecret,
    now: Date,
    replacing: StoredSecret | null,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: keys.consent(tenantId, consentId),
                ConditionExpression: 'attribute_not_exists(deletion.#status) OR deletion.#status <> :deleted',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':deleted': 'SUCCESS' },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: consentSecretEntity.item({
                  tenantId,
                  consentId,
                  keyId: sealed.keyId,
                  iv: sealed.iv,
                  ciphertext: sealed.ciphertext,
                  tag: sealed.tag,
                  updatedAt: now.toISOString(),
                }),
                // A seal's IV is random per seal: the same IV and ciphertext are the very secret the caller read.
                ...(replacing
                  ? {
                      ConditionExpression: 'iv = :iv AND ciphertext = :ciphertext',
                      ExpressionAttributeValues: { ':iv': replacing.iv, ':ciphertext': replacing.ciphertext },
                    }
                  : { ConditionExpression: 'attribute_not_exists(pk)' }),
              },
            },
          ],
        }),
      )
      return true
    } catch (error) {
      if (isCancelledBy(error, 0)) return false
      if (isCancelledBy(error, 1)) throw new ConcurrentModificationError(consentId, "The consent's provider secret")
      throw error
    }
  }

  async get(tenantId: string, consentId: string): Promise<StoredSecret | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.consentSecret(tenantId, consentId), ConsistentRead: true }),
    )
    if (!Item) return null
    const { keyId, iv, ciphertext, tag } = consentSecretEntity.parse({ tenantId, consentId, ...Item })
    return { keyId, iv, ciphertext, tag }
  }

  /** Crypto-shredding: once the consent is deleted at its provider, its secret goes too. */
  async delete(tenantId: string, consentId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.consentSecret(tenantId, consentId) }))
  }
}
