// A tenant's webhook settings as the partner sees them: the default endpoint and the signing secrets in the clear
// (the partner needs them to verify our signatures; like any webhook platform's dashboard, the API shows them to the
// tenant's own API clients). Stored sealed; the first secret is made on first need.
import { ConcurrentModificationError, ValidationError } from '../domain/errors.ts'
import type { StoredWebhookSettings, WebhookSettingsRepository } from '../store/webhook-settings-repository.ts'
import { tenantWide, type AccessScope } from './principal.ts'
import type { SecretBox } from '../crypto/secret-box.ts'
import { generateWebhookSecret } from '../crypto/webhook-signing.ts'
import { checkWebhookUrl } from '../outbound/addresses.ts'

/** How long the previous secret keeps signing after a rotation, so receivers can switch without losing a message. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000

export interface SigningSecret {
  readonly secret: string
  readonly createdAt: string
  readonly retiresAt: string | null
}

export interface WebhookSettings {
  readonly defaultUrl: string | null
  /** Current first; a retiring one second, until it retires. */
  readonly signingSecrets: readonly SigningSecret[]
}

const MAX_ATTEMPTS = 6
const context = (tenantId: string) => `webhook-signing-secret:${tenantId}`

export class WebhookSettingsService {
  constructor(
    private readonly deps: {
      readonly repository: WebhookSettingsRepository
      readonly secretBox: SecretBox | null
      readonly clock: () => Date
      readonly allowLocalHttp: boolean
      /** Local mode: the local stack's own ports, never a webhook target. */
      readonly ownPorts?: ReadonlySet<number>
    },
  ) {}

  #box(): SecretBox {
    if (!this.deps.secretBox) {
      throw new Error('Webhook signing secrets are sealed at rest: set TOKEN_ENCRYPTION_KEYS')
    }
    return this.deps.secretBox
  }

  /**
   * The settings, with a first signing secret made if the tenant has none yet. Tenant-wide (they hold the signing
   * secrets): FORBIDDEN to an end user's token, like every use case here.
   */
  async view(scope: AccessScope): Promise<WebhookSettings> {
    return this.#view(tenantWide(scope))
  }

  async #view(tenantId: string): Promise<WebhookSettings> {
    const stored = await this.#update(tenantId, () => null)
    const now = this.deps.clock().toISOString()
    const box = this.#box()
    return {
      defaultUrl: stored.defaultUrl,
      signingSecrets: stored.secrets
        .filter((secret) => secret.retiresAt === null || secret.retiresAt > now)
        .map((secret) => ({
          secret: box.open(secret.sealed, context(tenantId)),
          createdAt: secret.createdAt,
          retiresAt: secret.retiresAt,
        })),
    }
  }

  /** The secrets to sign with now: the current one, and the previous one while a rotation overlaps. */
  async signingSecrets(tenantId: string): Promise<string[]> {
    return (await this.#view(tenantId)).signingSecrets.map((secret) => secret.secret)
  }

  async defaultUrl(tenantId: string): Promise<string | null> {
    return (await this.deps.repository.get(tenantId))?.defaultUrl ?? null
  }

  /** Sets (or clears, with null) the endpoint for consents created without their own `webhookUrl`. */
  async setDefaultUrl(scope: AccessScope, url: string | null): Promise<WebhookSettings> {
    const tenantId = tenantWide(scope)
    if (url !== null) {
      const checked = checkWebhookUrl(url, { allowLocalHttp: this.deps.allowLocalHttp, ownPorts: this.deps.ownPorts })
      if (!checked.ok) throw ValidationError.of('url', checked.reason)
    }
    await this.#update(tenantId, (current) => ({ ...current, defaultUrl: url }))
    return this.#view(tenantId)
  }

  /** A new current secret; the previous one keeps signing for {@link ROTATION_OVERLAP_MS}, older ones stop. */
  async rotate(scope: AccessScope): Promise<WebhookSettings> {
    const tenantId = tenantWide(scope)
    const now = this.deps.clock()
    await this.#update(tenantId, (current) => {
      const previous = current.secrets[0]
      return {
        ...current,
        secrets: [
          this.#newSecret(tenantId, now),
          ...(previous
            ? [{ ...previous, retiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString() }]
            : []),
        ],
      }
    })
    return this.#view(tenantId)
  }

  #newSecret(tenantId: string, now: Date) {
    return {
      sealed: this.#box().seal(generateWebhookSecret(), context(tenantId)),
      createdAt: now.toISOString(),
      retiresAt: null,
    }
  }

  /**
   * Reads, changes and writes the settings under optimistic locking, making the first secret when there is none;
   * `change` returns null for "nothing to write".
   */
  async #update(
    tenantId: string,
    change: (current: StoredWebhookSettings) => StoredWebhookSettings | null,
  ): Promise<StoredWebhookSettings> {
    for (let attempt = 1; ; attempt++) {
      const now = this.deps.clock()
      const stored = (await this.deps.repository.get(tenantId)) ?? {
        tenantId,
        defaultUrl: null,
        secrets: [],
        revision: 0,
      }
      const base = stored.secrets.length > 0 ? stored : { ...stored, secrets: [this.#newSecret(tenantId, now)] }
      const changed = change(base)
      const next = changed ?? (base === stored ? null : base)
      if (!next) return stored
      const written = { ...next, revision: stored.revision + 1 }
      if (await this.deps.repository.put(written, now)) return written
      // Many writers at once (a script rotating in a loop): a typed, retryable answer, never an internal error.
      if (attempt >= MAX_ATTEMPTS) throw new ConcurrentModificationError(null, 'The webhook settings')
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt))
    }
  }
}
