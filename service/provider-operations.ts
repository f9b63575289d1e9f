// The operations only some providers offer: re-authorise a consent in place, reconfirm a UK consent, delete it at the
// provider. Each is refused with UNSUPPORTED_BY_PROVIDER where the provider lacks it, and every rule that needs no
// provider (status, dates, region) is checked before any call, so a refused request changes nothing.
import type { Consent } from '../domain/consent.ts'
import { effectiveStatus } from '../domain/derived.ts'
import { ConsentNotActiveError, ConsentNotFoundError, UnsupportedByProviderError } from '../domain/errors.ts'
import { applyObservation } from '../domain/observation.ts'
import { checkReconfirmation } from '../domain/policy.ts'
import type { ConsentStatus } from '../domain/status.ts'
import type { Provider } from '../domain/provider.ts'
import type {
  Capabilities,
  InstitutionInfo,
  ProviderAdapter,
  ProviderCallContext,
  ProviderRegistry,
} from '../providers/adapter.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import type { ConsentRecorder } from './consent-recorder.ts'
import type { Caller } from './consent-service.ts'
import { canSee, requireWrite } from './principal.ts'
import type { Logger } from '../runtime/logging.ts'

export interface ProviderOperationsDependencies {
  readonly consents: ConsentRepository
  readonly recorder: ConsentRecorder
  readonly providers: ProviderRegistry
  readonly clock: () => Date
  readonly logger: Logger
}

/** Statuses re-authorisation can start from: a live consent, an expired one, or one already waiting (a repeat). */
const REAUTHORIZABLE: ReadonlySet<ConsentStatus> = new Set(['ACTIVE', 'EXPIRED', 'AWAITING_REAUTHORIZATION'])

export class ProviderOperations {
  constructor(private readonly deps: ProviderOperationsDependencies) {}

  /** The institutions (banks) `provider` offers, read from it (each adapter caches them for a few minutes). */
  async institutions(caller: Caller, provider: Provider): Promise<InstitutionInfo[]> {
    const adapter = await this.deps.providers.get(provider)
    return adapter.listInstitutions(this.#context(caller))
  }

  #context(caller: Caller): ProviderCallContext {
    return { requestId: caller.requestId, logger: this.deps.logger, signal: caller.signal }
  }

  /**
   * The consent (strongly consistent) and its adapter, refused unless the caller may change it (CONSENT_NOT_FOUND for
   * one it cannot see, FORBIDDEN for a read-only token) and the adapter has `capability`.
   */
  async #load(
    caller: Caller,
    consentId: string,
    capability: keyof Pick<Capabilities, 'reauthorize' | 'reconfirm' | 'delete'>,
    operation: string,
  ): Promise<{ consent: Consent; adapter: ProviderAdapter }> {
    requireWrite(caller)
    const consent = await this.deps.consents.get(caller.tenantId, consentId, { consistent: true })
    if (!consent || !canSee(caller, consent)) throw new ConsentNotFoundError(consentId)
    const adapter = await this.deps.providers.get(consent.provider)
    if (!adapter.capabilities[capability]) throw new UnsupportedByProviderError(consent.provider, operation)
    return { consent, adapter }
  }

  /**
   * Starts re-authorisation of the same consent (same id; Yapily keeps its token too): the consent moves to
   * AWAITING_REAUTHORIZATION with a new `authorizationUrl`. If the user declines, the provider leaves it as it was.
   */
  async reauthorize(caller: Caller, consentId: string): Promise<Consent> {
    const { consent, adapter } = await this.#load(caller, consentId, 'reauthorize', 'reauthorizeConsent')
    const shown = effectiveStatus(consent, this.deps.clock()).status
    if (!REAUTHORIZABLE.has(shown)) throw new ConsentNotActiveError(consent.id, shown, 'reauthorize')
    if (!adapter.reauthorize) throw new UnsupportedByProviderError(consent.provider, 'reauthorizeConsent')
    const snapshot = await adapter.reauthorize(await this.deps.recorder.refFor(consent, adapter), this.#context(caller))
    return this.deps.recorder.record(consent, snapshot, 'API', caller.initiator, this.#context(caller))
  }

  /**
   * Records the user's UK reconfirmation at `confirmedAt`: `reconfirmBy` moves to 90 days later. The rules (an
   * ACTIVE UK consent; not in the future; later than the last confirmation) are checked before calling the provider.
   */
  async reconfirm(caller: Caller, consentId: string, confirmedAt: Date): Promise<Consent> {
    const { consent, adapter } = await this.#load(caller, consentId, 'reconfirm', 'reconfirmConsent')
    checkReconfirmation(consent, confirmedAt, this.deps.clock())
    if (!adapter.reconfirm) throw new UnsupportedByProviderError(consent.provider, 'reconfirmConsent')
    const ref = await this.deps.recorder.refFor(consent, adapter)
    const snapshot = await adapter.reconfirm(ref, confirmedAt, this.#context(caller))
    return this.deps.recorder.record(consent, snapshot, 'API', caller.initiator, this.#context(caller))
  }

  /**
   * Deletes the consent at its provider: it ends as REVOKED with `deletion` saying whether the provider and the bank
   * deleted it; its sealed secret is destroyed. Deleting a deleted consent returns it unchanged.
   */
  async remove(caller: Caller, consentId: string): Promise<Consent> {
    const { consent, adapter } = await this.#load(caller, consentId, 'delete', 'deleteConsent')
    if (consent.deletion?.status === 'SUCCESS') return consent
    if (!adapter.remove) throw new UnsupportedByProviderError(consent.provider, 'deleteConsent')
    const removal = await adapter.remove(await this.deps.recorder.refFor(consent, adapter), this.#context(caller))
    const recorded = await this.deps.recorder.write(
      consent,
      (current, now) => {
        const outcome = applyObservation(current, removal.snapshot, now)
        const base = outcome.kind === 'changed' ? outcome.consent : current
        return {
          ...base,
          deletion: {
            status: removal.deleteStatus,
            deletedAtInstitution: removal.deletedAtInstitution,
            at: now.toISOString(),
          },
        }
      },
      'API',
      caller.initiator,
    )
    if (removal.deleteStatus === 'SUCCESS') await this.deps.recorder.forgetSecret(recorded)
    return recorded
  }
}
