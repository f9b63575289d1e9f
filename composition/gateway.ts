// Builds the gateway's object graph from its configuration: store, provider registry, use cases. Entry points
// (local/, functions/) call this once per process and adapt their transport to the result.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { monotonicFactory } from 'ulid'
import type { Provider } from '../domain/provider.ts'
import { ProviderRegistry, type ProviderAdapter } from '../providers/adapter.ts'
import { AccessRepository } from '../store/access-repository.ts'
import { createDocumentClient } from '../store/client.ts'
import { ConsentRepository } from '../store/consent-repository.ts'
import { ConsentSecretRepository } from '../store/consent-secret-repository.ts'
import { EventRepository } from '../store/event-repository.ts'
import { IdempotencyRepository } from '../store/idempotency-repository.ts'
import { NotificationReceiptRepository } from '../store/notification-receipt-repository.ts'
import { ApiClientAuthenticator } from '../service/authentication.ts'
import { AccessTokens } from '../service/access-tokens.ts'
import { CallerAuthenticator } from '../service/caller-authentication.ts'
import { parseSigningKeys } from '../crypto/token-keys.ts'
import { TokenRevocationRepository } from '../store/token-revocation-repository.ts'
import { TrustedDocumentRepository } from '../store/trusted-document-repository.ts'
import { TrustedDocuments } from '../service/trusted-documents.ts'
import { WebOrigins } from '../service/web-origins.ts'
import { TenantRateLimiter } from '../service/rate-limiter.ts'
import {
  lifecycleSettings,
  notificationSettings,
  type GatewayConfig,
  type ProviderSettings,
} from '../service/config.ts'
import { ConsentService } from '../service/consent-service.ts'
import { ConsentWatcher } from '../service/consent-watcher.ts'
import { completeAuthorisation, type CallbackReply } from '../service/authorisation-callback.ts'
import { CallbackLinks } from '../service/callback-links.ts'
import { ConsentRecorder } from '../service/consent-recorder.ts'
import { createLogger, type Logger } from '../runtime/logging.ts'
import { FailureLog, withoutStoreOutageLines } from '../service/failure-log.ts'
import { StoreHealth } from '../service/store-health.ts'
import { notificationPath } from '../service/public-paths.ts'
import { ProviderOperations } from '../service/provider-operations.ts'
import { keyringFromSpec, SecretBox } from '../crypto/secret-box.ts'
import { UserReferences } from '../crypto/user-references.ts'
import { EventFeed } from '../service/event-feed.ts'
import type { ReconcileReport, SweepReport } from '../service/lifecycle-jobs.ts'
import type { DeliveryReport } from '../service/webhook-dispatcher.ts'
import { WebhookSettingsService } from '../service/webhook-settings.ts'
import { WebhookDeliveries } from '../service/webhook-deliveries.ts'
import { OutboxRepository } from '../store/outbox-repository.ts'
import { WebhookSettingsRepository } from '../store/webhook-settings-repository.ts'
import { probeStore } from '../store/health.ts'
import { onStoreUnavailable } from '../store/unavailable.ts'
import type { Jobs } from './jobs.ts'

export interface Gateway {
  readonly config: GatewayConfig
  readonly db: DynamoDBDocumentClient
  readonly consents: ConsentService
  /** Re-authorise, reconfirm, delete: what only some providers offer. */
  readonly operations: ProviderOperations
  /** The user's browser back from a provider (its callback), sent on to the partner. */
  completeAuthorisation(
    provider: Provider,
    token: string,
    query: URLSearchParams,
    requestId: string,
  ): Promise<CallbackReply>
  readonly callbackLinks: CallbackLinks
  readonly watcher: ConsentWatcher
  readonly providers: ProviderRegistry
  /** Every request's credential: HTTP Basic (through `apiClients`) or a bearer token (through `tokens`). */
  readonly authenticator: CallerAuthenticator
  /** API clients by their secret (HTTP Basic, and the token endpoint's client authentication). */
  readonly apiClients: ApiClientAuthenticator
  /** Access tokens: issued at `/oauth/token` and by `createUserToken`, verified on every bearer request. */
  readonly tokens: AccessTokens
  readonly access: AccessRepository
  /** The documents each tenant's apps may run (end users' tokens run nothing else), cached per process. */
  readonly trustedDocuments: TrustedDocuments
  /** The web origins tenants registered for their pages (CORS), cached per process for a short while. */
  readonly webOrigins: WebOrigins
  /**
   * Tenants' request limits in process: local mode only. On AWS API Gateway's usage plans apply them before Lambda
   * (infra/api.ts), so a function counts nothing twice.
   */
  readonly rateLimits: TenantRateLimiter | null
  readonly logger: Logger
  /** Failures that come in floods (the store down, failed logins), one line per kind per interval. */
  readonly failureLog: FailureLog
  /** Whether the store answers (/healthz). */
  readonly storeHealth: StoreHealth
  readonly clock: () => Date
  /** The tenant-wide history feed. */
  readonly events: EventFeed
  readonly webhooks: WebhookSettingsService
  readonly deliveries: WebhookDeliveries
  /** What runs on timers locally and on schedules (and the table stream) on AWS. */
  readonly jobs: {
    /** Applies every due deadline (link expiry, warnings, end of validity, UK reconfirmation). */
    sweepDeadlines(): Promise<SweepReport>
    /** Re-checks due consents at their providers within each provider's call budget. */
    reconcile(): Promise<ReconcileReport>
    /** Delivers every webhook whose (next) attempt is due, in order per consent. */
    deliverDue(): Promise<DeliveryReport>
    /** Delivers one consent's pending webhooks, in order (what the stream relay calls per consent). */
    deliverConsent(tenantId: string, consentId: string): Promise<DeliveryReport>
  }
}

