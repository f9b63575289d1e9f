// Receipts of provider notifications, by the provider's delivery id: the first delivery claims its id (a lease while it
// is processed), a processed one stays claimed for the replay window, and a failed one gives its claim back so the
// provider's retry is processed. A verbatim replay thus finds the receipt and is acknowledged without being processed.
import { randomUUID } from 'node:crypto'
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { PROVIDERS, type Provider } from '../domain/provider.ts'
import * as z from '../domain/zod.ts'
import { defineEntity, orNull, parseItem, timestamp } from './entity.ts'
import { keys } from './keys.ts'

const RECEIPT_STATES = ['IN_PROGRESS', 'PROCESSED'] as const

export interface NotificationReceipt {
  readonly provider: Provider
  readonly deliveryId: string
  /** IN_PROGRESS while a request processes it (its lease), PROCESSED once done. */
  readonly state: (typeof RECEIPT_STATES)[number]
  readonly leaseToken: string | null
  /** Epoch ms. */
  readonly leaseExpiresAt: number | null
  /** Epoch seconds (TTL): the end of the replay window. */
  readonly expiresAt: number
  readonly receivedAt: string
  readonly processedAt: string | null
}

export const notificationReceiptEntity = defineEntity<NotificationReceipt>({
  type: 'NOTIFICATION_RECEIPT',
  schema: () =>
    z.object({
      provider: z.enum(PROVIDERS),
      deliveryId: z.string(),
      state: z.enum(RECEIPT_STATES),
      leaseToken: orNull(z.string()),
      leaseExpiresAt: orNull(z.number()),
      expiresAt: z.number(),
      receivedAt: timestamp,
      processedAt: orNull(timestamp),
    }),
  keys: (receipt) => keys.notificationReceipt(receipt.provider, receipt.deliveryId),
})

/** What a refused claim reads of the receipt in its way (DynamoDB's attribute-value form). */
const refusingReceipt = z.lazy(() => z.object({ state: z.object({ S: z.enum(RECEIPT_STATES) }) }))

/**
 * claimed: process it, then {@link NotificationReceiptRepository.complete} or `release`.
 * processed: a replay of a notification already processed. in_progress: another request is processing it now.
 */
export type ReceiptClaim =
  | { readonly kind: 'claimed'; readonly leaseToken: string }
  | { readonly kind: 'processed' }
  | { readonly kind: 'in_progress' }

export interface NotificationReceiptOptions {
  /**
   * How long a claim blocks a replay before it counts as abandoned (the process died while processing).
   * @default 60_000
   */
  readonly leaseMs?: number
  /**
   * How long a receipt is kept: a verbatim replay within it is not processed again.
   * @default 604_800_000 (7 days)
   */
  readonly retentionMs?: number
}

export class NotificationReceiptRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: NotificationReceiptOptions = {},
  ) {}

  async claim(provider: Provider, deliveryId: string, now: Date): Promise<ReceiptClaim> {
    const leaseToken = randomUUID()
    const nowMs = now.getTime()
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: notificationReceiptEntity.item({
            provider,
            deliveryId,
            state: 'IN_PROGRESS',
            leaseToken,
            leaseExpiresAt: nowMs + (this.options.leaseMs ?? 60_000),
            expiresAt: Math.ceil((nowMs + (this.options.retentionMs ?? 7 * 86_400_000)) / 1000),
            receivedAt: now.toISOString(),
            processedAt: null,
          }),
          // TTL deletion is lazy: an expired receipt counts as absent; so does a claim whose holder died.
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt < :nowSeconds OR (#state = :inProgress AND leaseExpiresAt < :nowMs)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':nowSeconds': Math.floor(nowMs / 1000),
            ':nowMs': nowMs,
            ':inProgress': 'IN_PROGRESS',
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return { kind: 'claimed', leaseToken }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      if (!error.Item) return { kind: 'in_progress' }
      const { state } = parseItem(notificationReceiptEntity.type, refusingReceipt, error.Item)
      return state.S === 'PROCESSED' ? { kind: 'processed' } : { kind: 'in_progress' }
    }
  }

  /** The notification was processed: replays of it are acknowledged and dropped until the receipt expires. */
  async complete(provider: Provider, deliveryId: string, leaseToken: string, now: Date): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.notificationReceipt(provider, deliveryId),
          UpdateExpression: 'SET #state = :processed, processedAt = :now REMOVE leaseToken, leaseExpiresAt',
          ConditionExpression: 'leaseToken = :leaseToken',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':processed': 'PROCESSED',
            ':now': now.toISOString(),
            ':leaseToken': leaseToken,
          },
        }),
      )
    } catch (error) {
      // Our lease lapsed and a retry holds the id now: it completes it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }

  /** Processing failed: the claim is given back, so the provider's retry of the same delivery is processed. */
  async release(provider: Provider, deliveryId: string, leaseToken: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.notificationReceipt(provider, deliveryId),
          ConditionExpression: 'leaseToken = :leaseToken',
          ExpressionAttributeValues: { ':leaseToken': leaseToken },
        }),
      )
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }
}
