// The documents a tenant's apps may run (persisted operations), looked up by what a client sends: GraphQL over HTTP's
// `documentId` (the manifest's id, or `sha256:<hex>`) or Apollo's APQ hash. One GetItem in the caller's tenant, so
// another tenant's id is simply not there. A registered id never names another document (administration refuses
// re-binding one), so a document found is kept in memory for good, within a bound; an id not found is asked again
// next time (it may be registered meanwhile).
import type { TrustedDocument } from '../store/trusted-document-repository.ts'

/** What the lookup needs of the store: the document a tenant registered under a key, or null. */
export interface TrustedDocumentSource {
  get(tenantId: string, key: string): Promise<TrustedDocument | null>
}

export interface TrustedDocumentCacheSettings {
  /**
   * Documents kept in memory per process, least recently used dropped first.
   * @default 1_000
   */
  readonly maxEntries?: number
  /**
   * Their total size in UTF-16 code units (about bytes for GraphQL's ASCII), whichever bound comes first.
   * @default 4_194_304
   */
  readonly maxChars?: number
}

export const TRUSTED_DOCUMENT_CACHE_DEFAULTS: Required<TrustedDocumentCacheSettings> = {
  maxEntries: 1_000,
  maxChars: 4_194_304,
}

/** A manifest's own id (as administration accepts them) or a SHA-256, optionally `sha256:`-prefixed. */
const DOCUMENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/
const HASH_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/

/**
 * The store key a client's id names: a SHA-256 (bare or `sha256:`-prefixed) is looked up as its lower-case hex, the
 * alias every registered document has; any other id as it is; null for what no manifest can hold.
 */
export function documentKeyOf(id: string): string | null {
  const hash = HASH_ID.exec(id)?.[1]
  if (hash) return hash.toLowerCase()
  return DOCUMENT_ID.test(id) ? id : null
}

export class TrustedDocuments {
  readonly #source: TrustedDocumentSource
  readonly #settings: Required<TrustedDocumentCacheSettings>
  /** `tenant#key` -> document, in least- to most-recently used order (a Map keeps insertion order). */
  readonly #cache = new Map<string, string>()
  #chars = 0

  constructor(source: TrustedDocumentSource, settings: TrustedDocumentCacheSettings = {}) {
    this.#source = source
    this.#settings = { ...TRUSTED_DOCUMENT_CACHE_DEFAULTS, ...settings }
  }

  /** The document the tenant registered under `id` (its manifest id, `sha256:<hex>` or the bare hash), or null. */
  async find(tenantId: string, id: string): Promise<string | null> {
    const key = documentKeyOf(id)
    if (key === null) return null
    const cacheKey = `${tenantId}#${key}`
    const cached = this.#cache.get(cacheKey)
    if (cached !== undefined) {
      this.#cache.delete(cacheKey)
      this.#cache.set(cacheKey, cached)
      return cached
    }
    const found = await this.#source.get(tenantId, key)
    // The key is the tenant's own, but the item is checked too: a document is only ever its tenant's.
    if (!found || found.tenantId !== tenantId) return null
    this.#remember(cacheKey, found.document)
    return found.document
  }

  /** Documents held in memory now. */
  get size(): number {
    return this.#cache.size
  }

  #remember(cacheKey: string, document: string): void {
    if (document.length > this.#settings.maxChars) return
    // Two requests that missed at once both remember it.
    const earlier = this.#cache.get(cacheKey)
    if (earlier !== undefined) {
      this.#cache.delete(cacheKey)
      this.#chars -= earlier.length
    }
    this.#cache.set(cacheKey, document)
    this.#chars += document.length
    for (const [oldest, kept] of this.#cache) {
      if (this.#cache.size <= this.#settings.maxEntries && this.#chars <= this.#settings.maxChars) break
      this.#cache.delete(oldest)
      this.#chars -= kept.length
    }
  }
}
