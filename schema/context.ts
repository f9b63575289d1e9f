// What every resolver receives: the authenticated principal, the use cases, and the request's own signal and id.
import type { AccessTokens } from '../service/access-tokens.ts'
import type { Principal } from '../service/principal.ts'
import type { ConsentService } from '../service/consent-service.ts'
import type { ConsentWatcher } from '../service/consent-watcher.ts'
import type { ProviderOperations } from '../service/provider-operations.ts'
import type { TrustedDocuments } from '../service/trusted-documents.ts'
import type { TenantRateLimiter } from '../service/rate-limiter.ts'
import type { EventFeed } from '../service/event-feed.ts'
import type { WebhookDeliveries } from '../service/webhook-deliveries.ts'
import type { WebhookSettingsService } from '../service/webhook-settings.ts'
import type { ProviderRegistry } from '../providers/adapter.ts'
import type { Logger } from '../runtime/logging.ts'

export interface GraphQLServices {
  readonly consents: ConsentService
  /** Re-authorise, reconfirm, delete: what only some providers offer. */
  readonly operations: ProviderOperations
  /** Live consent updates (the process's one poll; for one answer through API Gateway, a snapshot's stand-in). */
  readonly watcher: Pick<ConsentWatcher, 'watch'>
  readonly providers: ProviderRegistry
  readonly logger: Logger
  readonly events: Pick<EventFeed, 'page' | 'follow'>
  readonly webhooks: WebhookSettingsService
  readonly deliveries: WebhookDeliveries
  /** Minting and revoking end users' tokens. */
  readonly tokens: AccessTokens
  /** The documents each tenant registered: all an end user's token may run, by documentId or APQ hash. */
  readonly trustedDocuments: Pick<TrustedDocuments, 'find'>
  /** The gateway's clock: derived fields (effective status, nextAction) are computed against it. */
  readonly clock: () => Date
  /**
   * How long a subscription may stay open (epoch ms deadline for one that starts now). On Lambda it comes from the
   * invocation's remaining time.
   */
  readonly subscriptionDeadline: () => number
  /**
   * Each tenant's request limits, applied in process; none where API Gateway applies them (AWS).
   * @default undefined
   */
  readonly rateLimits?: Pick<TenantRateLimiter, 'take'> | null | undefined
}

export interface GraphQLContext {
  readonly principal: Principal | null
  readonly requestId: string
  /** Fires when the client disconnects or the platform is about to stop the request. */
  readonly signal: AbortSignal
  readonly services: GraphQLServices
}
