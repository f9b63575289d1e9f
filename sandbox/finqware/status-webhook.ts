// The `consent_status_update` webhook body (Finqware's Consents page), serialised once: the signature covers these bytes.
import type { FinqwareConsent } from './consent.ts'

export function consentStatusUpdate(consent: Pick<FinqwareConsent, 'consentId' | 'status'>): string {
  return JSON.stringify({ type: 'consent_status_update', consent_id: consent.consentId, status: consent.status })
}
