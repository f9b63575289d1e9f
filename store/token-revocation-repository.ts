// Per end user of a tenant, the moment before which every token minted for them is revoked (`revokeUserTokens`).
// Tokens are verified from their signature alone; this item is the one thing a user token's check reads, through a
// cache of a few seconds (service/access-tokens.ts).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { defineEntity, parseItem } from './entity.ts'
import { keys } from './keys.ts'

export interface TokenRevocation {
  readonly tenantId: string
  readonly userId: string
  /** Epoch ms: the user's tokens issued at or before it are refused. */
  readonly revokedBefore: number
  /** Epoch seconds (TTL): when every token it refuses has expired anyway. */
  readonly expiresAt: number
}

export const tokenRevocationEntity = defineEntity<TokenRevocation>({
  type: 'USER_TOKEN_REVOCATION',
  schema: () =>
    z.object({ tenantId: z.string(), userId: z.string(), revokedBefore: z.number(), expiresAt: z.number() }),
  keys: (revocation) => keys.userTokenRevocation(revocation.tenantId, revocation.userId),
})

/** What the hot check reads of a revocation (a projection). */
const revokedBeforeSchema = z.lazy(() => z.object({ revokedBefore: z.number() }))

export class TokenRevocationRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Epoch ms: tokens of this user issued at or before it are revoked; null when none ever was. */
  async revokedBefore(tenantId: string, userId: string): Promise<number | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.userTokenRevocation(tenantId, userId),
        ConsistentRead: true,
        ProjectionExpression: 'revokedBefore',
      }),
    )
    return Item ? parseItem(tokenRevocationEntity.type, revokedBeforeSchema, Item).revokedBefore : null
  }

  /**
   * Revokes the user's tokens issued at or before `at` (epoch ms). The moment only moves forward: a revocation that
   * arrives late, from a slower clock, leaves a later one in place. `expiresAt` (epoch seconds) lets TTL remove the
   * item once every token it revokes has expired anyway.
   */
  async revoke(tenantId: string, userId: string, at: number, expiresAt: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.userTokenRevocation(tenantId, userId),
          UpdateExpression:
            'SET entityType = :type, tenantId = :tenant, userId = :user, revokedBefore = :at, expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(revokedBefore) OR revokedBefore < :at',
          ExpressionAttributeValues: {
            ':type': tokenRevocationEntity.type,
            ':tenant': tenantId,
            ':user': userId,
            ':at': at,
            ':expires': expiresAt,
          },
        }),
      )
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }
}
