// The Finqware adapter against the Finqware sandbox over real HTTP: typed errors, bounded retries on idempotent calls
// only, timeouts, revoke's read-back, webhook verification (JWS over the raw body, JWKS with rotation) and the Date
// header that tells the end of validity from a revocation.
import { randomUUID } from 'node:crypto'
import { CompactSign, generateKeyPair } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { InstitutionNotFoundError, ProviderRejectedError, ProviderUnavailableError } from '../../domain/errors.ts'
import {
  NotificationRejectedError,
  type InboundNotification,
  type NotificationRejection,
  type ProviderAdapter,
  type ProviderConsentRef,
  type ProviderSnapshot,
} from '../../providers/adapter.ts'
import { createFinqwareAdapter } from '../../providers/finqware/adapter.ts'
import type { FinqwareConfig } from '../../providers/finqware/config.ts'
import {
  NotificationReceiver,
  aConsentRequest,
  eventually,
  finqwareAdapterConfig,
  institutionOf,
  rejectionOf,
  startFinqwareHarness,
  submitBankDecision,
  testCallContext,
  type FinqwareHarness,
} from '../support/provider-drivers.ts'

// Setup ---------------------------------------------------------------------------------------------------------------

const receiver = new NotificationReceiver()
let finqware: FinqwareHarness

beforeAll(async () => {
  await receiver.start()
  finqware = await startFinqwareHarness()
})

afterAll(async () => {
  await finqware?.teardown()
  await receiver.close()
})

beforeEach(async () => {
  // Forget consents, faults, delays and the clock offset (the signing keys stay).
  await finqware.control('reset', {})
})

// Fixtures ------------------------------------------------------------------------------------------------------------

interface Created {
  snapshot: ProviderSnapshot
  ref: ProviderConsentRef
  notificationUrl: string
}

async function createConsent(adapter: ProviderAdapter = finqware.adapter, institutionId = 'rzb_ro'): Promise<Created> {
  const notificationUrl = receiver.newEndpoint()
  const institution = await institutionOf(finqware.adapter, 'rzb_ro')
  const request = aConsentRequest(adapter, { ...institution, id: institutionId }, notificationUrl)
  const snapshot = await adapter.create(request, testCallContext())
  const ref = { providerConsentId: snapshot.providerConsentId, userRef: request.userRef, institutionId }
  return { snapshot, ref, notificationUrl }
}

const fetchWith = (adapter: ProviderAdapter, ref: ProviderConsentRef) => adapter.fetch(ref, testCallContext())

const waitForStatus = (ref: ProviderConsentRef, status: string, adapter: ProviderAdapter = finqware.adapter) =>
  eventually(
    () => fetchWith(adapter, ref),
    (snapshot) => snapshot.status === status,
    `consent ${ref.providerConsentId} reaching ${status}`,
  )

async function decidedConsent(decision: 'approve' | 'deny', adapter?: ProviderAdapter) {
  const created = await createConsent(adapter)
  await submitBankDecision(created.snapshot.authorizationUrl ?? '', decision)
  const settled = await waitForStatus(created.ref, decision === 'approve' ? 'ACTIVE' : 'FAILED', adapter)
  return { ...created, settled }
}

const sandboxConsentIds = async (): Promise<string[]> =>
  ((await finqware.control('consents')).consents as Array<{ consentId: string }>).map((consent) => consent.consentId)

/** Signs `body` as the sandbox signs its webhooks (current key; `x-signature` and `x-signature-kid`). */
async function signedBySandbox(body: string): Promise<InboundNotification> {
  return { headers: await finqware.sandbox.keys.sign(body), body }
}

/** Signs `body` with a freshly made key that no JWKS lists, under `kid`. */
async function signedByStranger(body: string, kid: string): Promise<InboundNotification> {
  const { privateKey } = await generateKeyPair('ES256')
  const signature = await new CompactSign(new TextEncoder().encode(body))
    .setProtectedHeader({ alg: 'ES256', kid })
    .sign(privateKey)
  return { headers: { 'x-signature': signature, 'x-signature-kid': kid }, body }
}

async function expectRejected(verification: Promise<unknown>, reason: NotificationRejection): Promise<void> {
  const error = await rejectionOf(verification)
  expect(error).toBeInstanceOf(NotificationRejectedError)
  expect(error).toMatchObject({ reason })
}

// Tests ---------------------------------------------------------------------------------------------------------------

