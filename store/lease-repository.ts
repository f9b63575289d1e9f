// Short claims on one consent's job (a re-check at its provider, delivering its webhooks), so two runners, two
// Lambda invocations or a timer and a stream, never work on the same consent at once. A claim expires by itself:
// a runner that dies holding one delays the work by at most the lease, it never blocks it.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { keys, type LeasePurpose } from './keys.ts'

export interface Lease {
  readonly tenantId: string
  readonly consentId: string
  readonly purpose: LeasePurpose
  readonly token: string
}

export class LeaseRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Claims the job for `durationMs` from `now`; null when another runner holds a claim that has not expired. */
  async acquire(
    ref: { tenantId: string; consentId: string },
    purpose: LeasePurpose,
    token: string,
    now: Date,
    durationMs: number,
  ): Promise<Lease | null> {
    const until = now.getTime() + durationMs
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.lease(ref.tenantId, ref.consentId, purpose),
            entityType: 'LEASE',
            token,
            leaseUntil: until,
            // TTL cleans up claims nobody released (DynamoDB deletes within days; `leaseUntil` is what counts).
            expiresAt: Math.ceil(until / 1000) + 3600,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil <= :now',
          ExpressionAttributeValues: { ':now': now.getTime() },
        }),
      )
      return { ...ref, purpose, token }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null
      throw error
    }
  }

  /** Gives the claim back, if it is still ours. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.lease(lease.tenantId, lease.consentId, lease.purpose),
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': lease.token },
        }),
      )
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }
}
