// A consent's provider-issued secret (sealed; the store never sees it in the clear), kept in the consent's partition
// and separate from the consent item, so reads of the consent never carry it.
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { keys } from './keys.ts'

export interface StoredSecret {
  readonly keyId: string
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
}

export class ConsentSecretRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(tenantId: string, consentId: string, sealed: StoredSecret, now: Date): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.consentSecret(tenantId, consentId),
          entityType: 'CONSENT_SECRET',
          keyId: sealed.keyId,
          iv: sealed.iv,
          ciphertext: sealed.ciphertext,
          tag: sealed.tag,
          updatedAt: now.toISOString(),
        },
      }),
    )
  }

  async get(tenantId: string, consentId: string): Promise<StoredSecret | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.consentSecret(tenantId, consentId), ConsistentRead: true }),
    )
    if (!Item) return null
    return {
      keyId: String(Item.keyId),
      iv: String(Item.iv),
      ciphertext: String(Item.ciphertext),
      tag: String(Item.tag),
    }
  }

  /** Crypto-shredding: once the consent is deleted at its provider, its secret goes too. */
  async delete(tenantId: string, consentId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.consentSecret(tenantId, consentId) }))
  }
}
