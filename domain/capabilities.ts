// What the gateway can do with a consent at each provider, as a static table: rendering a consent (its nextAction),
// or checking that an operation is offered, loads no adapter code. An adapter's own capabilities are this entry plus
// what only it knows (its scope sets; Yapily's notifications, which depend on its configuration).
import type { Provider, Region } from './provider.ts'

export interface ProviderCapabilities {
  /** Re-authorise an existing consent in place (same id). */
  readonly reauthorize: boolean
  /** UK 90-day reconfirmation without SCA. */
  readonly reconfirm: boolean
  /** Delete the consent at the provider (beyond revoking it). */
  readonly delete: boolean
  /** The provider pushes status changes; without them only polling sees changes. */
  readonly webhooks: boolean
  /**
   * Authorising a consent ends the user's older consents at the same bank (Worldline `Inactive`): the gateway then
   * re-reads those at once instead of waiting to be told.
   */
  readonly supersedesOlderConsents: boolean
  /**
   * The provider issues a secret per consent (Yapily's consentToken) that later calls need: the gateway seals it at
   * rest and hands it back in `ProviderConsentRef.secret`.
   */
  readonly usesConsentSecret: boolean
  readonly regions: readonly Region[]
  /** The provider's own cap on validity, on top of the UK/EEA policy. */
  readonly maxValidityDays: number
}

export const PROVIDER_CAPABILITIES: Readonly<Record<Provider, ProviderCapabilities>> = {
  FINQWARE: {
    reauthorize: false,
    reconfirm: false,
    delete: false,
    webhooks: true,
    supersedesOlderConsents: false,
    usesConsentSecret: false,
    // Finqware's sandbox banks are Romanian; its docs describe no UK coverage.
    regions: ['EEA'],
    maxValidityDays: 180,
  },
  WORLDLINE: {
    reauthorize: false,
    reconfirm: false,
    // DELETE is how a consent is revoked; there is nothing further to delete.
    delete: false,
    // Only within a few days after initiation (docs/providers.md, Worldline evidence: Notifications); later changes
    // are found by polling.
    webhooks: true,
    supersedesOlderConsents: true,
    usesConsentSecret: false,
    regions: ['EEA'],
    maxValidityDays: 180,
  },
  YAPILY: {
    reauthorize: true,
    reconfirm: true,
    delete: true,
    // Private beta, and signed by a scheme Yapily does not document: the adapter offers them only with a secret.
    webhooks: false,
    supersedesOlderConsents: false,
    usesConsentSecret: true,
    regions: ['UK', 'EEA'],
    maxValidityDays: 180,
  },
}
