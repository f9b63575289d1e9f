// A tenant's webhook settings: the default endpoint (for consents created without their own `webhookUrl`) and the
// signing secrets, sealed (crypto/secret-box.ts). Two secrets during a rotation: the new one, and the previous one
// until it retires; deliveries are signed with both meanwhile.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { sealedSchema, type StoredSecret } from './consent-secret-repository.ts'
import { defineEntity, orDefault, orNull, timestamp } from './entity.ts'
import { keys } from './keys.ts'

export interface StoredSigningSecret {
  readonly sealed: StoredSecret
  readonly createdAt: string
  /** When a rotation replaced it: signatures with it stop then. Null for the current secret. */
  readonly retiresAt: string | null
}

export interface StoredWebhookSettings {
  readonly tenantId: string
  readonly defaultUrl: string | null
  /** Current first. */
  readonly secrets: readonly StoredSigningSecret[]
  /** Optimistic locking: every change is conditioned on the revision it read. */
  readonly revision: number
}

const signingSecretSchema: z.ZodMiniType<StoredSigningSecret> = z.lazy(() =>
  z.object({
    sealed: sealedSchema,
    createdAt: timestamp,
    retiresAt: orNull(timestamp),
  }),
)

export const webhookSettingsEntity = defineEntity<StoredWebhookSettings & { updatedAt: string }>({
  type: 'WEBHOOK_SETTINGS',
  schema: () =>
    z.object({
      tenantId: z.string(),
      defaultUrl: orNull(z.string()),
      secrets: orDefault(z.array(signingSecretSchema), []),
      revision: orDefault(z.number(), 0),
      updatedAt: timestamp,
    }),
  keys: (settings) => keys.webhookSettings(settings.tenantId),
})

export class WebhookSettingsRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string): Promise<StoredWebhookSettings | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.webhookSettings(tenantId), ConsistentRead: true }),
    )
    if (!Item) return null
    const { updatedAt: _at, ...settings } = webhookSettingsEntity.parse({ tenantId, ...Item })
    return settings
  }

  /** Writes `next` if the stored settings are still at `next.revision - 1` (or absent for revision 1); false if not. */
  async put(next: StoredWebhookSettings, now: Date): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: webhookSettingsEntity.item({
            tenantId: next.tenantId,
            defaultUrl: next.defaultUrl,
            secrets: next.secrets,
            revision: next.revision,
            updatedAt: now.toISOString(),
          }),
          ConditionExpression: next.revision === 1 ? 'attribute_not_exists(pk)' : 'revision = :previous',
          ...(next.revision === 1 ? {} : { ExpressionAttributeValues: { ':previous': next.revision - 1 } }),
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }
}
