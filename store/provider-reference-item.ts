// The provider reference item: a provider's consent id -> which tenant's consent it is, written in the consent's
// creating transaction so a provider notification finds its consent with one strongly consistent read.
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { PROVIDERS, type Provider } from '../domain/provider.ts'
import * as z from '../domain/zod.ts'
import { defineEntity } from './entity.ts'
import { keys } from './keys.ts'
import type { StoreWrite } from './transaction.ts'

export interface ProviderReference {
  readonly provider: Provider
  readonly providerConsentId: string
  readonly tenantId: string
  readonly consentId: string
}

export const providerReferenceEntity = defineEntity<ProviderReference>({
  type: 'PROVIDER_REF',
  schema: () =>
    z.object({
      provider: z.enum(PROVIDERS),
      providerConsentId: z.string(),
      tenantId: z.string(),
      consentId: z.string(),
    }),
  keys: (reference) => keys.providerRef(reference.provider, reference.providerConsentId),
})

/** A new reference; fails if the provider's id already names a consent. */
export const putProviderReference = (tableName: string, reference: ProviderReference): StoreWrite => ({
  Put: {
    TableName: tableName,
    Item: providerReferenceEntity.item(reference),
    ConditionExpression: 'attribute_not_exists(pk)',
  },
})

/** Which tenant's consent a provider's id names (strongly consistent); null when none. */
export async function findProviderReference(
  db: DynamoDBDocumentClient,
  tableName: string,
  provider: Provider,
  providerConsentId: string,
): Promise<{ tenantId: string; consentId: string } | null> {
  const { Item } = await db.send(
    new GetCommand({ TableName: tableName, Key: keys.providerRef(provider, providerConsentId), ConsistentRead: true }),
  )
  if (!Item) return null
  // Items written before the reference kept its key parts as attributes have them in the key only.
  const { tenantId, consentId } = providerReferenceEntity.parse({ provider, providerConsentId, ...Item })
  return { tenantId, consentId }
}
