// Tenants: a partner's name, the web origins its pages may call from, and its request limits (with, on AWS, the API
// Gateway key and usage plan that enforce them). Created and changed only by administration
// (service/tenant-admin.ts), each change in one transaction with its admin log entry.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { RateLimits } from '../domain/rate-limits.ts'
import * as z from '../domain/zod.ts'
import { defineEntity, orDefault, orNull, timestamp } from './entity.ts'
import { keys } from './keys.ts'
import { queryAll } from './query.ts'
import type { StoreWrite } from './transaction.ts'

export interface TenantRecord {
  readonly tenantId: string
  readonly name: string
  /** Exactly as browsers send them (`https://app.example.com`); the CORS check reads them. */
  readonly allowedOrigins: readonly string[]
  readonly createdAt: string
  readonly updatedAt: string
  /** Its own request limits (`set-limits`); none: the stage's default usage plan on AWS, no limit locally. */
  readonly rateLimits?: RateLimits | null | undefined
  /** On AWS: the API Gateway API key and usage plan that apply `rateLimits` (the authorizer names the key). */
  readonly usagePlan?: TenantUsagePlan | null | undefined
}

/** A tenant's API Gateway usage plan and the key that selects it. */
export interface TenantUsagePlan {
  readonly usagePlanId: string
  readonly apiKeyId: string
  /** What the authorizer returns as `usageIdentifierKey`. Not a credential: the REST API takes keys from it alone. */
  readonly apiKeyValue: string
}

export const tenantEntity = defineEntity<TenantRecord>({
  type: 'TENANT',
  // Tenants written before they were listed lack origins and `updatedAt` (which then is `createdAt`).
  schema: () =>
    z.pipe(
      z.object({
        tenantId: z.string(),
        name: z.string(),
        allowedOrigins: orDefault(z.array(z.string()), []),
        createdAt: timestamp,
        updatedAt: orNull(timestamp),
        rateLimits: orNull(z.object({ rate: z.number(), burst: z.number(), quotaPerDay: z.number() })),
        usagePlan: orNull(z.object({ usagePlanId: z.string(), apiKeyId: z.string(), apiKeyValue: z.string() })),
      }),
      z.transform((tenant) => ({ ...tenant, updatedAt: tenant.updatedAt ?? tenant.createdAt })),
    ),
  keys: (tenant) => ({ ...keys.tenant(tenant.tenantId), ...keys.tenantInList(tenant.tenantId) }),
})

const tenantOf = (item: Record<string, unknown>): TenantRecord => tenantEntity.parse(item)

export class TenantRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string): Promise<TenantRecord | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.tenant(tenantId), ConsistentRead: true }),
    )
    return Item ? tenantOf(Item) : null
  }

  /** Every tenant, oldest first (an index read: a tenant created a moment ago may be missing for a moment). */
  async list(): Promise<TenantRecord[]> {
    const { items } = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.tenantsPartition },
    })
    return items.map(tenantOf)
  }

  /** A new tenant; the condition fails if the id is taken. */
  create(tenant: TenantRecord): StoreWrite {
    return {
      Put: {
        TableName: this.tableName,
        Item: tenantEntity.item({ ...tenant, allowedOrigins: [...tenant.allowedOrigins] }),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }
  }

  /** Holds only while the tenant exists (what a new API client or document of it is written with). */
  exists(tenantId: string): StoreWrite {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: keys.tenant(tenantId),
        ConditionExpression: 'attribute_exists(pk)',
      },
    }
  }

  /** Replaces the tenant's allowed origins; the condition fails if there is no such tenant. */
  setAllowedOrigins(tenantId: string, origins: readonly string[], at: string): StoreWrite {
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.tenant(tenantId),
        UpdateExpression: 'SET allowedOrigins = :origins, updatedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':origins': [...origins], ':at': at },
      },
    }
  }

  /**
   * Sets the tenant's request limits, and on AWS the usage plan that applies them (kept as it is when not given); the
   * condition fails if there is no such tenant.
   */
  setRateLimits(tenantId: string, limits: RateLimits, usagePlan: TenantUsagePlan | null, at: string): StoreWrite {
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.tenant(tenantId),
        UpdateExpression: `SET rateLimits = :limits, updatedAt = :at${usagePlan ? ', usagePlan = :plan' : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: {
          ':limits': { rate: limits.rate, burst: limits.burst, quotaPerDay: limits.quotaPerDay },
          ':at': at,
          ...(usagePlan ? { ':plan': { ...usagePlan } } : {}),
        },
      },
    }
  }

  /**
   * Gives a tenant item written before tenants were listed (no gsi1 keys, no origins) what it lacks; false when there
   * was nothing to do (no such tenant, or listed already).
   */
  async backfill(tenantId: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.tenant(tenantId),
          UpdateExpression:
            'SET gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, allowedOrigins = if_not_exists(allowedOrigins, :none), ' +
            'updatedAt = if_not_exists(updatedAt, createdAt)',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(gsi1pk)',
          ExpressionAttributeValues: {
            ...Object.fromEntries(
              Object.entries(keys.tenantInList(tenantId)).map(([name, value]) => [`:${name}`, value]),
            ),
            ':none': [],
          },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }

  /**
   * Creates the tenant, or renames it, keeping everything else it has (allowed origins above all): what seeding a
   * known tenant at every `npm start` needs. Resolves with whether the tenant was created.
   */
  async seed(tenant: Pick<TenantRecord, 'tenantId' | 'name'>, at: string): Promise<boolean> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.tenant(tenant.tenantId),
        UpdateExpression:
          'SET entityType = :type, tenantId = :id, #name = :name, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, ' +
          'createdAt = if_not_exists(createdAt, :at), updatedAt = if_not_exists(updatedAt, :at), ' +
          'allowedOrigins = if_not_exists(allowedOrigins, :none)',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: {
          ':type': tenantEntity.type,
          ':id': tenant.tenantId,
          ':name': tenant.name,
          ':at': at,
          ':none': [],
          ...Object.fromEntries(
            Object.entries(keys.tenantInList(tenant.tenantId)).map(([name, value]) => [`:${name}`, value]),
          ),
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    )
    return Attributes?.tenantId === undefined
  }
}