describe("the browser's way back", () => {
  test('the bank sends the browser to the callback link the consent was created with, not to the partner', async () => {
    // Prepare
    const institution = await institutionOf(finqware.adapter, 'bt_ro')
    const request = aConsentRequest(finqware.adapter, institution, receiver.newEndpoint())
    const snapshot = await finqware.adapter.create(request, testCallContext())

    // Act
    const answer = await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')

    // Assess: the link, with Finqware's own outcome appended
    const back = new URL(answer.location ?? '')
    expect(`${back.origin}${back.pathname}`).toBe(request.callbackUrl)
    expect(back.searchParams.get('consent_id')).toBe(snapshot.providerConsentId)
  })

  test('readCallback takes error=access_denied as the user declining, and ignores the rest of the query', () => {
    expect(
      finqware.adapter.readCallback?.(new URLSearchParams('consent_id=x&status=failed&error=access_denied')),
    ).toEqual({ secret: null, error: 'access_denied', denied: true })
    expect(finqware.adapter.readCallback?.(new URLSearchParams('consent_id=x&status=failed'))).toEqual({
      secret: null,
      error: null,
      denied: false,
    })
    expect(finqware.adapter.readCallback?.(new URLSearchParams('error=server_error'))).toMatchObject({ denied: false })
  })
})

describe('Finqware error bodies become typed errors', () => {
  test('a wrong client secret is a ProviderRejectedError with providerCode unauthorized', async () => {
    // Prepare
    const wrongSecret = createFinqwareAdapter(finqwareAdapterConfig(finqware.sandbox.url, { clientSecret: 'wrong' }))

    // Act
    const error = await rejectionOf(createConsent(wrongSecret))

    // Assess
    expect(error).toBeInstanceOf(ProviderRejectedError)
    expect(error).toMatchObject({ providerCode: 'unauthorized', providerHttpStatus: 401, retryable: false })
  })

  test('an unknown institution is an InstitutionNotFoundError', async () => {
    const error = await rejectionOf(createConsent(finqware.adapter, 'atlantis_ro'))

    expect(error).toBeInstanceOf(InstitutionNotFoundError)
    expect(error).toMatchObject({ code: 'INSTITUTION_NOT_FOUND', provider: 'FINQWARE' })
  })

  test('the InstitutionNotFoundError names the unknown institution id', async () => {
    const error = await rejectionOf(createConsent(finqware.adapter, 'atlantis_ro'))

    expect(error).toMatchObject({ institutionId: 'atlantis_ro' })
  })

  test('an unknown consent id is a ProviderRejectedError with providerCode consent_not_found', async () => {
    const ref = { providerConsentId: randomUUID(), userRef: 'user-contract', institutionId: 'rzb_ro' }

    const error = await rejectionOf(fetchWith(finqware.adapter, ref))

    expect(error).toBeInstanceOf(ProviderRejectedError)
    expect(error).toMatchObject({ providerCode: 'consent_not_found', providerHttpStatus: 404 })
  })

  test.each([500, 503])(
    'an injected %i on every attempt is a retryable ProviderUnavailableError once the 2 retries are spent',
    async (status) => {
      // Prepare
      const { ref } = await createConsent()
      await finqware.control('faults', { failNext: 5, status })

      // Act
      const error = await rejectionOf(fetchWith(finqware.adapter, ref))

      // Assess
      expect(error).toBeInstanceOf(ProviderUnavailableError)
      expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true })
      // One attempt plus two retries consumed three of the five planned failures.
      expect((await finqware.control('faults')).failNext).toBe(2)
    },
  )
})

describe('bounded retries, on idempotent calls only', () => {
  test('fetch (idempotent) succeeds after one injected 503', async () => {
    // Prepare
    const { ref } = await createConsent()
    await finqware.control('faults', { failNext: 1, status: 503 })

    // Act
    const snapshot = await fetchWith(finqware.adapter, ref)

    // Assess
    expect(snapshot).toMatchObject({ providerConsentId: ref.providerConsentId, status: 'CREATED' })
    expect((await finqware.control('faults')).failNext).toBe(0)
  })

  test('revoke (idempotent at Finqware) succeeds after one injected 503', async () => {
    const { ref } = await decidedConsent('approve')
    await finqware.control('faults', { failNext: 1, status: 503 })

    const revoked = await finqware.adapter.revoke(ref, testCallContext())

    expect(revoked.status).toBe('REVOKED')
  })

  test('create (not idempotent) fails with PROVIDER_UNAVAILABLE after one injected 503 and leaves no consent', async () => {
    // Prepare
    const before = await sandboxConsentIds()
    await finqware.control('faults', { failNext: 1, status: 503 })

    // Act
    const error = await rejectionOf(createConsent())

    // Assess
    expect(error).toBeInstanceOf(ProviderUnavailableError)
    expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
    expect(await sandboxConsentIds()).toEqual(before)
    // Sent once: a retry would have created the consent.
    expect((await finqware.control('faults')).failNext).toBe(0)
  })
})

