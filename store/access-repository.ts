// API clients: client id -> tenant, secret hashes (the current one, and the one rotated out until its grace ends),
// disabled flag. Read by authentication on every first use of a credential and once per cache period after.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { defineEntity, orDefault, orNull, timestamp } from './entity.ts'
import { keys } from './keys.ts'
import { queryAll } from './query.ts'
import { TenantRepository } from './tenant-repository.ts'
import type { StoreWrite } from './transaction.ts'

export interface ApiClientRecord {
  readonly clientId: string
  readonly tenantId: string
  readonly name: string
  /** `hmac-sha256$<salt>$<hash>` for a generated secret, `scrypt-sha256$<N>$<r>$<p>$<salt>$<hash>` for a chosen one (older: `scrypt$...`); the secret itself is never stored. */
  readonly secretHash: string
  /** The hash a rotation replaced, verifying until {@link previousSecretUntil}; null (or absent) when none. */
  readonly previousSecretHash?: string | null | undefined
  /** ISO instant the previous secret stops working. */
  readonly previousSecretUntil?: string | null | undefined
  readonly disabled: boolean
  readonly createdAt: string
  /** The last rotation; null (or absent) when the secret is the first. */
  readonly secretRotatedAt?: string | null | undefined
  /** The last change of any kind (rotation, disabling, enabling). */
  readonly updatedAt?: string | undefined
}

/** A rotation, as stored: the new hash, and the outgoing one with the end of its grace. */
export interface SecretRotation {
  readonly clientId: string
  readonly tenantId: string
  /** The hash the rotation read as current: the write fails if another change came first. */
  readonly expectedHash: string
  readonly newHash: string
  readonly previousUntil: string
  readonly at: string
}

export const apiClientEntity = defineEntity<ApiClientRecord>({
  type: 'API_CLIENT',
  // Clients written before rotations and listing lack the rotation fields and `updatedAt` (then `createdAt`).
  schema: () =>
    z.pipe(
      z.object({
        clientId: z.string(),
        tenantId: z.string(),
        name: z.string(),
        secretHash: z.string(),
        previousSecretHash: orNull(z.string()),
        previousSecretUntil: orNull(timestamp),
        disabled: orDefault(z.boolean(), false),
        createdAt: timestamp,
        secretRotatedAt: orNull(timestamp),
        updatedAt: orNull(timestamp),
      }),
      z.transform((client) => ({ ...client, updatedAt: client.updatedAt ?? client.createdAt })),
    ),
  keys: (client) => ({
    ...keys.apiClient(client.clientId),
    ...keys.apiClientByTenant(client.tenantId, client.clientId),
  }),
})

const clientOf = (item: Record<string, unknown>): ApiClientRecord => apiClientEntity.parse(item)

export class AccessRepository {
  /** The tenants API clients act for. */
  readonly tenants: TenantRepository

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.tenants = new TenantRepository(db, tableName)
  }

  #item(client: ApiClientRecord): Record<string, unknown> {
    return apiClientEntity.item({ ...client, updatedAt: client.updatedAt ?? client.createdAt })
  }

  /** Writes the client as given, replacing any with its id (seeding a known client; tests). */
  async putApiClient(client: ApiClientRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: this.#item(client) }))
  }

  async getApiClient(clientId: string): Promise<ApiClientRecord | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiClient(clientId), ConsistentRead: true }),
    )
    return Item ? clientOf(Item) : null
  }

  /**
   * Gives a client item written before clients were listed per tenant (no gsi1 keys) its keys; false when there was
   * nothing to do (no such client, or listed already).
   */
  async backfillApiClient(clientId: string): Promise<boolean> {
    const client = await this.getApiClient(clientId)
    if (!client) return false
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.apiClient(clientId),
          UpdateExpression: 'SET gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, updatedAt = if_not_exists(updatedAt, createdAt)',
          ConditionExpression: 'tenantId = :tenant AND attribute_not_exists(gsi1pk)',
          ExpressionAttributeValues: {
            ':tenant': client.tenantId,
            ...Object.fromEntries(
              Object.entries(keys.apiClientByTenant(client.tenantId, clientId)).map(([name, value]) => [
                `:${name}`,
                value,
              ]),
            ),
          },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }

  /** A tenant's clients by client id (an index read: one created a moment ago may be missing for a moment). */
  async listApiClients(tenantId: string): Promise<ApiClientRecord[]> {
    const { items } = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.tenantApiClientsPartition(tenantId) },
    })
    return items.map(clientOf)
  }

  /** A new client; the condition fails if the id is taken. */
  createApiClient(client: ApiClientRecord): StoreWrite {
    return {
      Put: { TableName: this.tableName, Item: this.#item(client), ConditionExpression: 'attribute_not_exists(pk)' },
    }
  }

  /**
   * The new hash becomes current and the one it replaces verifies until `previousUntil`; a hash rotated out before
   * is dropped. The condition fails unless the client is the tenant's and its current hash is still `expectedHash`.
   */
  rotateSecret(rotation: SecretRotation): StoreWrite {
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.apiClient(rotation.clientId),
        UpdateExpression:
          'SET secretHash = :new, previousSecretHash = :expected, previousSecretUntil = :until, ' +
          'secretRotatedAt = :at, updatedAt = :at',
        ConditionExpression: 'tenantId = :tenant AND secretHash = :expected',
        ExpressionAttributeValues: {
          ':new': rotation.newHash,
          ':expected': rotation.expectedHash,
          ':until': rotation.previousUntil,
          ':at': rotation.at,
          ':tenant': rotation.tenantId,
        },
      },
    }
  }

  /**
   * Writes the client as given, replacing the one with its id only if that still has `expectedHash` as its current
   * hash (null: only if there is none).
   */
  replaceApiClient(client: ApiClientRecord, expectedHash: string | null): StoreWrite {
    return {
      Put: {
        TableName: this.tableName,
        Item: this.#item(client),
        ...(expectedHash === null
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: 'secretHash = :expected',
              ExpressionAttributeValues: { ':expected': expectedHash },
            }),
      },
    }
  }

  /** Disables or enables the client; the condition fails unless it exists and is the tenant's. */
  setDisabled(clientId: string, tenantId: string, disabled: boolean, at: string): StoreWrite {
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.apiClient(clientId),
        UpdateExpression: 'SET disabled = :disabled, updatedAt = :at',
        ConditionExpression: 'tenantId = :tenant',
        ExpressionAttributeValues: { ':disabled': disabled, ':at': at, ':tenant': tenantId },
      },
    }
  }
}
