// The Worldline adapter: AIS v3 consents through the XS2A routing service, multi-level SCA, supersession, DELETE with
// its two outcomes, data-call evidence of expiry, and Bearer-authenticated status notifications.
import { UnsupportedScopeError } from '../../domain/errors.ts'
import { regionOfCountry, sameScope } from '../../domain/provider.ts'
import type {
  CreateConsentRequest,
  InboundNotification,
  InstitutionInfo,
  ProviderAdapter,
  ProviderCallContext,
  ProviderConsentRef,
  ProviderEvent,
  ProviderSnapshot,
} from '../adapter.ts'
import { WorldlineClient } from './client.ts'
import type { WorldlineConfig } from './config.ts'
import { endOfDay, PERMISSION_SETS, permissionsOf, snapshotFromStatus, validUntilDate } from './mapping.ts'
import { verifyWorldlineNotification } from './notifications.ts'

export class WorldlineAdapter implements ProviderAdapter {
  readonly provider = 'WORLDLINE' as const
  readonly displayName = 'Worldline'
  readonly capabilities = {
    reauthorize: false,
    reconfirm: false,
    // DELETE is how a consent is revoked; there is nothing further to delete.
    delete: false,
    // Only within a few days after initiation (docs/providers.md, Worldline evidence: Notifications); later changes are found by polling.
    webhooks: true,
    supersedesOlderConsents: true,
    usesConsentSecret: false,
    scopes: PERMISSION_SETS,
    regions: ['EEA'] as const,
    maxValidityDays: 180,
  }

  readonly #client: WorldlineClient
  #institutions: { at: number; list: Promise<InstitutionInfo[]> } | null = null

  constructor(private readonly config: WorldlineConfig) {
    this.#client = new WorldlineClient(config)
  }

  listInstitutions(context: ProviderCallContext): Promise<InstitutionInfo[]> {
    const maxAge = this.config.institutionsCacheMs ?? 3_600_000
    if (this.#institutions && Date.now() - this.#institutions.at < maxAge) return this.#institutions.list
    const list = this.#client.listAspsps(context).then(({ ASPSP }) =>
      ASPSP.flatMap((aspsp) => {
        const region = regionOfCountry(aspsp.Country)
        const name =
          aspsp.Name?.find((label) => label.Language?.toLowerCase() === 'en')?.Label ?? aspsp.Name?.[0]?.Label
        return region ? [{ id: aspsp.AspspId, name: name ?? aspsp.AspspId, country: aspsp.Country ?? '', region }] : []
      }),
    )
    this.#institutions = { at: Date.now(), list }
    list.catch(() => (this.#institutions = null))
    return list
  }

  async create(request: CreateConsentRequest, context: ProviderCallContext): Promise<ProviderSnapshot> {
    // The service checks scopes against the capabilities first; this guards direct callers of the adapter.
    if (!PERMISSION_SETS.some((set) => sameScope(set, request.scope))) {
      throw new UnsupportedScopeError('WORLDLINE', request.scope, PERMISSION_SETS)
    }
    const validUntil = validUntilDate(this.#client.providerNow(), request.validityDays)
    const created = await this.#client.createConsent(
      {
        psuId: request.userRef,
        aspspId: request.institution.id,
        permissions: permissionsOf(request.scope),
        validUntilDate: validUntil,
        // The browser comes back through us, so the partner's page learns our consent id and unified status.
        returnUrl: request.callbackUrl,
        notificationUrl: `${request.notificationUrl.replace(/\/$/, '')}/v3`,
      },
      context,
    )
    return {
      ...snapshotFromStatus(
        { ConsentId: created.ConsentId, ConsentStatus: created.ConsentStatus ?? 'Open', ValidUntilDate: validUntil },
        created.Links?.RedirectUrl?.Href ?? null,
      ),
      // Worldline documents no deadline for the redirect link.
      linkExpiresAt: null,
      validUntil: endOfDay(validUntil),
    }
  }

  /**
   * The consent's status, plus what the status alone does not say: the next holder's authorisation link while
   * partially authorised, and, for an authorised consent, whether a data call still works (code 123 = expired).
   */
  async fetch(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot> {
    const status = await this.#client.getStatus(ref.userRef, ref.providerConsentId, context)
    let authorizationUrl = status.Links?.RedirectUrl?.Href ?? null
    if (status.ConsentStatus === 'PartiallyAuthorised') {
      const next = await this.#client.startAuthorisation(ref.userRef, ref.providerConsentId, context)
      authorizationUrl = next.Links?.RedirectUrl?.Href ?? authorizationUrl
    }
    const snapshot = snapshotFromStatus(status, authorizationUrl)
    if (snapshot.status === 'ACTIVE') {
      const probe = await this.#client.probeAccounts(ref.userRef, ref.institutionId, context)
      if (probe === 'expired') return { ...snapshot, status: 'EXPIRED', reason: 'VALIDITY_ENDED' }
    }
    return snapshot
  }

  /**
   * DELETE, then the status: `Revoked` when the bank confirmed, `RevokedAtTpp` when it could not be told. `Revoked`
   * alone means the holder or their bank revoked it; right after our DELETE it is our own revocation.
   */
  async revoke(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot> {
    await this.#client.deleteConsent(ref.userRef, ref.providerConsentId, context)
    const status = await this.#client.getStatus(ref.userRef, ref.providerConsentId, context)
    const snapshot = snapshotFromStatus(status, null)
    return snapshot.providerStatus === 'Revoked' ? { ...snapshot, reason: 'REVOKED_BY_TPP' } : snapshot
  }

  async verifyNotification(notification: InboundNotification): Promise<ProviderEvent[]> {
    return verifyWorldlineNotification(notification, this.config.notificationToken)
  }

  /** Worldline dates its notifications (`MessageCreateDateTime`) by its own clock. */
  providerNow(): Date {
    return this.#client.providerNow()
  }
}

export function createWorldlineAdapter(config: WorldlineConfig): WorldlineAdapter {
  return new WorldlineAdapter(config)
}
