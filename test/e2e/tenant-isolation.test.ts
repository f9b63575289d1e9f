// e2e, every provider: two tenants whose partners both call their user `user-1` share each provider account, yet
// never touch each other's consents. The provider never sees the partner's raw user id (it sees an opaque reference
// per tenant), and a provider notification, or a browser's return, that names the other tenant's consent changes
// nothing on this one.
import { monotonicFactory } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { decodePublicId, encodePublicId } from '../../domain/ids.ts'
import { notificationFor } from '../../domain/notification.ts'
import { lifecycleSettings } from '../../service/config.ts'
import { ConsentRecorder } from '../../service/consent-recorder.ts'
import { createGateway } from '../../composition/gateway.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { UserReferences } from '../../crypto/user-references.ts'
import { keyringFromSpec, SecretBox } from '../../crypto/secret-box.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { ConsentSecretRepository } from '../../store/consent-secret-repository.ts'
import { aConsent } from '../support/fixtures.ts'
import { sandboxControl, testCallContext } from '../support/provider-drivers.ts'
import { decideAtBank, eventually, execute, startStack, type Credentials, type Stack } from '../support/stack.ts'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack?.close()
})

const USER = 'user-1'

const FIELDS = `id status statusReason providerStatus providerConsentId version userId supersededBy { id } supersedes { id }
  events { edges { node { to source } } }`
