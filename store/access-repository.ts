// Tenants and their API clients (client id -> tenant + secret hash).
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { keys } from './keys.ts'

export interface TenantRecord {
  readonly tenantId: string
  readonly name: string
  readonly createdAt: string
}

export interface ApiClientRecord {
  readonly clientId: string
  readonly tenantId: string
  readonly name: string
  /** `scrypt-sha256$<N>$<r>$<p>$<salt>$<hash>` (older: `scrypt$...`); the secret itself is never stored. */
  readonly secretHash: string
  readonly disabled: boolean
  readonly createdAt: string
}

export class AccessRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putTenant(tenant: TenantRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.tenant(tenant.tenantId), entityType: 'TENANT', ...tenant },
      }),
    )
  }

  async getTenant(tenantId: string): Promise<TenantRecord | null> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.tenant(tenantId) }))
    return Item ? { tenantId: String(Item.tenantId), name: String(Item.name), createdAt: String(Item.createdAt) } : null
  }

  async putApiClient(client: ApiClientRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.apiClient(client.clientId), entityType: 'API_CLIENT', ...client },
      }),
    )
  }

  async getApiClient(clientId: string): Promise<ApiClientRecord | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiClient(clientId), ConsistentRead: true }),
    )
    if (!Item) return null
    return {
      clientId: String(Item.clientId),
      tenantId: String(Item.tenantId),
      name: String(Item.name),
      secretHash: String(Item.secretHash),
      disabled: Item.disabled === true,
      createdAt: String(Item.createdAt),
    }
  }
}