describe('timeouts', () => {
  test('a sandbox slower than http.timeoutMs is a ProviderUnavailableError', async () => {
    // Prepare
    const { ref } = await createConsent()
    const impatient = createFinqwareAdapter(
      finqwareAdapterConfig(finqware.sandbox.url, { http: { timeoutMs: 100, retries: 0 } }),
    )
    await finqware.control('faults', { delayMs: 500 })

    try {
      // Act
      const error = await rejectionOf(fetchWith(impatient, ref))

      // Assess
      expect(error).toBeInstanceOf(ProviderUnavailableError)
      expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true })
    } finally {
      await finqware.control('faults', { delayMs: 0 })
    }
  })
})

describe('revoke when Finqware answers 400 consent_not_active', () => {
  test('revoking a consent denied at the bank returns its FAILED state instead of throwing', async () => {
    const { ref } = await decidedConsent('deny')

    const snapshot = await finqware.adapter.revoke(ref, testCallContext())

    expect(snapshot).toMatchObject({ providerStatus: 'failed', status: 'FAILED' })
  })

  test('revoking a consent whose link expired returns its LINK_EXPIRED state instead of throwing', async () => {
    const { snapshot, ref } = await createConsent()
    await finqware.passLinkDeadline(snapshot)

    const revoked = await finqware.adapter.revoke(ref, testCallContext())

    expect(revoked).toMatchObject({ providerStatus: 'expired', status: 'LINK_EXPIRED', reason: 'LINK_TIMEOUT' })
  })
})

describe('webhook verification', () => {
  let consentId: string
  /** What the sandbox sent when the consent became active: genuine, signed by its current key. */
  let genuine: InboundNotification

  beforeAll(async () => {
    const { ref, notificationUrl } = await decidedConsent('approve')
    consentId = ref.providerConsentId
    genuine = await receiver.waitFor(notificationUrl, (notification) => notification.body.includes('"active"'))
  })

  test('a genuine consent_status_update verifies and names the consent and its raw status', async () => {
    const events = await finqware.adapter.verifyNotification(genuine)

    expect(events).toEqual([
      // The signed payload is the body alone: nothing tells this delivery apart or dates it.
      { providerConsentId: consentId, providerStatus: 'active', deliveryId: null, sentAt: null },
    ])
  })

  test('a body changed by one byte is rejected as unauthenticated', async () => {
    const body = genuine.body.replace('"active"', '"activf"')

    await expectRejected(finqware.adapter.verifyNotification({ ...genuine, body }), 'unauthenticated')
  })

  test('a signature by a key outside the JWKS, under an unknown kid, is rejected as unauthenticated', async () => {
    const forged = await signedByStranger(genuine.body, 'not-a-finqware-key')

    await expectRejected(finqware.adapter.verifyNotification(forged), 'unauthenticated')
  })

  test("a signature by a key outside the JWKS, under the current key's kid, is rejected as unauthenticated", async () => {
    const forged = await signedByStranger(genuine.body, finqware.sandbox.keys.currentKid)

    await expectRejected(finqware.adapter.verifyNotification(forged), 'unauthenticated')
  })

  test('an x-signature-kid header that disagrees with the signed JWS header is rejected as unauthenticated', async () => {
    const headers = { ...genuine.headers, 'x-signature-kid': finqware.sandbox.keys.previousKid }

    await expectRejected(finqware.adapter.verifyNotification({ ...genuine, headers }), 'unauthenticated')
  })

  test('a notification without x-signature is rejected as unauthenticated', async () => {
    const headers = { ...genuine.headers, 'x-signature': undefined }

    await expectRejected(finqware.adapter.verifyNotification({ ...genuine, headers }), 'unauthenticated')
  })

  test('a signed job_status_update verifies and yields no consent events', async () => {
    const jobUpdate = JSON.stringify({
      type: 'job_status_update',
      consent_id: consentId,
      job_id: randomUUID(),
      status: 'job_completed',
    })

    const events = await finqware.adapter.verifyNotification(await signedBySandbox(jobUpdate))

    expect(events).toEqual([])
  })

  test.each([
    ['JSON without a type', JSON.stringify({ consent_id: randomUUID(), status: 'active' })],
    ['a JSON array', '[]'],
    ['not JSON at all', 'status=active'],
    ['a status update without a consent id', JSON.stringify({ type: 'consent_status_update', status: 'active' })],
  ])('a body that verifies but is %s is rejected as malformed', async (_what, body) => {
    await expectRejected(finqware.adapter.verifyNotification(await signedBySandbox(body)), 'malformed')
  })
})

