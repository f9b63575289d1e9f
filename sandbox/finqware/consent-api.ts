// The consent endpoints: `/ais/consents/create`, `/ais/consents/get`, `/ais/consents/revoke` (Finqware's Create, Get and Revoke Consent pages).
import { randomBytes, randomUUID } from 'node:crypto'
import { ulid } from 'ulid'
import type { SandboxClock } from '../shared/clock.ts'
import { requiredId, type ApiOperation } from './api-call.ts'
import { REVOCABLE_STATUSES, type FinqwareConsent } from './consent.ts'
import type { ConsentStore } from './consent-store.ts'
import { consentView, webUrlOf } from './consent-view.ts'
import { parseCreateConsent } from './create-request.ts'
import { consentNotActive, consentNotFound } from './errors.ts'

export interface ConsentApiContext {
  store: ConsentStore
  clock: SandboxClock
  baseUrl: string
}

export function createConsentOperation({ store, clock, baseUrl }: ConsentApiContext): ApiOperation {
  return ({ body, client, requestId }) => {
    const input = parseCreateConsent(body)
    const now = clock.now()
    const webId = ulid().toLowerCase()
    const consent: FinqwareConsent = {
      consentId: randomUUID(),
      webId,
      clientId: client.clientId,
      apiClientApp: client.apiClientApp,
      flow: input.flow,
      providerId: input.providerId,
      scope: input.scope,
      consentValidityDays: input.consentValidityDays,
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.expiresInSeconds * 1000),
      authorizedUntil: null,
      activationDueAt: null,
      // No webhook for `created`: the create response already tells the caller, webhooks report later changes (our guess).
      status: 'created',
      webhookUrl: input.webhookUrl,
      redirectUrl: input.redirectUrl,
      accounts: null,
      latestCompletedJob: null,
      directSca: input.flow === 'direct_sca' ? directScaState(baseUrl, input.providerId ?? '') : null,
    }
    store.add(consent)
    return {
      status: 200,
      body: {
        request_id: requestId,
        created_at: consent.createdAt.toISOString(),
        expires_at: consent.expiresAt.toISOString(),
        consent_validity_days: consent.consentValidityDays,
        api_client_app: consent.apiClientApp,
        consent_id: consent.consentId,
        web_id: consent.webId,
        web_url: webUrlOf(consent, baseUrl),
        // The create response documents no `status` and no name for the native bank URL; `sca_url` is ours.
        ...(consent.directSca && { sca_url: consent.directSca.scaUrl }),
      },
    }
  }
}

export function getConsentOperation({ store, baseUrl }: ConsentApiContext): ApiOperation {
  return ({ body, client, requestId }) => {
    const consentId = requiredId(body, 'consent_id')
    const consent = store.find(consentId, client.clientId)
    if (!consent) throw consentNotFound(consentId)
    return { status: 200, body: consentView(consent, baseUrl, requestId) }
  }
}

export function revokeConsentOperation({ store }: ConsentApiContext): ApiOperation {
  return ({ body, client, requestId }) => {
    const consentId = requiredId(body, 'consent_id')
    const consent = store.find(consentId, client.clientId)
    if (!consent) throw consentNotFound(consentId)
    // Revoking again is an idempotent 200; expired, failed, suspended (and deactivated) are errors (Finqware's Revoke Consent page).
    if (consent.status !== 'revoked') {
      if (!REVOCABLE_STATUSES.has(consent.status)) {
        throw consentNotActive(`consent ${consentId} is ${consent.status} and cannot be revoked`)
      }
      // Local to Finqware: nothing is deleted at the bank (our guess).
      store.transition(consent, 'revoked')
    }
    return {
      status: 200,
      body: { request_id: requestId, consent_id: consentId, status: 'revoked', api_client_app: consent.apiClientApp },
    }
  }
}

/** The fake native bank's authorisation URL, carrying an opaque `state` the redirect brings back. */
function directScaState(baseUrl: string, providerId: string): FinqwareConsent['directSca'] {
  const state = randomBytes(16).toString('base64url')
  return {
    state,
    scaUrl: `${baseUrl}/bank/${encodeURIComponent(providerId)}/authorize?state=${state}`,
    bankAnswer: null,
    redirect: 'not_received',
  }
}
