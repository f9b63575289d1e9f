// What API Gateway's Lambda authorizer decides for a request to the REST API (functions/authorizer.ts): whether its
// credential is ours (Basic, a partner's bearer token, an end user's token; the same checks as the GraphQL server's)
// and which API key, so which usage plan, counts it: its tenant's own, or the stage's default one. The answer is
// cached by API Gateway per Authorization header; the GraphQL function still verifies the credential itself and reads
// nothing from what the authorizer passes on.
import { RateLimitedError, ServiceUnavailableError, UnauthorizedError } from '../domain/errors.ts'
import type { TenantRecord } from '../store/tenant-repository.ts'
import type { Authenticator, Principal } from './principal.ts'
import type { Logger } from '../runtime/logging.ts'

/** An allowed request: who, and the key whose usage plan counts it. */
export interface Authorization {
  /** The API client (`principalId`, in API Gateway's logs). */
  readonly principalId: string
  /** The API key value API Gateway looks up the usage plan by (`usageIdentifierKey`). */
  readonly usageIdentifierKey: string
  /** Passed to the integration as `requestContext.authorizer`: for logs only, never trusted by the function. */
  readonly context: Readonly<Record<string, string>>
}

export interface RequestAuthorizerOptions {
  /** The key of the stage's default usage plan: for tenants without limits of their own, and when the store is down. */
  readonly defaultApiKey: string
  /**
   * How long a tenant's key is kept in memory.
   * @default 60_000
   */
  readonly keyCacheMs?: number
}

export class RequestAuthorizer {
  readonly #keys = new Map<string, { key: string; until: number }>()
  readonly #cacheMs: number

  constructor(
    private readonly authenticator: Authenticator,
    private readonly tenants: { get(tenantId: string): Promise<TenantRecord | null> },
    private readonly logger: Logger,
    private readonly options: RequestAuthorizerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.#cacheMs = options.keyCacheMs ?? 60_000
  }

  /**
   * The authorization for an `Authorization` header, or null: not a credential of ours (missing, malformed, forged,
   * expired, revoked, a disabled client), or failed attempts from this source past their limit.
   * When the store cannot answer (a Basic credential or a user token cannot be checked, a tenant's key cannot be
   * read) the request goes on under the default plan: the GraphQL function answers it 503 itself if it must.
   */
  async authorize(authorization: string | undefined, source: string | undefined): Promise<Authorization | null> {
    let principal: Principal
    try {
      principal = await this.authenticator.authenticate(authorization, { source })
    } catch (error) {
      if (error instanceof UnauthorizedError || error instanceof RateLimitedError) return null
      if (error instanceof ServiceUnavailableError) return this.#degraded('credential')
      throw error
    }
    let key: string
    try {
      key = await this.#keyOf(principal.tenantId)
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error
      this.logger.warn('authorizer: tenant key unreadable, default usage plan', { tenantId: principal.tenantId })
      key = this.options.defaultApiKey
    }
    return {
      principalId: principal.clientId,
      usageIdentifierKey: key,
      context: {
        tenantId: principal.tenantId,
        clientId: principal.clientId,
        principalKind: principal.kind,
      },
    }
  }

  #degraded(what: string): Authorization {
    this.logger.warn(`authorizer: store unavailable, ${what} not checked here, default usage plan`)
    return {
      principalId: 'unverified',
      usageIdentifierKey: this.options.defaultApiKey,
      context: { principalKind: 'UNVERIFIED' },
    }
  }

  async #keyOf(tenantId: string): Promise<string> {
    const cached = this.#keys.get(tenantId)
    if (cached && cached.until > this.now()) return cached.key
    const tenant = await this.tenants.get(tenantId)
    const key = tenant?.usagePlan?.apiKeyValue ?? this.options.defaultApiKey
    this.#keys.set(tenantId, { key, until: this.now() + this.#cacheMs })
    if (this.#keys.size > 10_000) this.#keys.delete(this.#keys.keys().next().value ?? '')
    return key
  }
}
