// Short claims on one consent's job (a re-check at its provider, delivering its webhooks), so two runners, two
// Lambda invocations or a timer and a stream, never work on the same consent at once. A claim expires by itself:
// a runner that dies holding one delays the work by at most the lease, it never blocks it.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { defineEntity } from './entity.ts'
import { keys, type ItemKey, type LeasePurpose } from './keys.ts'

export interface Lease {
  readonly tenantId: string
  readonly consentId: string
  readonly purpose: LeasePurpose
  readonly token: string
}

/** A stored claim: whose it is (`token`) and until when (`leaseUntil`, epoch ms). */
export interface LeaseItem {
  readonly key: ItemKey
  readonly token: string
  readonly leaseUntil: number
  /** Epoch seconds (TTL): claims nobody released are cleaned up (DynamoDB deletes within days; `leaseUntil` counts). */
  readonly expiresAt: number
}

/** Every claim of the table (a consent's job; a poller's shard), at the key of what it claims; only conditioned on. */
export const leaseEntity = defineEntity<LeaseItem>({
  type: 'LEASE',
  schema: () =>
    z.object({
      key: z.object({ pk: z.string(), sk: z.string() }),
      token: z.string(),
      leaseUntil: z.number(),
      expiresAt: z.number(),
    }),
  keys: (lease) => lease.key,
  keyOnly: ['key'],
})

/** The claim at `key` until `until` (epoch ms), written only if there is none or it has lapsed at `now`. */
function putLease(tableName: string, key: ItemKey, token: string, until: number, now: Date) {
  return {
    TableName: tableName,
    Item: leaseEntity.item({ key, token, leaseUntil: until, expiresAt: Math.ceil(until / 1000) + 3600 }),
    ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil <= :now',
    ExpressionAttributeValues: { ':now': now.getTime() },
  }
}

/** Deletes the claim at `key` if it is still `token`'s. */
function deleteLease(tableName: string, key: ItemKey, token: string) {
  return {
    TableName: tableName,
    Key: key,
    ConditionExpression: '#token = :token',
    ExpressionAttributeNames: { '#token': 'token' },
    ExpressionAttributeValues: { ':token': token },
  }
}

/** Claims `key` for `token` until `now + durationMs`; false while another claim there has not lapsed. */
export async function claimLease(
  db: DynamoDBDocumentClient,
  tableName: string,
  key: ItemKey,
  token: string,
  now: Date,
  durationMs: number,
): Promise<boolean> {
  try {
    await db.send(new PutCommand(putLease(tableName, key, token, now.getTime() + durationMs, now)))
    return true
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false
    throw error
  }
}

/** Gives the claim at `key` back, if it is still `token`'s. */
export async function releaseLease(
  db: DynamoDBDocumentClient,
  tableName: string,
  key: ItemKey,
  token: string,
): Promise<void> {
  try {
    await db.send(new DeleteCommand(deleteLease(tableName, key, token)))
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error
  }
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
    const key = keys.lease(ref.tenantId, ref.consentId, purpose)
    return (await claimLease(this.db, this.tableName, key, token, now, durationMs)) ? { ...ref, purpose, token } : null
  }

  /** Gives the claim back, if it is still ours. */
  async release(lease: Lease): Promise<void> {
    await releaseLease(this.db, this.tableName, keys.lease(lease.tenantId, lease.consentId, lease.purpose), lease.token)
  }
}