export interface GatewayOverrides {
  readonly db?: DynamoDBDocumentClient
  readonly logger?: Logger
  readonly clock?: () => Date
}

/**
 * Every provider the gateway knows: its settings key and how to build its adapter. Adapters are imported on first
 * use, so a process that never meets a provider never loads its code. A new provider is one entry here.
 */
const ADAPTERS: {
  readonly [Key in keyof ProviderSettings]-?: {
    readonly provider: Provider
    readonly load: (settings: NonNullable<ProviderSettings[Key]>) => Promise<ProviderAdapter>
  }
} = {
  finqware: {
    provider: 'FINQWARE',
    load: async (settings) => (await import('../providers/finqware/adapter.ts')).createFinqwareAdapter(settings),
  },
  worldline: {
    provider: 'WORLDLINE',
    load: async (settings) => (await import('../providers/worldline/adapter.ts')).createWorldlineAdapter(settings),
  },
  yapily: {
    provider: 'YAPILY',
    load: async (settings) => (await import('../providers/yapily/adapter.ts')).createYapilyAdapter(settings),
  },
}

export function createProviderRegistry(config: GatewayConfig): ProviderRegistry {
  const registry = new ProviderRegistry()
  for (const key of Object.keys(ADAPTERS) as (keyof ProviderSettings)[]) {
    const settings = config.providers[key]
    // TypeScript cannot correlate ADAPTERS[key] with config.providers[key]; the mapped type above guarantees it.
    const { provider, load } = ADAPTERS[key] as {
      provider: Provider
      load: (s: typeof settings) => Promise<ProviderAdapter>
    }
    if (settings) registry.register(provider, () => load(settings))
  }
  return registry
}

/** The `aud` of every access token: the GraphQL API, named by the gateway's public base URL. */
export const tokenAudienceOf = (config: Pick<GatewayConfig, 'publicBaseUrl'>): string =>
  `${config.publicBaseUrl.replace(/\/$/, '')}/graphql`

/** Local mode: the ports no partner webhook may reach on this machine, the gateway's own first. */
function ownPortsOf(config: GatewayConfig): ReadonlySet<number> {
  if (!config.localMode) return new Set()
  const url = new URL(config.publicBaseUrl)
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
  return new Set([port, ...(config.ownPorts ?? [])])
}