const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { ${FIELDS} authorizationUrl } } ... on Error { code message } }
}`
const GET = `query ($id: ID!) { consent(id: $id) { __typename ... on Consent { ${FIELDS} } ... on Error { code } } }`
const REFRESH = `mutation ($id: ID!) { refreshConsent(id: $id) { __typename ... on RefreshConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`

interface ProviderCase {
  readonly provider: 'FINQWARE' | 'WORLDLINE' | 'YAPILY'
  readonly institutionId: string
  readonly region: 'EEA' | 'UK'
  /** The provider's own record of each of its consents, by its consent id. */
  providerRecords(): Promise<Map<string, Record<string, unknown>>>
  /** What the provider knows the consent's user by; null when the provider is told of no user at all. */
  readonly userField: string | null
  /** Makes the provider revoke one consent on its own and tell the gateway (its webhook or notification). */
  revokeAtProvider(providerConsentId: string): Promise<void>
  /** The provider's part of a browser's return that names `other`'s consent instead of the right one. */
  callbackQueryNaming(other: Record<string, unknown>): Promise<Record<string, string>>
}

const recordsOf = async (url: string, idField: string) => {
  const { consents } = (await sandboxControl(url, 'consents')) as { consents: Record<string, unknown>[] }
  return new Map(consents.map((consent) => [String(consent[idField]), consent]))
}

const CASES: ProviderCase[] = [
  {
    provider: 'FINQWARE',
    institutionId: 'bt_ro',
    region: 'EEA',
    providerRecords: () => recordsOf(stack.finqware.url, 'consentId'),
    userField: null,
    revokeAtProvider: (id) => sandboxControl(stack.finqware.url, `consents/${id}/status`, { status: 'revoked' }),
    callbackQueryNaming: async (other) => ({
      consent_id: String(other.providerConsentId),
      status: 'failed',
      error: 'access_denied',
    }),
  },
  {
    provider: 'WORLDLINE',
    institutionId: '20101',
    region: 'EEA',
    providerRecords: () => recordsOf(stack.worldline.url, 'consentId'),
    userField: 'psuId',
    revokeAtProvider: (id) => sandboxControl(stack.worldline.url, `consents/${id}/status`, { status: 'Revoked' }),
    callbackQueryNaming: async (other) => ({ consentId: String(other.providerConsentId), status: 'Rejected' }),
  },
  {
    provider: 'YAPILY',
    institutionId: 'modelo-sandbox',
    region: 'UK',
    providerRecords: () => recordsOf(stack.yapily.url, 'id'),
    userField: 'applicationUserId',
    revokeAtProvider: (id) => sandboxControl(stack.yapily.url, `consents/${id}/status`, { status: 'REVOKED' }),
    callbackQueryNaming: async (other) => {
      // The other consent's own token, as Yapily issued it: a browser replaying it must not move it here.
      const record = (await recordsOf(stack.yapily.url, 'id')).get(String(other.providerConsentId))
      return { consent: typeof record?.consentToken === 'string' ? record.consentToken : '', error: 'access_denied' }
    },
  },
]

const get = async (credentials: Credentials, id: string) => {
  const result = await execute(stack.client(credentials), GET, { id })
  expect(result.data?.consent.__typename, JSON.stringify(result)).toBe('Consent')
  return result.data?.consent as Record<string, any>
}

const internalId = (publicId: string) => decodePublicId(publicId)?.id ?? ''

/** The gateway's own write path over the stack's table and providers, for feeding it a provider answer directly. */
function stackRecorder() {
  const newId = monotonicFactory()
  const { config } = stack.gateway
  return new ConsentRecorder({
    consents: new ConsentRepository(stack.table.db, stack.table.tableName),
    secrets: new ConsentSecretRepository(stack.table.db, stack.table.tableName),
    secretBox: new SecretBox(keyringFromSpec(config.tokenEncryptionKeys ?? '')),
    providers: stack.gateway.providers,
    clock: () => new Date(),
    newId: () => newId(),
    logger: silentLogger,
    lifecycle: lifecycleSettings(config),
  })
}

/** Creates the consent and walks the user through the bank and back through the gateway, as a browser does. */
async function authorise(credentials: Credentials, providerCase: ProviderCase, userId = USER) {
  const created = await execute(stack.client(credentials), CREATE, {
    input: {
      provider: providerCase.provider,
      institutionId: providerCase.institutionId,
      userId,
      region: providerCase.region,
      validityDays: 90,
      redirectUrl: 'https://partner.example/back',
    },
  })
  expect(created.data?.createConsent.__typename, JSON.stringify(created)).toBe('CreateConsentPayload')
  const consent = created.data?.createConsent.consent as Record<string, any>
  const atBank = await decideAtBank(consent.authorizationUrl, 'approve')
  const callbackUrl = atBank.location?.startsWith(`${stack.http.url}/callbacks/`) ? atBank.location : null
  if (callbackUrl) await fetch(callbackUrl, { redirect: 'manual' }).then((response) => response.arrayBuffer())
  await eventually(async () => (await get(credentials, consent.id)).status === 'ACTIVE')
  return { consent: await get(credentials, consent.id), callbackUrl }
}

describe.each(CASES.map((providerCase) => [providerCase.provider, providerCase] as const))(
  'two tenants with the same user id at %s',
  (_provider, providerCase) => {
    let a: Awaited<ReturnType<typeof authorise>>
    let b: Awaited<ReturnType<typeof authorise>>

    beforeAll(async () => {
      a = await authorise(stack.tenantA, providerCase)
      b = await authorise(stack.tenantB, providerCase)
    })

    it('authorises both at the same bank, and neither ends or links to the other', async () => {
      // Act: read both at the provider now that both are authorised
      const refreshedA = await execute(stack.client(stack.tenantA), REFRESH, { id: a.consent.id })
      const refreshedB = await execute(stack.client(stack.tenantB), REFRESH, { id: b.consent.id })

      // Assess: both still ACTIVE, never superseded, not linked to anything
      for (const refreshed of [refreshedA, refreshedB]) {
        expect(refreshed.data?.refreshConsent, JSON.stringify(refreshed)).toMatchObject({
          __typename: 'RefreshConsentPayload',
          consent: { status: 'ACTIVE', userId: USER, supersededBy: null, supersedes: null },
        })
        const reached = refreshed.data?.refreshConsent.consent.events.edges.map((edge: any) => edge.node.to)
        expect(reached).not.toContain('SUPERSEDED')
      }
    })

    it('tells the provider an opaque reference per tenant, never the raw user id', async () => {
      // Act
      const records = await providerCase.providerRecords()
      const atProviderA = records.get(a.consent.providerConsentId)
      const atProviderB = records.get(b.consent.providerConsentId)

      // Assess
      expect(atProviderA).toBeDefined()
      expect(atProviderB).toBeDefined()
      // Nothing the provider holds about either consent carries the partner's user id.
      for (const record of [atProviderA, atProviderB]) {
        expect(JSON.stringify(record)).not.toContain(`"${USER}"`)
      }
      if (providerCase.userField) {
        const referenceA = atProviderA?.[providerCase.userField]
        const referenceB = atProviderB?.[providerCase.userField]
        expect(referenceA).toEqual(expect.any(String))
        expect(referenceB).toEqual(expect.any(String))
        expect(referenceA).not.toBe(referenceB)
      }
    })

    it("changes nothing on one tenant's consent when the provider reports on the other's", async () => {
      // Prepare
      const before = await get(stack.tenantA, a.consent.id)

      // Act: the provider revokes B's consent on its own and tells the gateway
      await providerCase.revokeAtProvider(b.consent.providerConsentId)

      // Assess: B's change is recorded, A is untouched
      await eventually(async () => (await get(stack.tenantB, b.consent.id)).status === 'REVOKED')
      expect(await get(stack.tenantA, a.consent.id)).toMatchObject({ status: 'ACTIVE', version: before.version })
    })

    it("ignores a provider answer about the other tenant's consent", async () => {
      // Prepare: B revoked at the provider while A is ACTIVE, so B's answer would end A
      await providerCase.revokeAtProvider(b.consent.providerConsentId)
      await eventually(async () => (await get(stack.tenantB, b.consent.id)).status === 'REVOKED')
      const recorder = stackRecorder()
      const repository = new ConsentRepository(stack.table.db, stack.table.tableName)
      const consentA = (await repository.get(stack.tenantA.tenantId, internalId(a.consent.id))) as Consent
      const consentB = (await repository.get(stack.tenantB.tenantId, internalId(b.consent.id))) as Consent
      const adapter = await stack.gateway.providers.get(providerCase.provider)
      const answerAboutB = await adapter.fetch(await recorder.refFor(consentB, adapter), testCallContext())
      expect(answerAboutB).toMatchObject({ providerConsentId: consentB.providerConsentId, status: 'REVOKED' })

      // Act
      const recorded = await recorder.record(
        consentA,
        answerAboutB,
        'PROVIDER_WEBHOOK',
        'provider:test',
        testCallContext(),
      )

      // Assess
      expect(recorded).toEqual(consentA)
      expect(await get(stack.tenantA, a.consent.id)).toMatchObject({ status: 'ACTIVE', version: consentA.version })
      expect(await get(stack.tenantB, b.consent.id)).toMatchObject({ status: 'REVOKED', version: consentB.version })
    })

    it("changes nothing when a browser brings one tenant's callback link back naming the other's consent", async () => {
      // Prepare
      expect(a.callbackUrl, 'the bank sends the browser back through the gateway').toBeTruthy()
      const before = { a: await get(stack.tenantA, a.consent.id), b: await get(stack.tenantB, b.consent.id) }
      const replay = new URL(a.callbackUrl ?? '')
      replay.search = new URLSearchParams(await providerCase.callbackQueryNaming(before.b)).toString()

      // Act
      const response = await fetch(replay, { redirect: 'manual' })
      await response.arrayBuffer()

      // Assess: the link names A's consent, and only A's own record at the provider counts
      expect(response.status).toBe(302)
      const location = new URL(response.headers.get('location') ?? '')
      expect(location.searchParams.get('consent_id')).toBe(a.consent.id)
      expect(location.searchParams.get('status')).toBe('ACTIVE')
      expect(await get(stack.tenantA, a.consent.id)).toMatchObject({ status: 'ACTIVE', version: before.a.version })
      expect(await get(stack.tenantB, b.consent.id)).toMatchObject({
        status: before.b.status,
        version: before.b.version,
      })
    })
  },
)

describe('user references over time', () => {
  const caller = (credentials: Credentials) => ({
    tenantId: credentials.tenantId,
    initiator: 'api-client:test',
    requestId: `test-${Date.now()}`,
  })

  /**
   * A Worldline consent as a gateway stored it before user references: created with the partner's user id as psuId,
   * stored without `providerUserRef`, then approved at the bank.
   */
  async function legacyWorldlineConsent(credentials: Credentials, userId: string) {
    const adapter = await stack.gateway.providers.get('WORLDLINE')
    const institution = (await adapter.listInstitutions(testCallContext())).find((bank) => bank.id === '20101')
    const newId = monotonicFactory()
    const consentId = newId()
    const created = await adapter.create(
      {
        consentId,
        userRef: userId,
        institution: institution ?? { id: '20101', name: '', country: 'BE', region: 'EEA' },
        region: 'EEA',
        scope: ['ACCOUNTS'],
        validityDays: 90,
        linkExpiresInDays: 7,
        notificationUrl: `${stack.http.url}/webhooks/worldline`,
        callbackUrl: stack.gateway.callbackLinks.urlFor('WORLDLINE', { tenantId: credentials.tenantId, consentId }),
      },
      testCallContext(),
    )
    const legacy = aConsent({
      id: consentId,
      tenantId: credentials.tenantId,
      provider: 'WORLDLINE',
      providerConsentId: created.providerConsentId,
      providerStatus: created.providerStatus,
      userId,
      providerUserRef: null,
      institution: { id: '20101', name: institution?.name ?? '', country: 'BE' },
      scope: ['ACCOUNTS'],
      linkExpiresAt: null,
      authorizationUrl: created.authorizationUrl ?? null,
    })
    const event = newConsentEvent(legacy, null, { id: newId(), source: 'API', initiator: 'api-client:old' })
    await new ConsentRepository(stack.table.db, stack.table.tableName).create(
      legacy,
      event,
      notificationFor(event, legacy),
    )
    await decideAtBank(created.authorizationUrl ?? '', 'approve')
    return { id: encodePublicId('Consent', consentId), providerConsentId: created.providerConsentId }
  }

  it('reads a consent created before user references with the user id it was created with', async () => {
    // Prepare
    const legacy = await legacyWorldlineConsent(stack.tenantA, 'legacy-user')

    // Act
    const refreshed = await execute(stack.client(stack.tenantA), REFRESH, { id: legacy.id })

    // Assess: found at Worldline under the PSU it was created for
    expect(refreshed.data?.refreshConsent, JSON.stringify(refreshed)).toMatchObject({
      __typename: 'RefreshConsentPayload',
      consent: { status: 'ACTIVE', userId: 'legacy-user' },
    })
  })

  it('links a superseded consent only to a consent the provider knows by the same user reference', async () => {
    // Prepare: tenant A's consent from before references, and a newer one for the same user under its reference
    const worldline = CASES.find((providerCase) => providerCase.provider === 'WORLDLINE') as ProviderCase
    const older = await legacyWorldlineConsent(stack.tenantA, 'migrating-user')
    await eventually(async () => (await get(stack.tenantA, older.id)).status === 'ACTIVE')
    const newer = await authorise(stack.tenantA, worldline, 'migrating-user')

    // Act: tenant B's consent from before references, for a user B also calls `migrating-user`, is authorised:
    // Worldline ends A's older consent (the same psuId), not because of A's newer one
    const intruder = await legacyWorldlineConsent(stack.tenantB, 'migrating-user')
    await eventually(async () => (await get(stack.tenantA, older.id)).status === 'SUPERSEDED')
    // Every notification answered, so the gateway is done with what followed it (linking a successor)
    await sandboxControl(stack.worldline.url, 'webhooks/flush', {})

    // Assess: A's older consent is not linked to A's newer one, nor to B's; the newer one is untouched
    await eventually(async () => (await get(stack.tenantB, intruder.id)).status === 'ACTIVE')
    expect(await get(stack.tenantA, older.id)).toMatchObject({ supersededBy: null })
    expect(await get(stack.tenantA, newer.consent.id)).toMatchObject({
      status: 'ACTIVE',
      supersedes: null,
      version: newer.consent.version,
    })
  })

  it('keeps each consent on the reference it was created with when the key changes', async () => {
    // Prepare: a Worldline consent authorised under the stack's key, then a gateway with another key
    const worldline = CASES.find((providerCase) => providerCase.provider === 'WORLDLINE') as ProviderCase
    const { consent } = await authorise(stack.tenantA, worldline, 'rekeyed-user')
    const rekeyed = createGateway(
      { ...stack.gateway.config, userReferenceKey: 'another-user-reference-key-0123456789abcdef' },
      { db: stack.table.db, logger: silentLogger },
    )

    // Act
    const refreshed = await rekeyed.consents.refresh(caller(stack.tenantA), internalId(consent.id))

    // Assess: still found at Worldline, under the PSU it was created with
    expect(refreshed).toMatchObject({ status: 'ACTIVE', version: consent.version })
    const atWorldline = (await worldline.providerRecords()).get(consent.providerConsentId)
    expect(atWorldline?.psuId).toBe(refreshed.providerUserRef)
    expect(atWorldline?.psuId).not.toBe(
      new UserReferences(rekeyed.config.userReferenceKey).for(stack.tenantA.tenantId, 'rekeyed-user'),
    )
  })
})
