// The provider adapter contract: every adapter, against its own sandbox over real HTTP, behaves the same on the seam
// the service relies on (`ProviderAdapter` in providers/adapter.ts). A new provider joins by adding its driver to PROVIDER_DRIVERS.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ProviderRejectedError } from '../../domain/errors.ts'
import { REGIONS, sameScope } from '../../domain/provider.ts'
import {
  NotificationRejectedError,
  type CreateConsentRequest,
  type InboundNotification,
  type ProviderConsentRef,
  type ProviderSnapshot,
} from '../../providers/adapter.ts'
import {
  NotificationReceiver,
  PROVIDER_DRIVERS,
  aConsentRequest,
  eventually,
  institutionOf,
  rejectionOf,
  testCallContext,
  type ProviderHarness,
} from '../support/provider-drivers.ts'

const DAY_MS = 86_400_000
/** Slack around "N days ahead": the provider's clock is read just before and after the call that sets the deadline. */
const SLACK_MS = 60_000
const PENDING = ['CREATED', 'AWAITING_AUTHORIZATION']

describe.each(PROVIDER_DRIVERS.map((driver) => [driver.name, driver] as const))(
  '%s adapter contract',
  (_name, driver) => {
    const receiver = new NotificationReceiver()
    let harness: ProviderHarness

    beforeAll(async () => {
      await receiver.start()
      harness = await driver.setup({ receiverUrl: receiver.url })
    })

    afterAll(async () => {
      await harness?.teardown()
      await receiver.close()
    })

    interface CreatedConsent {
      request: CreateConsentRequest
      snapshot: ProviderSnapshot
      ref: ProviderConsentRef
      notificationUrl: string
    }

    async function createConsent(overrides: Partial<CreateConsentRequest> = {}): Promise<CreatedConsent> {
      const { adapter } = harness
      const notificationUrl = receiver.newEndpoint()
      const institution = await institutionOf(adapter, driver.institutionId)
      // A user of its own: at some providers a newer consent of the same user and bank supersedes the older one.
      const request = aConsentRequest(adapter, institution, notificationUrl, {
        userRef: `user-${randomUUID()}`,
        ...overrides,
      })
      const snapshot = await adapter.create(request, testCallContext())
      const ref = {
        providerConsentId: snapshot.providerConsentId,
        userRef: request.userRef,
        institutionId: institution.id,
      }
      return { request, snapshot, ref, notificationUrl }
    }

    const fetchSnapshot = (ref: ProviderConsentRef) => harness.adapter.fetch(ref, testCallContext())

    /** Polls `fetch` until the consent has left the in-between statuses after a bank decision. */
    const settledAfterBank = (ref: ProviderConsentRef) =>
      eventually(
        () => fetchSnapshot(ref),
        (snapshot) => ![...PENDING, 'AUTHORIZED'].includes(snapshot.status),
        `consent ${ref.providerConsentId} settling after the bank decision`,
      )

    async function activeConsent(): Promise<CreatedConsent & { active: ProviderSnapshot }> {
      const created = await createConsent()
      await harness.decideAtBank(created.snapshot.authorizationUrl ?? '', 'approve')
      const active = await settledAfterBank(created.ref)
      expect(active.status).toBe('ACTIVE')
      return { ...created, active }
    }

    test('create answers a pending snapshot with a provider consent id, an authorization URL and the link deadline', async () => {
      // Prepare
      const before = (await harness.providerNow()).getTime()

      // Act
      const { request, snapshot } = await createConsent()

      // Assess
      const after = (await harness.providerNow()).getTime()
      expect(snapshot.providerConsentId).toEqual(expect.any(String))
      expect(snapshot.providerConsentId).not.toBe('')
      expect(snapshot.providerStatus).not.toBe('')
      expect(PENDING).toContain(snapshot.status)
      expect(() => new URL(snapshot.authorizationUrl ?? '')).not.toThrow()
      if (!driver.hasLinkExpiry) {
        expect(snapshot.linkExpiresAt ?? null).toBeNull()
        return
      }
      const linkExpiresAt = Date.parse(snapshot.linkExpiresAt ?? '')
      expect(linkExpiresAt).toBeGreaterThanOrEqual(before + request.linkExpiresInDays * DAY_MS - SLACK_MS)
      expect(linkExpiresAt).toBeLessThanOrEqual(after + request.linkExpiresInDays * DAY_MS + SLACK_MS)
    })

    test('approving at the bank sends the user back, and fetch then shows ACTIVE, valid for validityDays', async () => {
      // Prepare
      const { request, snapshot, ref } = await createConsent()
      const before = (await harness.providerNow()).getTime()

      // Act
      const answer = await harness.decideAtBank(snapshot.authorizationUrl ?? '', 'approve')
      const settled = await settledAfterBank(ref)

      // Assess
      const after = (await harness.providerNow()).getTime()
      expect([302, 303]).toContain(answer.status)
      // Every provider sends the browser to the link it was given (the gateway's callback), adding its own query
      expect(answer.location?.slice(0, request.callbackUrl.length)).toBe(request.callbackUrl)
      expect(settled).toMatchObject({ providerConsentId: snapshot.providerConsentId, status: 'ACTIVE' })
      const validUntil = Date.parse(settled.validUntil ?? '')
      expect(validUntil).toBeGreaterThanOrEqual(before + request.validityDays * DAY_MS - SLACK_MS)
      expect(validUntil).toBeLessThanOrEqual(
        after + request.validityDays * DAY_MS + SLACK_MS + driver.validityResolutionMs,
      )
    })

    test('denying at the bank makes fetch show REJECTED or FAILED, and fetch or the way back tells it was the user', async () => {
      // Prepare
      const { request, snapshot, ref } = await createConsent()

      // Act
      const answer = await harness.decideAtBank(snapshot.authorizationUrl ?? '', 'deny')
      const settled = await settledAfterBank(ref)

      // Assess: the browser comes back to the link it was given; the refusal shows in the record or on the way back
      expect(['REJECTED', 'FAILED']).toContain(settled.status)
      expect(answer.location?.slice(0, request.callbackUrl.length)).toBe(request.callbackUrl)
      const wayBack = harness.adapter.readCallback?.(new URL(answer.location ?? '').searchParams)
      expect(settled.reason === 'USER_DENIED' || wayBack?.denied === true).toBe(true)
    })

    test('the way back after an approval says nothing of a refusal', async () => {
      // Prepare
      const { snapshot } = await createConsent()

      // Act
      const answer = await harness.decideAtBank(snapshot.authorizationUrl ?? '', 'approve')

      // Assess
      const wayBack = harness.adapter.readCallback?.(new URL(answer.location ?? '').searchParams)
      expect(wayBack?.denied ?? false).toBe(false)
    })

    test('revoking an active consent gives REVOKED, and revoking it again is no error and still REVOKED', async () => {
      // Prepare
      const { ref } = await activeConsent()

      // Act
      const revoked = await harness.adapter.revoke(ref, testCallContext())
      const revokedAgain = await harness.adapter.revoke(ref, testCallContext())

      // Assess
      expect(revoked.status).toBe('REVOKED')
      expect(revokedAgain.status).toBe('REVOKED')
      expect((await fetchSnapshot(ref)).status).toBe('REVOKED')
    })

    test('passing the link deadline on the provider clock gives LINK_EXPIRED (a provider without one sets none)', async () => {
      // Prepare
      const { snapshot, ref } = await createConsent()
      if (!driver.hasLinkExpiry) {
        expect(snapshot.linkExpiresAt ?? null).toBeNull()
        return
      }

      // Act
      await harness.passLinkDeadline(snapshot)
      const expired = await fetchSnapshot(ref)

      // Assess
      expect(expired.status).toBe('LINK_EXPIRED')
    })

    test('passing the end of validity on the provider clock gives EXPIRED with reason VALIDITY_ENDED', async () => {
      // Prepare
      const { ref, active } = await activeConsent()

      // Act
      await harness.passValidityEnd(active)
      const ended = await fetchSnapshot(ref)

      // Assess
      expect({ status: ended.status, reason: ended.reason }).toEqual({ status: 'EXPIRED', reason: 'VALIDITY_ENDED' })
    })

    test('a scope the provider cannot grant is absent from capabilities.scopes (the service refuses it)', () => {
      const { scopes } = harness.adapter.capabilities

      expect(scopes.length).toBeGreaterThan(0)
      expect(scopes.some((scope) => sameScope(scope, driver.unsupportedScope))).toBe(false)
      expect(scopes.every((scope) => scope.length > 0)).toBe(true)
    })

    test('listInstitutions answers the sandbox banks, each with id, name, country and region', async () => {
      // Act
      const institutions = await harness.adapter.listInstitutions(testCallContext())

      // Assess
      expect(institutions.map((institution) => institution.id).sort()).toEqual([...driver.sandboxInstitutionIds].sort())
      for (const institution of institutions) {
        expect(institution.name).not.toBe('')
        expect(institution.country).toMatch(/^[A-Z]{2}$/)
        expect(REGIONS).toContain(institution.region)
      }
    })

    describe('notifications', () => {
      let consent: CreatedConsent
      let genuine: InboundNotification[]

      beforeAll(async () => {
        // The provider notifies the consent's notification URL of the status changes a bank approval causes.
        consent = await activeConsent()
        // Per consent (Finqware, Worldline), or at the application's webhook (Yapily).
        const endpoint = harness.notificationEndpoint ?? consent.notificationUrl
        const aboutConsent = (notification: InboundNotification) =>
          notification.body.includes(consent.snapshot.providerConsentId)
        await receiver.waitFor(endpoint, aboutConsent)
        genuine = receiver.receivedAt(endpoint).filter(aboutConsent)
      })

      test("verifyNotification accepts the provider's own signed status notifications, each naming the consent", async () => {
        for (const notification of genuine) {
          const events = await harness.adapter.verifyNotification(notification)

          expect(events.length).toBeGreaterThan(0)
          for (const event of events) expect(event.providerConsentId).toBe(consent.snapshot.providerConsentId)
        }
      })

      test('verifyNotification rejects a notification tampered with as an attacker could (unauthenticated)', async () => {
        // Act
        const error = await rejectionOf(
          harness.adapter.verifyNotification(driver.tamper(genuine[0] as InboundNotification)),
        )

        // Assess
        expect(error).toBeInstanceOf(NotificationRejectedError)
        expect(error).toMatchObject({ reason: 'unauthenticated' })
      })
    })

    test('fetch of an unknown provider consent id is a typed ProviderRejectedError', async () => {
      // Act
      const error = await rejectionOf(
        fetchSnapshot({
          providerConsentId: randomUUID(),
          userRef: 'user-contract',
          institutionId: driver.institutionId,
        }),
      )

      // Assess
      expect(error).toBeInstanceOf(ProviderRejectedError)
      expect(error).toMatchObject({ code: 'PROVIDER_REJECTED', provider: driver.provider })
    })
  },
)
