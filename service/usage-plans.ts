// A tenant's API Gateway usage plan on AWS: a plan on the REST API's stage with the tenant's rate, burst and daily
// quota, and an API key in it that the authorizer names for the tenant's requests (functions/authorizer.ts). Made and
// changed by `set-limits` (service/tenant-admin.ts) through API Gateway's control API.
import { randomBytes } from 'node:crypto'
import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanCommand,
  NotFoundException,
  UpdateUsagePlanCommand,
} from '@aws-sdk/client-api-gateway'
import type { RateLimits } from '../domain/rate-limits.ts'
import type { TenantUsagePlan } from '../store/tenant-repository.ts'

/** Makes and changes tenants' usage plans. */
export interface UsagePlans {
  /** The tenant's plan with `limits`: `existing` changed in place, or a new plan and key when there is none. */
  apply(tenantId: string, limits: RateLimits, existing: TenantUsagePlan | null): Promise<TenantUsagePlan>
  /** Removes a plan and key `apply` just made (when what should have recorded them failed). */
  discard(plan: TenantUsagePlan): Promise<void>
}

/** The REST API stage the plans are attached to: its id and stage name (the `GatewayStage` link under `sst shell`). */
export interface GatewayStage {
  readonly restApiId: string
  readonly stageName: string
}

const throttleOf = (limits: RateLimits) => ({ rateLimit: limits.rate, burstLimit: limits.burst })
const quotaOf = (limits: RateLimits) => ({ limit: limits.quotaPerDay, period: 'DAY' as const, offset: 0 })

/** API keys are 20 to 128 characters; 32 random bytes, base64url. */
const newKeyValue = () => randomBytes(32).toString('base64url')

export class ApiGatewayUsagePlans implements UsagePlans {
  constructor(
    private readonly client: APIGatewayClient,
    private readonly stage: GatewayStage,
  ) {}

  async apply(tenantId: string, limits: RateLimits, existing: TenantUsagePlan | null): Promise<TenantUsagePlan> {
    if (existing) {
      try {
        await this.client.send(
          new UpdateUsagePlanCommand({
            usagePlanId: existing.usagePlanId,
            patchOperations: [
              { op: 'replace', path: '/throttle/rateLimit', value: String(limits.rate) },
              { op: 'replace', path: '/throttle/burstLimit', value: String(limits.burst) },
              { op: 'replace', path: '/quota/limit', value: String(limits.quotaPerDay) },
              { op: 'replace', path: '/quota/period', value: 'DAY' },
            ],
          }),
        )
        return existing
      } catch (error) {
        // Deleted by hand since: made again below.
        if (!(error instanceof NotFoundException)) throw error
      }
    }
    const name = `${this.stage.restApiId}-${this.stage.stageName}-${tenantId}`
    const plan = await this.client.send(
      new CreateUsagePlanCommand({
        name,
        description: `Request limits of tenant ${tenantId}`,
        apiStages: [{ apiId: this.stage.restApiId, stage: this.stage.stageName }],
        throttle: throttleOf(limits),
        quota: quotaOf(limits),
        tags: { tenant: tenantId },
      }),
    )
    const usagePlanId = required(plan.id, 'CreateUsagePlan gave no id')
    let apiKeyId: string | undefined
    try {
      const key = await this.client.send(
        new CreateApiKeyCommand({ name, enabled: true, value: newKeyValue(), tags: { tenant: tenantId } }),
      )
      apiKeyId = required(key.id, 'CreateApiKey gave no id')
      const apiKeyValue = required(key.value, 'CreateApiKey gave no value')
      await this.client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: apiKeyId, keyType: 'API_KEY' }))
      return { usagePlanId, apiKeyId, apiKeyValue }
    } catch (error) {
      await this.discard({ usagePlanId, apiKeyId: apiKeyId ?? '', apiKeyValue: '' })
      throw error
    }
  }

  async discard(plan: TenantUsagePlan): Promise<void> {
    // Best effort, key and stage first: a plan still attached to a stage cannot be deleted.
    if (plan.apiKeyId) await this.client.send(new DeleteApiKeyCommand({ apiKey: plan.apiKeyId })).catch(() => {})
    const stage = `${this.stage.restApiId}:${this.stage.stageName}`
    await this.client
      .send(
        new UpdateUsagePlanCommand({
          usagePlanId: plan.usagePlanId,
          patchOperations: [{ op: 'remove', path: '/apiStages', value: stage }],
        }),
      )
      .catch(() => {})
    await this.client.send(new DeleteUsagePlanCommand({ usagePlanId: plan.usagePlanId })).catch(() => {})
  }
}

function required(value: string | undefined, message: string): string {
  if (!value) throw new Error(message)
  return value
}
