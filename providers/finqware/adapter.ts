// The Finqware adapter: the unified operations over Finqware's consent API (link flow), and its signed webhooks.
import { PROVIDER_CAPABILITIES } from '../../domain/capabilities.ts'
import { ProviderRejectedError, ProviderUnavailableError } from '../../domain/errors.ts'
import { regionOfCountry, type DataScope } from '../../domain/provider.ts'
import type {
  CallbackResult,
  CreateConsentRequest,
  InboundNotification,
  InstitutionInfo,
  ProviderAdapter,
  ProviderCallContext,
  ProviderConsentRef,
  ProviderEvent,
  ProviderSnapshot,
} from '../adapter.ts'
import { FinqwareClient } from './client.ts'
import type { FinqwareConfig } from './config.ts'
import { snapshotFromConsent, snapshotFromCreate } from './mapping.ts'
import { FinqwareNotificationVerifier } from './notifications.ts'

/** Finqware grants exactly these two scope sets (its Consents page: "other scope combinations are not supported"). */
const SCOPES: readonly (readonly DataScope[])[] = [
  ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'],
  ['ACCOUNTS', 'BALANCES'],
]

const DAY_SECONDS = 86_400

export class FinqwareAdapter implements ProviderAdapter {
  readonly provider = 'FINQWARE' as const
  readonly displayName = 'Finqware'
  readonly capabilities = { ...PROVIDER_CAPABILITIES.FINQWARE, scopes: SCOPES }

  readonly #client: FinqwareClient
  readonly #verifier: FinqwareNotificationVerifier
  #institutions: { at: number; list: Promise<InstitutionInfo[]> } | null = null

  constructor(private readonly config: FinqwareConfig) {
    this.#client = new FinqwareClient(config)
    this.#verifier = new FinqwareNotificationVerifier(
      config.jwksUrl ?? `${config.baseUrl.replace(/\/$/, '')}/.well-known/jwks.json`,
      config.jwksRefetchCooldownMs ?? 1_000,
    )
  }

  listInstitutions(context: ProviderCallContext): Promise<InstitutionInfo[]> {
    const maxAge = this.config.institutionsCacheMs ?? 600_000
    if (this.#institutions && Date.now() - this.#institutions.at < maxAge) return this.#institutions.list
    const list = this.#client.listProviders(context).then(({ body }) =>
      body.providers.flatMap((provider) => {
        const region = regionOfCountry(provider.country)
        return region
          ? [
              {
                id: provider.provider_id,
                name: provider.name ?? provider.provider_id,
                country: provider.country ?? '',
                region,
              },
            ]
          : []
      }),
    )
    this.#institutions = { at: Date.now(), list }
    list.catch(() => (this.#institutions = null))
    return list
  }

  async create(request: CreateConsentRequest, context: ProviderCallContext): Promise<ProviderSnapshot> {
    const { body } = await this.#client.createConsent(
      {
        providerId: request.institution.id,
        scope: request.scope.map((scope) => scope.toLowerCase()),
        validityDays: request.validityDays,
        expiresInSeconds: request.linkExpiresInDays * DAY_SECONDS,
        webhookUrl: request.notificationUrl,
        // The browser comes back through us, so the partner's page learns our consent id and unified status.
        redirectUrl: request.callbackUrl,
      },
      context,
    )
    return snapshotFromCreate(body)
  }

  async fetch(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot> {
    const { body, providerNow } = await this.#client.getConsent(ref.providerConsentId, context)
    return snapshotFromConsent(body, providerNow)
  }

  /**
   * Revokes, then reads the consent back: Finqware answers a repeat revoke with 200 and a revoke of an expired,
   * failed or suspended consent with 400 consent_not_active (its Revoke Consent page); either way the read tells the truth.
   */
  async revoke(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot> {
    try {
      await this.#client.revokeConsent(ref.providerConsentId, context)
    } catch (error) {
      if (!(error instanceof ProviderRejectedError && error.providerCode === 'consent_not_active')) throw error
    }
    try {
      return await this.fetch(ref, context)
    } catch (error) {
      // The revoke itself went through; report it even if the read-back failed.
      if (!(error instanceof ProviderUnavailableError)) throw error
      return {
        providerConsentId: ref.providerConsentId,
        providerStatus: 'revoked',
        status: 'REVOKED',
        reason: 'REVOKED_BY_TPP',
      }
    }
  }

  /**
   * The WebUI appends `consent_id` and `status` (ignored: the consent is read back) and, when the user refused,
   * `error=access_denied`, the one thing the read-back cannot tell (`failed` is also a bank error).
   */
  readCallback(query: URLSearchParams): CallbackResult {
    const error = query.get('error')
    return { secret: null, error, denied: error === 'access_denied' }
  }

  verifyNotification(notification: InboundNotification): Promise<ProviderEvent[]> {
    return this.#verifier.verify(notification)
  }
}

export function createFinqwareAdapter(config: FinqwareConfig): FinqwareAdapter {
  return new FinqwareAdapter(config)
}
