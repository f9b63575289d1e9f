// Idempotency records for createConsent: the first request with a key claims it (a lease), the consent's creating
// transaction completes it, and a repeat with the same key and input gets the same consent back.
import { randomUUID } from 'node:crypto'
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from '../domain/errors.ts'
import * as z from '../domain/zod.ts'
import { defineEntity, orNull, timestamp } from './entity.ts'
import { keys } from './keys.ts'
import type { StoreWrite } from './transaction.ts'

export type IdempotencyClaim =
  { readonly kind: 'claimed'; readonly leaseToken: string } | { readonly kind: 'completed'; readonly consentId: string }

/** IN_PROGRESS while a request holds the key (its lease), COMPLETED once the consent it created is written. */
const IDEMPOTENCY_STATES = ['IN_PROGRESS', 'COMPLETED'] as const
type IdempotencyState = (typeof IDEMPOTENCY_STATES)[number]
const IN_PROGRESS: IdempotencyState = 'IN_PROGRESS'
const COMPLETED: IdempotencyState = 'COMPLETED'

export interface IdempotencyRecord {
  readonly tenantId: string
  readonly idempotencyKey: string
  readonly state: IdempotencyState
  readonly inputHash: string
  /** While IN_PROGRESS: whose claim it is, and until when (epoch ms). */
  readonly leaseToken: string | null
  readonly leaseExpiresAt: number | null
  /** Once COMPLETED: the consent the key answers with. */
  readonly consentId: string | null
  /** Epoch seconds (TTL). */
  readonly expiresAt: number
  readonly createdAt: string
}

export const idempotencyEntity = defineEntity<IdempotencyRecord>({
  type: 'IDEMPOTENCY',
  schema: () =>
    z.object({
      // Records written before they kept their key parts have them in the key only (the claim supplies them).
      tenantId: z.string(),
      idempotencyKey: z.string(),
      state: z.enum(IDEMPOTENCY_STATES),
      inputHash: z.string(),
      leaseToken: orNull(z.string()),
      leaseExpiresAt: orNull(z.number()),
      consentId: orNull(z.string()),
      expiresAt: z.number(),
      createdAt: timestamp,
    }),
  keys: (record) => keys.idempotency(record.tenantId, record.idempotencyKey),
})

/** A held claim on an idempotency key: what completes it. */
export interface IdempotencyCompletion {
  readonly idempotencyKey: string
  readonly leaseToken: string
}

/**
 * Completes the claim with the consent it created, for that consent's creating transaction; fails unless the claim is
 * still in progress and ours.
 */
export function completeIdempotency(
  tableName: string,
  tenantId: string,
  claim: IdempotencyCompletion,
  consentId: string,
): StoreWrite {
  return {
    Update: {
      TableName: tableName,
      Key: keys.idempotency(tenantId, claim.idempotencyKey),
      UpdateExpression: 'SET #state = :completed, consentId = :consentId REMOVE leaseExpiresAt',
      ConditionExpression: '#state = :inProgress AND leaseToken = :leaseToken',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':completed': COMPLETED,
        ':inProgress': IN_PROGRESS,
        ':consentId': consentId,
        ':leaseToken': claim.leaseToken,
      },
    },
  }
}

export interface IdempotencyOptions {
  /**
   * How long a claim blocks others before it counts as abandoned (a crashed request).
   * @default 60_000
   */
  readonly leaseMs?: number
  /**
   * How long a completed key answers with the same consent.
   * @default 86_400 (24 hours)
   */
  readonly retentionSeconds?: number
}

export class IdempotencyRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: IdempotencyOptions = {},
  ) {}

  /**
   * Claims `idempotencyKey` for a request whose input hashes to `inputHash`.
   *
   * ```
   * no record / expired record / abandoned lease (same input) -> claimed (new lease)
   * COMPLETED, same input                                      -> completed (replay the consent)
   * IN_PROGRESS, same input, lease alive                       -> IdempotencyInProgressError (retry shortly)
   * any record, different input                                -> IdempotencyKeyReusedError
   * ```
   */
  async claim(tenantId: string, idempotencyKey: string, inputHash: string, now: Date): Promise<IdempotencyClaim> {
    const leaseToken = randomUUID()
    const nowMs = now.getTime()
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: idempotencyEntity.item({
            tenantId,
            idempotencyKey,
            state: IN_PROGRESS,
            inputHash,
            leaseToken,
            leaseExpiresAt: nowMs + (this.options.leaseMs ?? 60_000),
            consentId: null,
            expiresAt: Math.floor(nowMs / 1000) + (this.options.retentionSeconds ?? 86_400),
            createdAt: now.toISOString(),
          }),
          // TTL deletion is lazy: an expired record counts as absent.
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt < :nowSeconds OR (#state = :inProgress AND leaseExpiresAt < :nowMs AND inputHash = :hash)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':nowSeconds': Math.floor(nowMs / 1000),
            ':nowMs': nowMs,
            ':inProgress': IN_PROGRESS,
            ':hash': inputHash,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return { kind: 'claimed', leaseToken }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || !error.Item) throw error
      const existing = idempotencyEntity.parse({ tenantId, idempotencyKey, ...unmarshall(error.Item) })
      if (existing.inputHash !== inputHash) throw new IdempotencyKeyReusedError(idempotencyKey)
      if (existing.state === COMPLETED && existing.consentId !== null) {
        return { kind: 'completed', consentId: existing.consentId }
      }
      throw new IdempotencyInProgressError(idempotencyKey)
    }
  }

  /** Gives a claim back after the request failed, so a retry with the same key can run. */
  async release(tenantId: string, idempotencyKey: string, leaseToken: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.idempotency(tenantId, idempotencyKey),
          ConditionExpression: 'leaseToken = :leaseToken AND #state = :inProgress',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':leaseToken': leaseToken, ':inProgress': IN_PROGRESS },
        }),
      )
    } catch (error) {
      // Someone else's lease by now, or already completed: not ours to delete.
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }
}
