// connected: the Yapily adapter against its sandbox over HTTP, for what the contract suite does not show: both error
// envelopes as typed errors, the embedded flow's statuses, what an institution refuses, and the callback reading.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InstitutionNotFoundError, ProviderRejectedError, UnsupportedByProviderError } from '../../domain/errors.ts'
import { nextAction } from '../../domain/derived.ts'
import { createYapilyAdapter } from '../../providers/yapily/adapter.ts'
import {
  aConsentRequest,
  institutionOf,
  NotificationReceiver,
  rejectionOf,
  startYapilyHarness,
  submitBankDecision,
  testCallContext,
  type YapilyHarness,
} from '../support/provider-drivers.ts'

const receiver = new NotificationReceiver()
let harness: YapilyHarness

beforeAll(async () => {
  await receiver.start()
  harness = await startYapilyHarness({ callbackPrefix: `${receiver.url}/` })
})

afterAll(async () => {
  await harness?.teardown()
  await receiver.close()
})

async function create(institutionId: string, userRef: string) {
  const institution = await institutionOf(harness.adapter, institutionId)
  const request = aConsentRequest(harness.adapter, institution, receiver.newEndpoint(), { userRef })
  const snapshot = await harness.adapter.create(request, testCallContext())
  return { snapshot, ref: { providerConsentId: snapshot.providerConsentId, userRef, institutionId } }
}

describe('Yapily errors', () => {
  it('reports wrong application credentials (the legacy 401 body) as PROVIDER_REJECTED', async () => {
    const stranger = createYapilyAdapter({ ...harness.adapterConfig, applicationSecret: 'wrong' })
    const error = await rejectionOf(stranger.listInstitutions(testCallContext()))
    expect(error).toBeInstanceOf(ProviderRejectedError)
    expect(error).toMatchObject({ providerCode: 'UNAUTHORIZED', providerHttpStatus: 401 })
  })

  it('names the unknown institution (404) as INSTITUTION_NOT_FOUND', async () => {
    const institution = { id: 'atlantis-sandbox', name: 'Atlantis', country: 'GB', region: 'UK' as const }
    const error = await rejectionOf(
      harness.adapter.create(aConsentRequest(harness.adapter, institution, receiver.newEndpoint()), testCallContext()),
    )
    expect(error).toBeInstanceOf(InstitutionNotFoundError)
    expect(error).toMatchObject({ institutionId: 'atlantis-sandbox' })
  })

  it('reads the new error envelope of extend (issues[]) into a typed error with its issue code', async () => {
    const { ref } = await create('modelo-sandbox', 'y-int-extend')
    // Not authorised yet: Yapily refuses to extend.
    const error = await rejectionOf(harness.adapter.reconfirm({ ...ref }, new Date(), testCallContext()))
    expect(error).toBeInstanceOf(ProviderRejectedError)
    expect(error).toMatchObject({ providerCode: '10600', providerHttpStatus: 400 })
  })

  it('answers re-authorisation at an institution without it (424) with UNSUPPORTED_BY_PROVIDER', async () => {
    const { snapshot, ref } = await create('embedded-de-sandbox', 'y-int-embedded-reauth')
    await walkEmbeddedPage(snapshot.authorizationUrl ?? '')
    const active = await harness.adapter.fetch(ref, testCallContext())
    const error = await rejectionOf(
      harness.adapter.reauthorize({ ...ref, secret: active.secret ?? null }, testCallContext()),
    )
    expect(error).toBeInstanceOf(UnsupportedByProviderError)
  })
})

/** The embedded bank's page: SCA method, then SCA code (the sandbox's code is prefilled), each step one form post. */
async function walkEmbeddedPage(url: string, observe?: () => Promise<void>) {
  const method = await submitBankDecision(url, 'approve')
  expect(method.status).toBe(200)
  await observe?.()
  const code = await submitBankDecision(url, 'approve')
  expect(code.status).toBe(302)
}

describe('the embedded flow', () => {
  it('shows the embedded statuses as AWAITING_AUTHORIZATION, keeping the raw ones, until AUTHORIZED', async () => {
    const { snapshot, ref } = await create('embedded-de-sandbox', 'y-int-embedded')
    const seen: string[] = []
    const look = async () => {
      const now = await harness.adapter.fetch(ref, testCallContext())
      seen.push(`${now.providerStatus}:${now.status}`)
    }
    await fetch(snapshot.authorizationUrl ?? '')
    await look()
    await walkEmbeddedPage(snapshot.authorizationUrl ?? '', look)
    await look()
    expect(seen).toEqual([
      'AWAITING_SCA_METHOD:AWAITING_AUTHORIZATION',
      'AWAITING_SCA_CODE:AWAITING_AUTHORIZATION',
      'AUTHORIZED:ACTIVE',
    ])
  })
})