export function createGateway(config: GatewayConfig, overrides: GatewayOverrides = {}): Gateway {
  const db = overrides.db ?? createDocumentClient({ endpoint: config.dynamoEndpoint })
  const baseLogger = overrides.logger ?? createLogger()
  const failureLog = new FailureLog(baseLogger)
  // The store being down is logged once per interval, with a count, whatever it breaks; the lines of everything it
  // breaks (requests, polls, jobs) would be one stack each.
  onStoreUnavailable(db, (error) =>
    failureLog.record(`store unavailable/${error.reason}`, {
      message: 'store unavailable',
      level: 'error',
      fields: { reason: error.reason, ...causeOf(error) },
    }),
  )
  const logger = withoutStoreOutageLines(baseLogger)
  const clock = overrides.clock ?? (() => new Date())
  const newId = monotonicFactory()
  const consentRepository = new ConsentRepository(db, config.tableName)
  const eventRepository = new EventRepository(db, config.tableName)
  const access = new AccessRepository(db, config.tableName)
  const providers = createProviderRegistry(config)
  const publicBase = config.publicBaseUrl.replace(/\/$/, '')
  const lifecycle = lifecycleSettings(config)
  const ownPorts = ownPortsOf(config)
  const notifications = notificationSettings(config)

  if (config.providers.yapily && !config.tokenEncryptionKeys) {
    throw new Error('Yapily issues consent tokens: set TOKEN_ENCRYPTION_KEYS to seal them at rest')
  }
  const secretBox = config.tokenEncryptionKeys ? new SecretBox(keyringFromSpec(config.tokenEncryptionKeys)) : null
  const recorder = new ConsentRecorder({
    consents: consentRepository,
    secrets: new ConsentSecretRepository(db, config.tableName),
    secretBox,
    providers,
    clock,
    newId: () => newId(),
    logger,
    lifecycle,
  })
  const callbackLinks = new CallbackLinks(config.cursorSecret, publicBase)
  const apiClients = new ApiClientAuthenticator(access, { cacheTtlMs: config.authCacheTtlMs, failureLog })
  const tokens = new AccessTokens({
    keys: config.tokenSigningKeys ? parseSigningKeys(config.tokenSigningKeys) : null,
    issuer: publicBase,
    audience: tokenAudienceOf(config),
    revocations: new TokenRevocationRepository(db, config.tableName),
    access,
    settings: { clientRecheckMs: config.authCacheTtlMs, ...config.tokens },
  })

  const consents = new ConsentService(
    {
      consents: consentRepository,
      events: eventRepository,
      recorder,
      callbackLinks,
      userReferences: new UserReferences(config.userReferenceKey),
      idempotency: new IdempotencyRepository(db, config.tableName),
      receipts: new NotificationReceiptRepository(db, config.tableName, {
        retentionMs: notifications.replayWindowMs,
      }),
      providers,
      clock,
      newId: () => newId(),
      logger,
    },
    {
      allowLocalHttpWebhooks: config.localMode,
      ownPorts,
      notificationUrl: (provider) => `${publicBase}${notificationPath(provider)}`,
      cursorSecret: config.cursorSecret,
      notificationToleranceMs: notifications.toleranceMs,
    },
  )

  const outbox = new OutboxRepository(db, config.tableName)
  const webhooks = new WebhookSettingsService({
    repository: new WebhookSettingsRepository(db, config.tableName),
    secretBox,
    clock,
    allowLocalHttp: config.localMode,
    ownPorts,
  })
  // The jobs (with outbound delivery and the leases) load on their first run: a function that only answers requests
  // (the GraphQL API, unless a replay delivers) does not compile them at cold start.
  let jobsLoaded: Promise<Jobs> | undefined
  const jobs = (): Promise<Jobs> =>
    (jobsLoaded ??= import('./jobs.ts').then(({ createJobs }) =>
      createJobs({
        db,
        tableName: config.tableName,
        consents: consentRepository,
        recorder,
        outbox,
        webhooks,
        providers,
        clock,
        newId: () => newId(),
        logger,
        lifecycle,
        allowLoopback: config.localMode,
        ownPorts,
      }),
    ))
  const deliverConsent = async (tenantId: string, consentId: string) =>
    (await jobs()).dispatcher.deliverConsent(tenantId, consentId)

  const watcher = new ConsentWatcher({ consents: consentRepository, events: eventRepository }, clock, logger, {
    pollIntervalMs: config.subscriptionPollIntervalMs,
  })

  return {
    config,
    db,
    consents,
    events: new EventFeed(eventRepository, watcher, config.cursorSecret),
    webhooks,
    deliveries: new WebhookDeliveries({
      consents: consentRepository,
      outbox,
      clock,
      deliverConsent,
    }),
    jobs: {
      sweepDeadlines: async () => (await jobs()).sweep.run(),
      reconcile: async () => (await jobs()).reconciler.run(),
      deliverDue: async () => (await jobs()).dispatcher.deliverDue(),
      deliverConsent,
    },
    operations: new ProviderOperations({ consents: consentRepository, recorder, providers, clock, logger }),
    completeAuthorisation: (provider, token, query, requestId) =>
      completeAuthorisation(
        { consents: consentRepository, recorder, providers, callbackLinks, clock, logger },
        provider,
        token,
        query,
        requestId,
      ),
    callbackLinks,
    watcher,
    providers,
    authenticator: new CallerAuthenticator(apiClients, tokens),
    apiClients,
    tokens,
    access,
    trustedDocuments: new TrustedDocuments(
      new TrustedDocumentRepository(db, config.tableName),
      config.trustedDocumentCache,
    ),
    webOrigins: new WebOrigins(access.tenants, config.webOrigins, () => clock().getTime()),
    rateLimits: config.localMode
      ? new TenantRateLimiter(
          async (tenantId) => (await access.tenants.get(tenantId))?.rateLimits ?? null,
          config.rateLimits,
          () => clock().getTime(),
        )
      : null,
    logger,
    failureLog,
    storeHealth: new StoreHealth((signal) => probeStore(db, config.tableName, signal), {
      onProbeError: (error) => logger.error('store health probe failed', { error }),
    }),
    clock,
  }
}

/** The SDK's name and code for what happened (no message, no stack: the line is about the kind, not the request). */
function causeOf(error: Error): Record<string, string> {
  const cause = error.cause as { name?: unknown; code?: unknown } | undefined
  return {
    ...(typeof cause?.name === 'string' ? { errorName: cause.name } : {}),
    ...(typeof cause?.code === 'string' ? { errorCode: cause.code } : {}),
  }
}
