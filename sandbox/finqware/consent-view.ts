// How a consent reads over the API (`/ais/consents/get`), including child shapes Finqware does not publish (our guesses).
import { findBank } from './catalogue.ts'
import type { FinqwareConsent } from './consent.ts'

/** `web_url` is null for `direct_sca` (Finqware's Get Consent page); otherwise the hosted WebUI link. */
export function webUrlOf(consent: FinqwareConsent, baseUrl: string): string | null {
  return consent.flow === 'direct_sca' ? null : `${baseUrl}/link/${consent.webId}`
}

export function consentView(consent: FinqwareConsent, baseUrl: string, requestId: string): Record<string, unknown> {
  const bank = findBank(consent.providerId)
  return {
    request_id: requestId,
    consent_id: consent.consentId,
    status: consent.status,
    expires_at: consent.expiresAt.toISOString(),
    consent_validity_days: consent.consentValidityDays,
    authorized_until: consent.authorizedUntil?.toISOString() ?? null,
    api_client_app: consent.apiClientApp,
    web_id: consent.webId,
    web_url: webUrlOf(consent, baseUrl),
    // The native bank URL of a direct_sca consent; the field name is ours (Finqware publishes none).
    ...(consent.directSca && { sca_url: consent.directSca.scaUrl }),
    scope: consent.scope,
    // Finqware does not publish the children of service_provider and ais_method; these shapes are our guess.
    // service_provider is null while a link consent has no bank chosen yet (our guess).
    service_provider: bank ? { provider_id: bank.providerId, name: bank.name, country: bank.country } : null,
    ais_method: { type: consent.flow, provider_id: consent.providerId },
    // "Present once the consent is completed": both keys are absent until the consent first becomes active (our guess).
    ...(consent.accounts && { accounts: consent.accounts }),
    ...(consent.latestCompletedJob && { latest_completed_job: consent.latestCompletedJob }),
  }
}