describe('the callback', () => {
  it('reads the token from consent=, and the error from error= (access_denied: the user declined)', () => {
    expect(harness.adapter.readCallback?.(new URLSearchParams('consent=tok&application-user-id=u'))).toEqual({
      secret: 'tok',
      secrets: ['tok'],
      error: null,
      denied: false,
    })
    expect(harness.adapter.readCallback?.(new URLSearchParams('error=access_denied'))).toEqual({
      secret: null,
      secrets: [],
      error: 'access_denied',
      denied: true,
    })
    expect(harness.adapter.readCallback?.(new URLSearchParams('error=server_error'))).toMatchObject({ denied: false })
  })

  it('carries the token Yapily holds in the snapshot, for the gateway to seal, once authorised', async () => {
    const { snapshot, ref } = await create('modelo-sandbox', 'y-int-token')
    expect(snapshot.secret ?? null).toBeNull()
    const atBank = await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
    const brought = new URL(atBank.location ?? '').searchParams.get('consent')
    expect((await harness.adapter.fetch(ref, testCallContext())).secret).toBe(brought)
  })
})

describe('what Yapily publishes (issue 12)', () => {
  // Yapily, "Understanding Consents" (https://docs.yapily.com): REVOKED is "User revoked consent directly at their bank".
  it('reads a consent Yapily reports REVOKED as revoked at the bank, and one we deleted as revoked by us', async () => {
    const { snapshot, ref } = await create('modelo-sandbox', 'y-int-revoked-at-bank')
    await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
    await harness.control(`consents/${ref.providerConsentId}/status`, { status: 'REVOKED' })
    expect(await harness.adapter.fetch(ref, testCallContext())).toMatchObject({
      providerStatus: 'REVOKED',
      status: 'REVOKED',
      reason: 'REVOKED_AT_BANK',
    })

    const ours = await create('modelo-sandbox', 'y-int-revoked-by-us')
    await submitBankDecision(ours.snapshot.authorizationUrl ?? '', 'approve')
    const removed = await harness.adapter.remove(ours.ref, testCallContext())
    expect(removed.snapshot).toMatchObject({ status: 'REVOKED', reason: 'REVOKED_BY_TPP' })
  })
})

describe('a long-lived consent (issue 12)', () => {
  // Yapily API 12.13.0: `Consent.expiresAt` is optional; a long-lived consent has none.
  it('reads an authorised consent without expiresAt as ACTIVE with no validUntil', async () => {
    const { snapshot, ref } = await create('modelo-sandbox', 'y-int-long-lived')
    await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
    await harness.control(`consents/${ref.providerConsentId}/long-lived`, {})
    const read = await harness.adapter.fetch(ref, testCallContext())
    expect(read).toMatchObject({ status: 'ACTIVE', providerStatus: 'AUTHORIZED', validUntil: null })
  })
})

describe('a lapsed UK reconfirmation (issue 12)', () => {
  // Yapily, "Financial data consents": a UK consent not reconfirmed by `reconfirmBy` is blocked (403 on data calls)
  // until extend records the reconfirmation; a revocation at the bank is a 403 too, and is told apart by that clock.
  it('reads a 403 past reconfirmBy as ACTIVE to reconfirm (nextAction RECONFIRM), not revoked; extend restores it', async () => {
    const { snapshot, ref } = await create('modelo-sandbox', 'y-int-reconfirm-lapsed')
    await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
    await harness.control(`consents/${ref.providerConsentId}/long-lived`, {})
    const authorised = await harness.adapter.fetch(ref, testCallContext())
    const withToken = { ...ref, secret: authorised.secret ?? null }
    const reconfirmBy = Date.parse(authorised.reconfirmBy ?? '')
    await harness.control('clock', { set: new Date(reconfirmBy + 60_000).toISOString() })

    const lapsed = await harness.adapter.fetch(withToken, testCallContext())
    expect(lapsed).toMatchObject({ providerStatus: 'AUTHORIZED', status: 'ACTIVE', reason: null })
    const now = await harness.providerNow()
    const shown = {
      region: 'UK' as const,
      status: lapsed.status,
      statusReason: lapsed.reason,
      authorizationUrl: null,
      linkExpiresAt: null,
      validUntil: lapsed.validUntil ?? null,
      reconfirmBy: lapsed.reconfirmBy ?? null,
    }
    expect(nextAction(shown, now, { canReauthorize: true })).toBe('RECONFIRM')

    const reconfirmed = await harness.adapter.reconfirm(withToken, new Date(now.getTime() - 1_000), testCallContext())
    expect(Date.parse(reconfirmed.reconfirmBy ?? '')).toBeGreaterThan(now.getTime())
    expect(await harness.adapter.fetch(withToken, testCallContext())).toMatchObject({ status: 'ACTIVE', reason: null })
  })

  it('still reads a 403 before reconfirmBy as revoked at the bank', async () => {
    const { snapshot, ref } = await create('modelo-sandbox', 'y-int-reconfirm-revoked')
    await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
    const authorised = await harness.adapter.fetch(ref, testCallContext())
    await harness.control(`consents/${ref.providerConsentId}/revoke-at-bank`, {})
    expect(await harness.adapter.fetch({ ...ref, secret: authorised.secret ?? null }, testCallContext())).toMatchObject(
      { status: 'REVOKED', reason: 'REVOKED_AT_BANK', providerStatus: 'AUTHORIZED' },
    )
  })
})

