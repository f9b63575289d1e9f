// Gateway configuration: one typed object, its defaults in one place, read from the environment by entry points.
import * as z from '../domain/zod.ts'
import type { RecheckPolicy } from '../domain/lifecycle.ts'
import type { Provider } from '../domain/provider.ts'
import type { FinqwareConfig } from '../providers/finqware/config.ts'
import type { WorldlineConfig } from '../providers/worldline/config.ts'
import type { YapilyConfig } from '../providers/yapily/config.ts'
import type { TokenSettings } from './access-tokens.ts'
import type { TrustedDocumentCacheSettings } from './trusted-documents.ts'
import type { WebOriginSettings } from './web-origins.ts'
import type { RateLimiterOptions } from './rate-limiter.ts'

/** `https://a.example,http://localhost:3000`: each entry exactly an origin, as a browser sends it. */
export function isOriginList(value: string): boolean {
  return value
    .split(',')
    .every(
      (entry) => URL.canParse(entry) && /^https?:$/.test(new URL(entry).protocol) && new URL(entry).origin === entry,
    )
}

const positiveInt = z.coerce.number().check(z.int(), z.positive())

const envSchema = z.object({
  TABLE_NAME: z.string().check(z.minLength(1)),
  /** DynamoDB Local's URL; unset on AWS. */
  DYNAMODB_ENDPOINT: z.optional(z.url()),
  /** Base URL providers reach us at (notification endpoints hang off it). */
  PUBLIC_BASE_URL: z.url(),
  /** Key for pagination cursors, at least 32 characters. */
  CURSOR_SECRET: z.string().check(z.minLength(32)),
  /** Key deriving the user reference each provider is told (never the partner's raw user id), at least 32 characters. */
  USER_REFERENCE_KEY: z.string().check(z.minLength(32)),
  /** Local mode: http://localhost partner webhooks are accepted. */
  LOCAL_MODE: z._default(z.enum(['true', 'false']), 'false'),
  /** Web origins whose pages may call the API with any tenant's credentials (CORS), comma-separated. */
  CORS_ALLOWED_ORIGINS: z.optional(
    z.string().check(z.refine(isOriginList, 'expected origins (scheme://host[:port], no path), comma-separated')),
  ),
  SUBSCRIPTION_POLL_INTERVAL_MS: z._default(positiveInt, 1_000),
  SUBSCRIPTION_MAX_SECONDS: z._default(positiveInt, 900),
  AUTH_CACHE_TTL_MS: z._default(positiveInt, 60_000),
  FINQWARE_BASE_URL: z.optional(z.url()),
  FINQWARE_PATH_PREFIX: z._default(z.string(), '/v2'),
  FINQWARE_CLIENT_ID: z.optional(z.string()),
  FINQWARE_CLIENT_SECRET: z.optional(z.string()),
  /**
   * `oauth2`: Bearer tokens from Finqware's token endpoint, as production uses; `internal`: the client secret in every
   * body (the mode Finqware calls test-only).
   * @default 'oauth2'
   */
  FINQWARE_AUTH_MODE: z._default(z.enum(['oauth2', 'internal']), 'oauth2'),
  /** Finqware's token endpoint (its path is our guess). @default `${FINQWARE_BASE_URL}/oauth2/token` */
  FINQWARE_TOKEN_URL: z.optional(z.url()),
  WORLDLINE_BASE_URL: z.optional(z.url()),
  WORLDLINE_CLIENT_ID: z.optional(z.string()),
  WORLDLINE_KEY_ID: z.optional(z.string()),
  /** Our Initiating Party id at Worldline (the token request's `Id`); Worldline is offered only when it is set. */
  WORLDLINE_INITIATING_PARTY_ID: z.optional(z.string().check(z.regex(/^\d+$/))),
  /** Our sub id under that Initiating Party; the `Id` becomes `<id>:<sub id>`. @default undefined (none) */
  WORLDLINE_INITIATING_PARTY_SUB_ID: z.optional(z.string().check(z.regex(/^\d+$/))),
  /** PEM; `\n` escapes are accepted so the key fits in one environment variable. */
  WORLDLINE_PRIVATE_KEY: z.optional(z.string()),
  WORLDLINE_NOTIFICATION_TOKEN: z.optional(z.string()),
  YAPILY_BASE_URL: z.optional(z.url()),
  YAPILY_APPLICATION_KEY: z.optional(z.string()),
  YAPILY_APPLICATION_SECRET: z.optional(z.string()),
  YAPILY_WEBHOOK_SECRET: z.optional(z.string()),
  /**
   * The header Yapily's webhook signature travels in: our guess (Yapily publishes none; docs/providers.md, Yapily).
   * @default 'X-Yapily-Signature'
   */
  YAPILY_WEBHOOK_SIGNATURE_HEADER: z._default(
    z.string().check(z.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name')),
    'X-Yapily-Signature',
  ),
  /**
   * The webhook category (and event `type`) of Yapily's consent status events: our guess (docs/providers.md, Yapily).
   * @default 'consent.status'
   */
  YAPILY_WEBHOOK_EVENT_TYPE: z._default(z.string().check(z.minLength(1)), 'consent.status'),
  /** `id:<32 bytes base64>[,id:<key>...]`: seals provider-issued consent secrets; the first key seals. */
  TOKEN_ENCRYPTION_KEYS: z.optional(z.string()),
  /**
   * Private EC P-256 JWKs signing access tokens, as a JSON array: the first signs, every one verifies (see
   * crypto/token-keys.ts). Unset: no token is issued and no bearer token is accepted.
   */
  TOKEN_SIGNING_KEYS: z.optional(z.string()),
  /** Days before the end of validity and UK reconfirmation at which partners are warned, e.g. `7,1`. */
  WARNING_OFFSETS_DAYS: z.optional(z.string().check(z.regex(/^\d+(,\d+)*$/, 'expected days, comma-separated'))),
  /** Override every provider's re-check schedule and call budget (the defaults are per provider). */
  RECHECK_PENDING_SECONDS: z.optional(positiveInt),
  RECHECK_GRANTED_SECONDS: z.optional(positiveInt),
  RECHECK_BUDGET: z.optional(positiveInt),
  /** Provider notifications dated further than this from our clock, either way, are refused (default 300). */
  NOTIFICATION_TOLERANCE_SECONDS: z.optional(positiveInt),
  /** How long a provider notification's delivery id is remembered against replays (default 604800, 7 days). */
  NOTIFICATION_REPLAY_WINDOW_SECONDS: z.optional(positiveInt),
})

export interface GatewayConfig {
  readonly tableName: string
  readonly dynamoEndpoint?: string | undefined
  readonly publicBaseUrl: string
  readonly cursorSecret: string
  /**
   * Derives the opaque user reference a provider knows each consent's user by (HMAC over tenant and user id), at least
   * 32 characters. Each consent keeps the reference it was created with, so changing the key affects only new
   * consents (which then no longer supersede a user's older ones at Worldline).
   */
  readonly userReferenceKey: string
  /**
   * Accept http://localhost partner webhook URLs.
   * @default false
   */
  readonly localMode: boolean
  /**
   * Web origins (`scheme://host[:port]`) whose pages may call the API with any tenant's credentials (the operator's
   * own), besides each tenant's registered origins (`npm run admin -- set-origins`). Never in credentials mode.
   * @default [] (tenants' registered origins only)
   */
  readonly corsAllowedOrigins?: readonly string[] | undefined
  /** How long tenants' registered web origins are cached per process; anything left out takes WEB_ORIGIN_DEFAULTS. */
  readonly webOrigins?: WebOriginSettings | undefined
  /** The in-memory bound on trusted documents; anything left out takes TRUSTED_DOCUMENT_CACHE_DEFAULTS. */
  readonly trustedDocumentCache?: TrustedDocumentCacheSettings | undefined
  /** Local mode's in-process request limits (service/rate-limiter.ts for the defaults). */
  readonly rateLimits?: RateLimiterOptions | undefined
  /**
   * Local mode: the ports of the local stack's other servers (the sandboxes, DynamoDB Local), which no partner webhook
   * may target; the gateway's own port (from `publicBaseUrl`) is added to them.
   * @default []
   */
  readonly ownPorts?: readonly number[] | undefined
  /** @default 1_000 */
  readonly subscriptionPollIntervalMs: number
  /** Longest a subscription stays open. @default 900 (15 minutes) */
  readonly subscriptionMaxSeconds: number
  /** How long a verified API credential is trusted without a table read. @default 60_000 */
  readonly authCacheTtlMs: number
  /**
   * Keys sealing provider-issued consent secrets at rest (`id:<32 bytes base64>,...`; the first seals, all open).
   * Required when a configured provider issues secrets (Yapily).
   */
  readonly tokenEncryptionKeys?: string | undefined
  /**
   * Private EC P-256 JWKs (a JSON array) signing access tokens (`/oauth/token`, `createUserToken`): the first key signs,
   * every key verifies, and `/.well-known/jwks.json` publishes their public halves. Rotate by putting a new key first,
   * keeping the old one for a token lifetime (60 minutes), then dropping it.
   * @default undefined (no token is issued, and bearer tokens are refused)
   */
  readonly tokenSigningKeys?: string | undefined
  /** Token lifetimes and caches; anything left out takes {@link TOKEN_DEFAULTS} (service/access-tokens.ts). */
  readonly tokens?: Partial<TokenSettings> | undefined
  /** Providers this deployment talks to, with their adapters' settings; a provider without settings is not offered. */
  readonly providers: ProviderSettings
  /** Deadlines, re-checks and webhook delivery; anything left out takes {@link LIFECYCLE_DEFAULTS}. */
  readonly lifecycle?: Partial<LifecycleSettings> | undefined
  /** Freshness and replay checks on provider notifications; anything left out takes {@link NOTIFICATION_DEFAULTS}. */
  readonly notifications?: Partial<NotificationSettings> | undefined
}

/** How provider notifications are checked for freshness and replays (docs/providers.md, "Notifications"). */
export interface NotificationSettings {
  /**
   * A notification that carries its sending time (Worldline's `MessageCreateDateTime`) is refused (400) when that
   * time is further than this from the gateway's clock, in the past (a replay of an old one) or the future.
   * @default 300_000 (5 minutes, as Standard Webhooks recommends)
   */
  readonly toleranceMs: number
  /**
   * How long a processed notification's delivery id is remembered: a verbatim replay within it is acknowledged (200)
   * and not processed. At least twice the tolerance, so a replay still within the tolerance is always recognised.
   * @default 604_800_000 (7 days)
   */
  readonly replayWindowMs: number
}

export const NOTIFICATION_DEFAULTS: NotificationSettings = { toleranceMs: 5 * 60_000, replayWindowMs: 7 * 86_400_000 }

/** The configuration's notification settings with every default filled in; throws when the window is too short. */
export function notificationSettings(config: Pick<GatewayConfig, 'notifications'>): NotificationSettings {
  const settings = { ...NOTIFICATION_DEFAULTS, ...config.notifications }
  if (settings.replayWindowMs < 2 * settings.toleranceMs) {
    throw new Error('the notification replay window must be at least twice the notification tolerance')
  }
  return settings
}

export interface DeliverySettings {
  /** Per attempt. */
  readonly timeoutMs: number
  /** Retries back off exponentially from this, with full jitter... */
  readonly baseBackoffMs: number
  /** ...up to this between two attempts... */
  readonly maxBackoffMs: number
  /** ...and a message still undelivered this long after it was written is dead-lettered. */
  readonly maxAgeMs: number
}

export interface LifecycleSettings {
  readonly warningOffsetsDays: readonly number[]
  readonly recheck: Readonly<Record<Provider, RecheckPolicy>>
  /** How long a runner's claim on one consent's job lasts if it dies holding it. */
  readonly leaseMs: number
  readonly delivery: DeliverySettings
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/**
 * Per-provider re-check schedules. Finqware signs and retries its webhooks, so a granted consent needs little polling;
 * Worldline notifies only for a while after initiation and Yapily's webhooks are optional, so both are polled more.
 * Budgets keep one run within each provider's rate limits (none is published for the sandboxes; 100 calls per run
 * every 5 minutes is 20 a minute, well below any production AIS limit we know of).
 */
export const LIFECYCLE_DEFAULTS: LifecycleSettings = {
  warningOffsetsDays: [7, 1],
  recheck: {
    FINQWARE: { pendingEveryMs: 5 * MINUTE, grantedEveryMs: 12 * HOUR, budgetPerRun: 100 },
    WORLDLINE: { pendingEveryMs: 3 * MINUTE, grantedEveryMs: 6 * HOUR, budgetPerRun: 100 },
    YAPILY: { pendingEveryMs: 5 * MINUTE, grantedEveryMs: 6 * HOUR, budgetPerRun: 100 },
  },
  leaseMs: MINUTE,
  delivery: { timeoutMs: 10_000, baseBackoffMs: 30_000, maxBackoffMs: 6 * HOUR, maxAgeMs: 72 * HOUR },
}

/** The configuration's lifecycle settings with every default filled in. */
export function lifecycleSettings(config: Pick<GatewayConfig, 'lifecycle'>): LifecycleSettings {
  const given = config.lifecycle ?? {}
  return {
    ...LIFECYCLE_DEFAULTS,
    ...given,
    recheck: { ...LIFECYCLE_DEFAULTS.recheck, ...given.recheck },
    delivery: { ...LIFECYCLE_DEFAULTS.delivery, ...given.delivery },
  }
}

export interface ProviderSettings {
  readonly finqware?: FinqwareConfig | undefined
  readonly worldline?: WorldlineConfig | undefined
  readonly yapily?: YapilyConfig | undefined
}

export const CONFIG_DEFAULTS = {
  localMode: false,
  subscriptionPollIntervalMs: 1_000,
  subscriptionMaxSeconds: 900,
  authCacheTtlMs: 60_000,
} as const

/**
 * Reads the configuration from environment variables; throws one error naming every missing or bad variable. An empty
 * variable counts as unset (`FINQWARE_BASE_URL= npm start`, or a deployment that leaves a provider's secret empty):
 * it takes its default, and a provider with an empty setting is not offered.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')))
  if (!parsed.success) {
    throw new Error(
      `Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    )
  }
  const e = parsed.data
  return {
    tableName: e.TABLE_NAME,
    dynamoEndpoint: e.DYNAMODB_ENDPOINT,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    cursorSecret: e.CURSOR_SECRET,
    userReferenceKey: e.USER_REFERENCE_KEY,
    localMode: e.LOCAL_MODE === 'true',
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS?.split(',') ?? [],
    subscriptionPollIntervalMs: e.SUBSCRIPTION_POLL_INTERVAL_MS,
    subscriptionMaxSeconds: e.SUBSCRIPTION_MAX_SECONDS,
    authCacheTtlMs: e.AUTH_CACHE_TTL_MS,
    tokenEncryptionKeys: e.TOKEN_ENCRYPTION_KEYS,
    tokenSigningKeys: e.TOKEN_SIGNING_KEYS,
    lifecycle: {
      ...(e.WARNING_OFFSETS_DAYS ? { warningOffsetsDays: e.WARNING_OFFSETS_DAYS.split(',').map(Number) } : {}),
      recheck: Object.fromEntries(
        Object.entries(LIFECYCLE_DEFAULTS.recheck).map(([provider, policy]) => [
          provider,
          {
            pendingEveryMs: e.RECHECK_PENDING_SECONDS ? e.RECHECK_PENDING_SECONDS * 1000 : policy.pendingEveryMs,
            grantedEveryMs: e.RECHECK_GRANTED_SECONDS ? e.RECHECK_GRANTED_SECONDS * 1000 : policy.grantedEveryMs,
            budgetPerRun: e.RECHECK_BUDGET ?? policy.budgetPerRun,
          },
        ]),
      ) as Record<Provider, RecheckPolicy>,
    },
    notifications: {
      ...(e.NOTIFICATION_TOLERANCE_SECONDS ? { toleranceMs: e.NOTIFICATION_TOLERANCE_SECONDS * 1000 } : {}),
      ...(e.NOTIFICATION_REPLAY_WINDOW_SECONDS ? { replayWindowMs: e.NOTIFICATION_REPLAY_WINDOW_SECONDS * 1000 } : {}),
    },
    providers: {
      finqware:
        e.FINQWARE_BASE_URL && e.FINQWARE_CLIENT_ID && e.FINQWARE_CLIENT_SECRET
          ? {
              baseUrl: e.FINQWARE_BASE_URL,
              pathPrefix: e.FINQWARE_PATH_PREFIX,
              clientId: e.FINQWARE_CLIENT_ID,
              clientSecret: e.FINQWARE_CLIENT_SECRET,
              authMode: e.FINQWARE_AUTH_MODE,
              ...(e.FINQWARE_TOKEN_URL && { tokenUrl: e.FINQWARE_TOKEN_URL }),
            }
          : undefined,
      worldline:
        e.WORLDLINE_BASE_URL &&
        e.WORLDLINE_CLIENT_ID &&
        e.WORLDLINE_KEY_ID &&
        e.WORLDLINE_INITIATING_PARTY_ID &&
        e.WORLDLINE_PRIVATE_KEY &&
        e.WORLDLINE_NOTIFICATION_TOKEN
          ? {
              baseUrl: e.WORLDLINE_BASE_URL,
              clientId: e.WORLDLINE_CLIENT_ID,
              keyId: e.WORLDLINE_KEY_ID,
              initiatingPartyId: e.WORLDLINE_INITIATING_PARTY_ID,
              ...(e.WORLDLINE_INITIATING_PARTY_SUB_ID && { initiatingPartySubId: e.WORLDLINE_INITIATING_PARTY_SUB_ID }),
              privateKeyPem: e.WORLDLINE_PRIVATE_KEY.replace(/\\n/g, '\n'),
              notificationToken: e.WORLDLINE_NOTIFICATION_TOKEN,
            }
          : undefined,
      yapily:
        e.YAPILY_BASE_URL && e.YAPILY_APPLICATION_KEY && e.YAPILY_APPLICATION_SECRET
          ? {
              baseUrl: e.YAPILY_BASE_URL,
              applicationKey: e.YAPILY_APPLICATION_KEY,
              applicationSecret: e.YAPILY_APPLICATION_SECRET,
              webhookSecret: e.YAPILY_WEBHOOK_SECRET,
              webhookSignatureHeader: e.YAPILY_WEBHOOK_SIGNATURE_HEADER,
              webhookConsentEventType: e.YAPILY_WEBHOOK_EVENT_TYPE,
            }
          : undefined,
    },
  }
}