describe('webhook signing key rotation', () => {
  // Its own sandbox: rotating the shared one's keys would leave other tests' adapters with a stale JWKS.
  let rotating: FinqwareHarness

  beforeAll(async () => {
    rotating = await startFinqwareHarness({ adapter: { jwksRefetchCooldownMs: 0 } })
  })

  afterAll(async () => {
    await rotating?.teardown()
  })

  async function notificationOfApproval(): Promise<InboundNotification> {
    const notificationUrl = receiver.newEndpoint()
    const institution = await institutionOf(rotating.adapter, 'cec_ro')
    const snapshot = await rotating.adapter.create(
      aConsentRequest(rotating.adapter, institution, notificationUrl),
      testCallContext(),
    )
    await submitBankDecision(snapshot.authorizationUrl ?? '', 'approve')
    return receiver.waitFor(notificationUrl)
  }

  test('after POST /__sandbox/keys/rotate, a notification signed with the new key verifies (JWKS refetched)', async () => {
    // Prepare: the adapter has fetched and cached the JWKS before the rotation.
    const beforeRotation = await notificationOfApproval()
    expect(await rotating.adapter.verifyNotification(beforeRotation)).not.toEqual([])
    const { currentKid } = await rotating.control('keys/rotate', {})

    // Act
    const afterRotation = await notificationOfApproval()
    const events = await rotating.adapter.verifyNotification(afterRotation)

    // Assess
    expect(afterRotation.headers['x-signature-kid']).toBe(currentKid)
    expect(beforeRotation.headers['x-signature-kid']).not.toBe(currentKid)
    expect(events).toHaveLength(1)
  })
})

describe('the Date header tells the end of validity from a revocation', () => {
  test('past authorized_until on the sandbox clock, the raw revoked reads EXPIRED / VALIDITY_ENDED', async () => {
    // Prepare
    const { ref, settled } = await decidedConsent('approve')

    // Act: the adapter compares authorized_until with the provider's clock, which it reads from the Date header
    await finqware.passValidityEnd(settled)
    const ended = await fetchWith(finqware.adapter, ref)

    // Assess
    expect(ended.providerStatus).toBe('revoked')
    expect({ status: ended.status, reason: ended.reason }).toEqual({ status: 'EXPIRED', reason: 'VALIDITY_ENDED' })
  })

  test('revoking an active consent reads REVOKED / REVOKED_BY_TPP', async () => {
    const { ref } = await decidedConsent('approve')

    const revoked = await finqware.adapter.revoke(ref, testCallContext())

    expect(revoked).toMatchObject({ providerStatus: 'revoked', status: 'REVOKED', reason: 'REVOKED_BY_TPP' })
    expect(await fetchWith(finqware.adapter, ref)).toMatchObject({ status: 'REVOKED', reason: 'REVOKED_BY_TPP' })
  })
})

describe('validity end labelled deactivated (the other reading of the docs)', () => {
  let deactivating: FinqwareHarness

  beforeAll(async () => {
    deactivating = await startFinqwareHarness({ sandbox: { validityEndStatus: 'deactivated' } })
  })

  afterAll(async () => {
    await deactivating?.teardown()
  })

  test('past authorized_until, deactivated reads EXPIRED / VALIDITY_ENDED whatever the Date header says', async () => {
    // Prepare
    const institution = await institutionOf(deactivating.adapter, 'bt_ro')
    const request = aConsentRequest(deactivating.adapter, institution, receiver.newEndpoint())
    const created = await deactivating.adapter.create(request, testCallContext())
    const ref = { providerConsentId: created.providerConsentId, userRef: request.userRef, institutionId: 'bt_ro' }
    await submitBankDecision(created.authorizationUrl ?? '', 'approve')
    const active = await waitForStatus(ref, 'ACTIVE', deactivating.adapter)

    // Act
    await deactivating.passValidityEnd(active)
    const ended = await fetchWith(deactivating.adapter, ref)

    // Assess
    expect(ended).toMatchObject({ providerStatus: 'deactivated', status: 'EXPIRED', reason: 'VALIDITY_ENDED' })
  })
})