describe('webhook settings (issue 12)', () => {
  // Yapily publishes no consent webhook category nor signature header: both are our guesses, hence configuration.
  it('verifies deliveries under the configured signature header and event type, and only those', async () => {
    const settings = { webhookSignatureHeader: 'Webhook-Signature', webhookConsentEventType: 'CONSENT_STATUS_UPDATE' }
    const endpoint = receiver.newEndpoint()
    const configured = await startYapilyHarness({
      callbackPrefix: `${receiver.url}/`,
      webhookUrl: endpoint,
      sandbox: { webhookSignatureHeader: 'Webhook-Signature', consentEventType: 'CONSENT_STATUS_UPDATE' },
      adapter: settings,
    })
    try {
      const institution = await institutionOf(configured.adapter, 'modelo-sandbox')
      const request = aConsentRequest(configured.adapter, institution, endpoint, { userRef: 'y-int-hook-settings' })
      const snapshot = await configured.adapter.create(request, testCallContext())
      await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
      const delivery = await receiver.waitFor(endpoint)

      expect(await configured.adapter.verifyNotification(delivery)).toEqual([
        expect.objectContaining({ providerConsentId: snapshot.providerConsentId, providerStatus: 'AUTHORIZED' }),
      ])
      const defaults = createYapilyAdapter({
        ...configured.adapterConfig,
        webhookSignatureHeader: undefined,
        webhookConsentEventType: undefined,
      })
      expect(await rejectionOf(defaults.verifyNotification(delivery))).toMatchObject({ reason: 'unauthenticated' })
      const otherType = createYapilyAdapter({ ...configured.adapterConfig, webhookConsentEventType: 'consent.status' })
      expect(await otherType.verifyNotification(delivery)).toEqual([])
    } finally {
      await configured.teardown()
    }
  })
})

describe('one consent per account (issue 12)', () => {
  // Yapily, "Understanding Consents": "Some banks return one consent per account"; the callback carries each token.
  async function authorisedPerAccount(userRef: string) {
    const { snapshot, ref } = await create('per-account-gb-sandbox', userRef)
    const atBank = await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
    const brought = harness.adapter.readCallback?.(new URL(atBank.location ?? '').searchParams)
    const read = await harness.adapter.fetch({ ...ref, callbackSecrets: brought?.secrets ?? [] }, testCallContext())
    const { consents } = (await harness.control('consents')) as { consents: Array<{ id: string; siblingOf?: string }> }
    const other = consents.find((consent) => consent.siblingOf === ref.providerConsentId)?.id ?? ''
    return { brought, read, held: { ...ref, secret: read.secret ?? null }, other }
  }

  it('keeps every consent the callback brought, and shows the least healthy of them', async () => {
    const { brought, read, held, other } = await authorisedPerAccount('y-int-per-account-status')
    expect(brought?.secrets).toHaveLength(2)
    expect(read).toMatchObject({ status: 'ACTIVE', providerConsentId: held.providerConsentId })

    await harness.control(`consents/${other}/revoke-at-bank`, {})

    expect(await harness.adapter.fetch(held, testCallContext())).toMatchObject({
      status: 'REVOKED',
      reason: 'REVOKED_AT_BANK',
    })
  })

  it('revokes every one of them', async () => {
    const { held, other } = await authorisedPerAccount('y-int-per-account-revoke')

    const revoked = await harness.adapter.revoke(held, testCallContext())

    expect(revoked).toMatchObject({ status: 'REVOKED', reason: 'REVOKED_BY_TPP' })
    const { consents } = (await harness.control('consents')) as {
      consents: Array<{ id: string; isDeletedByInstitution: boolean | null }>
    }
    for (const id of [held.providerConsentId, other]) {
      expect(consents.find((consent) => consent.id === id)?.isDeletedByInstitution, id).not.toBeNull()
    }
  })

  it('keeps only the tokens Yapily holds for this user at this bank (a forged one is dropped)', async () => {
    const { snapshot, ref } = await create('per-account-gb-sandbox', 'y-int-per-account-forged')
    const atBank = await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
    const [first] = new URL(atBank.location ?? '').searchParams.getAll('consent')
    const read = await harness.adapter.fetch(
      { ...ref, callbackSecrets: [first ?? '', 'forged-token'] },
      testCallContext(),
    )
    expect(read).toMatchObject({ status: 'ACTIVE', secret: first })
  })
})

describe('institutions (issue 12)', () => {
  // Yapily API 12.13.0 `Institution`: `countries` is a list and `features` says what the institution can take.
  it('offers only institutions that take account authorisation requests, placed by any of their countries', async () => {
    const institutions = await createYapilyAdapter(harness.adapterConfig).listInstitutions(testCallContext())
    const byId = Object.fromEntries(institutions.map((institution) => [institution.id, institution]))
    expect(byId['santander-es-sandbox']).toMatchObject({ country: 'ES', region: 'EEA' })
    expect(byId['payments-only-gb-sandbox']).toBeUndefined()
    expect(Object.keys(byId).sort()).toEqual([
      'embedded-de-sandbox',
      'modelo-sandbox',
      'per-account-gb-sandbox',
      'santander-es-sandbox',
    ])
  })
})
