// The web origins tenants registered for their pages (`npm run admin -- set-origins`), for CORS: whether some tenant
// registered an origin (a preflight carries no credentials, so that is all it can be answered by) and whether the
// caller's tenant did (the request itself, once authenticated). Tenants are few: every tenant's origins are read at
// once (the TENANTS index partition) and kept for a short while, so a change reaches every process within that time
// plus the index's own propagation (usually under a second).
export interface TenantOrigins {
  readonly tenantId: string
  readonly allowedOrigins: readonly string[]
}

/** What the cache reads: every tenant with its origins (the tenant repository's `list`). */
export interface TenantOriginSource {
  list(): Promise<readonly TenantOrigins[]>
}

export interface WebOriginSettings {
  /**
   * How long one read of every tenant's origins is used: the longest a change of origins takes to apply.
   * @default 30_000
   */
  readonly ttlMs?: number
  /**
   * After a failed read, how long the origins read before keep serving until the next try.
   * @default 5_000
   */
  readonly retryMs?: number
}

export const WEB_ORIGIN_DEFAULTS: Required<WebOriginSettings> = { ttlMs: 30_000, retryMs: 5_000 }

/** Origin -> the tenants that registered it. */
type Snapshot = ReadonlyMap<string, ReadonlySet<string>>

export class WebOrigins {
  readonly #source: TenantOriginSource
  readonly #settings: Required<WebOriginSettings>
  readonly #now: () => number
  #snapshot: Snapshot | null = null
  #freshUntil = 0
  #pending: Promise<Snapshot> | null = null

  constructor(source: TenantOriginSource, settings: WebOriginSettings = {}, now: () => number = Date.now) {
    this.#source = source
    this.#settings = { ...WEB_ORIGIN_DEFAULTS, ...settings }
    this.#now = now
  }

  /** Whether any tenant registered `origin`. Throws ServiceUnavailableError when the store cannot answer. */
  async isRegistered(origin: string): Promise<boolean> {
    return (await this.#current()).has(origin)
  }

  /** Whether the tenant registered `origin`. Throws ServiceUnavailableError when the store cannot answer. */
  async allows(tenantId: string, origin: string): Promise<boolean> {
    return (await this.#current()).get(origin)?.has(tenantId) ?? false
  }

  #current(): Promise<Snapshot> {
    if (this.#snapshot && this.#now() < this.#freshUntil) return Promise.resolve(this.#snapshot)
    // One read at a time, whoever asks meanwhile waits for it.
    this.#pending ??= this.#read().finally(() => {
      this.#pending = null
    })
    return this.#pending
  }

  async #read(): Promise<Snapshot> {
    try {
      const snapshot = new Map<string, Set<string>>()
      for (const tenant of await this.#source.list()) {
        for (const origin of tenant.allowedOrigins) {
          const tenants = snapshot.get(origin) ?? new Set<string>()
          tenants.add(tenant.tenantId)
          snapshot.set(origin, tenants)
        }
      }
      this.#snapshot = snapshot
      this.#freshUntil = this.#now() + this.#settings.ttlMs
      return snapshot
    } catch (error) {
      // The store is down: what was read last still holds for a while rather than every page failing at once.
      if (!this.#snapshot) throw error
      this.#freshUntil = this.#now() + this.#settings.retryMs
      return this.#snapshot
    }
  }
}