describe('OAuth2 bearer mode (production; the body secret is test-only)', () => {
  // Its own sandbox, so token counts and clock moves concern these tests alone.
  let bearer: FinqwareHarness

  beforeAll(async () => {
    bearer = await startFinqwareHarness({
      sandbox: { authMode: 'oauth2', tokenLifetimeSeconds: 3_600 },
      adapter: { authMode: 'oauth2', tokenRenewalMarginSeconds: 60 },
    })
  })

  afterAll(async () => {
    await bearer?.teardown()
  })

  beforeEach(async () => {
    await bearer.control('reset', {})
  })

  const freshAdapter = (overrides: Partial<FinqwareConfig> = {}) =>
    createFinqwareAdapter(
      finqwareAdapterConfig(bearer.sandbox.url, { authMode: 'oauth2', tokenRenewalMarginSeconds: 60, ...overrides }),
    )

  async function bearerConsent(adapter: ProviderAdapter) {
    const institution = await institutionOf(adapter, 'rzb_ro')
    const request = aConsentRequest(adapter, institution, receiver.newEndpoint())
    const snapshot = await adapter.create(request, testCallContext())
    return { providerConsentId: snapshot.providerConsentId, userRef: request.userRef, institutionId: 'rzb_ro' }
  }

  test('create, get and revoke go through with a token from the token endpoint, which the sandbox requires', async () => {
    // Prepare
    const adapter = freshAdapter()
    const before = bearer.sandbox.tokenCounts()

    // Act: the sandbox refuses any body carrying client_secret and any call without a valid token
    const ref = await bearerConsent(adapter)
    const fetched = await adapter.fetch(ref, testCallContext())
    const revoked = await adapter.revoke(ref, testCallContext())

    // Assess: one token served every call
    expect(fetched.status).toBe('CREATED')
    expect(revoked.status).toBe('REVOKED')
    expect(bearer.sandbox.tokenCounts()).toEqual({ issued: before.issued + 1, refused: before.refused })
  })

  test('concurrent callers share one token request', async () => {
    // Prepare
    const adapter = freshAdapter()
    const before = bearer.sandbox.tokenCounts()

    // Act
    const lists = await Promise.all(Array.from({ length: 5 }, () => adapter.listInstitutions(testCallContext())))
    const refs = await Promise.all(Array.from({ length: 4 }, () => bearerConsent(adapter)))

    // Assess
    expect(lists[0]?.length).toBeGreaterThan(0)
    expect(new Set(refs.map((ref) => ref.providerConsentId)).size).toBe(4)
    expect(bearer.sandbox.tokenCounts().issued).toBe(before.issued + 1)
  })

  test('a token that expired at Finqware before our cache thought is renewed once on the 401 and the call retried', async () => {
    // Prepare: a token in the cache, then Finqware's clock past its lifetime (ours has not moved)
    const adapter = freshAdapter()
    const ref = await bearerConsent(adapter)
    await bearer.control('clock', { advanceSeconds: 3_600 + 60 })
    const before = bearer.sandbox.tokenCounts()

    // Act
    const snapshot = await adapter.fetch(ref, testCallContext())

    // Assess: one refusal, one new token, the call answered
    expect(snapshot.providerConsentId).toBe(ref.providerConsentId)
    expect(bearer.sandbox.tokenCounts()).toEqual({ issued: before.issued + 1, refused: before.refused + 1 })
  })

  test('concurrent calls refused 401 for one expired token share one renewal', async () => {
    // Prepare: a cached token that Finqware no longer accepts
    const adapter = freshAdapter()
    const ref = await bearerConsent(adapter)
    await bearer.control('clock', { advanceSeconds: 3_600 + 60 })
    const before = bearer.sandbox.tokenCounts()

    // Act
    const snapshots = await Promise.all(Array.from({ length: 4 }, () => adapter.fetch(ref, testCallContext())))

    // Assess: every call answered, each refused once, one new token for all of them
    expect(snapshots.map((snapshot) => snapshot.providerConsentId)).toEqual(Array(4).fill(ref.providerConsentId))
    expect(bearer.sandbox.tokenCounts()).toEqual({ issued: before.issued + 1, refused: before.refused + 4 })
  })

  test('a create refused 401 for its token is sent again after renewal and creates exactly one consent', async () => {
    // Prepare: the cached token expires at Finqware
    const adapter = freshAdapter()
    await bearerConsent(adapter)
    await bearer.control('clock', { advanceSeconds: 3_600 + 60 })
    const before = await bearer.control('consents')

    // Act
    const ref = await bearerConsent(adapter)

    // Assess
    const after = (await bearer.control('consents')).consents as Array<{ consentId: string }>
    expect(after).toHaveLength(before.consents.length + 1)
    expect(after.map((consent) => consent.consentId)).toContain(ref.providerConsentId)
  })

  test('a second 401 after the renewal is not retried again: PROVIDER_REJECTED unauthorized', async () => {
    // Prepare: a cached token, then two refusals in a row
    const adapter = freshAdapter()
    const ref = await bearerConsent(adapter)
    const before = bearer.sandbox.tokenCounts()
    await bearer.control('faults', { failNext: 3, status: 401, code: 'unauthorized' })

    // Act
    const error = await rejectionOf(adapter.fetch(ref, testCallContext()))

    // Assess: one renewal, two calls, the third planned refusal unused
    expect(error).toBeInstanceOf(ProviderRejectedError)
    expect(error).toMatchObject({ providerCode: 'unauthorized', providerHttpStatus: 401 })
    expect(bearer.sandbox.tokenCounts().issued).toBe(before.issued + 1)
    expect((await bearer.control('faults')).failNext).toBe(1)
  })

  test('the token is kept until shortly before it expires, then renewed before Finqware would refuse it', async () => {
    // Prepare
    const adapter = freshAdapter()
    const ref = await bearerConsent(adapter)
    const before = bearer.sandbox.tokenCounts()
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      // Act: our clock (and the in-process sandbox's) just before the renewal margin, then inside it
      vi.setSystemTime(Date.now() + (3_600 - 60 - 5) * 1000)
      await adapter.fetch(ref, testCallContext())
      const kept = bearer.sandbox.tokenCounts()
      vi.setSystemTime(Date.now() + 10 * 1000)
      await adapter.fetch(ref, testCallContext())

      // Assess: same token first, then a new one without any refusal
      expect(kept).toEqual(before)
      expect(bearer.sandbox.tokenCounts()).toEqual({ issued: before.issued + 1, refused: before.refused })
    } finally {
      vi.useRealTimers()
    }
  })

  test('a wrong client secret is refused at the token endpoint: PROVIDER_REJECTED unauthorized, not retried', async () => {
    const error = await rejectionOf(bearerConsent(freshAdapter({ clientSecret: 'wrong' })))

    expect(error).toBeInstanceOf(ProviderRejectedError)
    expect(error).toMatchObject({ providerCode: 'unauthorized', providerHttpStatus: 401, retryable: false })
  })

  test('internal mode against a bearer-mode Finqware is refused (the body secret is not accepted there)', async () => {
    const error = await rejectionOf(bearerConsent(freshAdapter({ authMode: 'internal' })))

    expect(error).toMatchObject({ providerCode: 'unauthorized', providerHttpStatus: 401 })
  })
})

describe('internal mode (client_secret in the body, for test environments)', () => {
  let internal: FinqwareHarness

  beforeAll(async () => {
    internal = await startFinqwareHarness({ sandbox: { authMode: 'internal' }, adapter: { authMode: 'internal' } })
  })

  afterAll(async () => {
    await internal?.teardown()
  })

  test('create and get go through without any token request', async () => {
    const institution = await institutionOf(internal.adapter, 'bt_ro')
    const request = aConsentRequest(internal.adapter, institution, receiver.newEndpoint())

    const created = await internal.adapter.create(request, testCallContext())
    const ref = { providerConsentId: created.providerConsentId, userRef: request.userRef, institutionId: 'bt_ro' }

    expect((await internal.adapter.fetch(ref, testCallContext())).status).toBe('CREATED')
    expect(internal.sandbox.tokenCounts().issued).toBe(0)
  })
})

describe('completed: named in the Get Consent text, outside its enum', () => {
  test('a consent Finqware reports as completed reads ACTIVE (data accessible)', async () => {
    // Prepare
    const { ref } = await createConsent()

    // Act
    await finqware.control(`consents/${ref.providerConsentId}/status`, { status: 'completed' })
    const snapshot = await fetchWith(finqware.adapter, ref)

    // Assess
    expect(snapshot).toMatchObject({ providerStatus: 'completed', status: 'ACTIVE', reason: null })
  })
})
