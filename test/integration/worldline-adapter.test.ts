// connected: the Worldline adapter against its sandbox over HTTP, through a counting proxy, for what the contract suite
// does not show: the token is cached, renewed on 403 Code "017", and never renewed for a 401 that means code 123.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InstitutionNotFoundError, ProviderRejectedError, UnsupportedScopeError } from '../../domain/errors.ts'
import { createWorldlineAdapter, type WorldlineAdapter } from '../../providers/worldline/adapter.ts'
import {
  aConsentRequest,
  institutionOf,
  rejectionOf,
  startWorldlineHarness,
  testCallContext,
  type WorldlineHarness,
} from '../support/provider-drivers.ts'

/** Forwards everything to the sandbox and counts the requests per path. */
class CountingProxy {
  readonly counts = new Map<string, number>()
  /** The `Id` header of every token request. */
  readonly tokenIds: string[] = []
  #server: Server | undefined
  url = ''

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0] ?? '/'
      this.counts.set(path, (this.counts.get(path) ?? 0) + 1)
      if (path.endsWith('/authorize/token')) this.tokenIds.push(String(request.headers.id))
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        const headers = new Headers()
        for (const [name, value] of Object.entries(request.headers)) {
          if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers.set(name, value)
        }
        const body = chunks.length ? Buffer.concat(chunks) : undefined
        fetch(`${this.target}${request.url ?? '/'}`, {
          method: request.method ?? 'GET',
          headers,
          ...(body ? { body } : {}),
        })
          .then(async (answer) => {
            const text = Buffer.from(await answer.arrayBuffer())
            response.writeHead(answer.status, Object.fromEntries(answer.headers))
            response.end(text)
          })
          .catch(() => response.writeHead(502).end())
      })
    })
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server?.address() as AddressInfo).port}`
  }

  tokenRequests = () => this.counts.get('/xs2a/routingservice/services/authorize/token') ?? 0

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server?.close(() => resolve())
      this.#server?.closeAllConnections()
    })
  }
}

let harness: WorldlineHarness
let proxy: CountingProxy
let adapter: WorldlineAdapter

beforeAll(async () => {
  harness = await startWorldlineHarness()
  proxy = new CountingProxy(harness.sandbox.url)
  await proxy.start()
  adapter = createWorldlineAdapter({ ...harness.adapterConfig, baseUrl: proxy.url })
})

afterAll(async () => {
  await proxy?.close()
  await harness?.teardown()
})

async function activeConsent(userRef: string) {
  const institution = await institutionOf(adapter, '20101')
  const snapshot = await adapter.create(
    aConsentRequest(adapter, institution, 'http://127.0.0.1:9/unused', { userRef }),
    testCallContext(),
  )
  await harness.decideAtBank(snapshot.authorizationUrl ?? '', 'approve')
  const ref = { providerConsentId: snapshot.providerConsentId, userRef, institutionId: '20101' }
  return { ref, snapshot }
}

describe('Worldline access tokens', () => {
  it('requests one token and reuses it while it is valid', async () => {
    const before = proxy.tokenRequests()
    const { ref } = await activeConsent('token-user-1')
    for (let i = 0; i < 5; i++) await adapter.fetch(ref, testCallContext())
    expect(proxy.tokenRequests() - before).toBeLessThanOrEqual(1)
  })

  it('does not renew the token for a 401 with code 123: that is the consent expiring, reported as EXPIRED', async () => {
    const { ref } = await activeConsent('token-user-3')
    await harness.control('clock', { advanceSeconds: 4 * 86_400 })
    // Renew the token now, so the next 401 can only be the consent's.
    await adapter.listInstitutions(testCallContext()).catch(() => undefined)
    await adapter.fetch(ref, testCallContext())
    const before = proxy.tokenRequests()
    const expiry = await harness.control(`consents/${ref.providerConsentId}/bank-expiry`, {})
    expect(expiry.outcome).toBe('hidden')
    const snapshot = await adapter.fetch(ref, testCallContext())
    expect({ status: snapshot.status, reason: snapshot.reason, raw: snapshot.providerStatus }).toEqual({
      status: 'EXPIRED',
      reason: 'VALIDITY_ENDED',
      raw: 'Authorised',
    })
    expect(proxy.tokenRequests() - before).toBe(0)
  })

  it('renews the token when Worldline answers 403 Code "017" (the access token expired on its clock)', async () => {
    // The error table of the Open Banking PIS v3.6.0 spec, shared by AIS: 403 017 "Initiating party access token is expired".
    const { ref } = await activeConsent('token-user-017')
    const before = proxy.tokenRequests()
    await harness.control('clock', { advanceSeconds: 2 * 3_600 })
    const snapshot = await adapter.fetch(ref, testCallContext())
    expect(snapshot.status).toBe('ACTIVE')
    expect(proxy.tokenRequests() - before).toBe(1)
  })

  it("sends the configured Initiating Party id and sub id as the token request's Id header (433:5), not a random one", async () => {
    // Worldline's OAuth spec v1.4.5: "IP=433, subId=5 -> 433:5; IP=434, no subId -> 434".
    const withSub = createWorldlineAdapter({
      ...harness.adapterConfig,
      baseUrl: proxy.url,
      initiatingPartyId: '433',
      initiatingPartySubId: '5',
    })
    const { initiatingPartySubId: _none, ...noSub } = harness.adapterConfig
    const withoutSub = createWorldlineAdapter({ ...noSub, baseUrl: proxy.url, initiatingPartyId: '434' })
    const before = proxy.tokenIds.length
    await withSub.listInstitutions(testCallContext())
    await withoutSub.listInstitutions(testCallContext())

    // A fresh adapter may sign its first request twice (Worldline's clock learnt): each Id counts once.
    expect([...new Set(proxy.tokenIds.slice(before))]).toEqual(['433:5', '434'])
  })

  it("signs a token request refused for its date again with Worldline's time, once (its clock was moved first)", async () => {
    // Prepare: Worldline's clock a day ahead before this adapter ever heard from it (a sandbox restarted moved)
    await harness.control('clock', { advanceSeconds: 86_400 })
    const fresh = createWorldlineAdapter({ ...harness.adapterConfig, baseUrl: proxy.url })
    const before = proxy.tokenRequests()

    // Act
    const institutions = await fresh.listInstitutions(testCallContext())

    // Assess
    expect(institutions.length).toBeGreaterThan(0)
    expect(proxy.tokenRequests() - before).toBe(2)
  })

  it('reports refused client credentials as PROVIDER_REJECTED, not as a retryable outage', async () => {
    const stranger = createWorldlineAdapter({ ...harness.adapterConfig, baseUrl: proxy.url, keyId: 'unknown-key' })
    const error = await rejectionOf(stranger.listInstitutions(testCallContext()))
    expect(error).toBeInstanceOf(ProviderRejectedError)
    // OAuth v1.4.5's token errors: 401 with a numeric code (003 Invalid signature), not OAuth's `error`.
    expect(error).toMatchObject({ providerCode: '003', providerHttpStatus: 401, retryable: false })
  })
})

describe('Worldline consent requests', () => {
  it('refuses a scope without Accounts before calling Worldline', async () => {
    const institution = await institutionOf(adapter, '20101')
    const before = proxy.counts.get('/xs2a/routingservice/services/ob/ais/v3/psus/scope-user/consents') ?? 0
    const error = await rejectionOf(
      adapter.create(
        aConsentRequest(adapter, institution, 'http://127.0.0.1:9/x', { userRef: 'scope-user', scope: ['BALANCES'] }),
        testCallContext(),
      ),
    )
    expect(error).toBeInstanceOf(UnsupportedScopeError)
    expect(proxy.counts.get('/xs2a/routingservice/services/ob/ais/v3/psus/scope-user/consents') ?? 0).toBe(before)
  })

  it('reads Revoked without our DELETE as revoked at the bank (REVOKED_AT_BANK), and after our DELETE as ours', async () => {
    // Worldline's "ob-data-as-consent status" page: Revoked is "revoked by account holder or by their bank".
    const atBank = await activeConsent('revoked-at-bank')
    await harness.control(`consents/${atBank.ref.providerConsentId}/status`, { status: 'Revoked' })
    const seen = await adapter.fetch(atBank.ref, testCallContext())
    const ours = await activeConsent('revoked-by-us')
    const revoked = await adapter.revoke(ours.ref, testCallContext())

    expect([seen.status, seen.reason, seen.providerStatus]).toEqual(['REVOKED', 'REVOKED_AT_BANK', 'Revoked'])
    expect([revoked.status, revoked.reason, revoked.providerStatus]).toEqual(['REVOKED', 'REVOKED_BY_TPP', 'Revoked'])
  })

  it('reads TimeoutAtTpp (the authorisation did not complete in time; final) as LINK_EXPIRED / LINK_TIMEOUT', async () => {
    // ConsentStatusEnum of Worldline's Open Banking Notification spec v3.3.1 lists TimeoutAtTpp.
    const institution = await institutionOf(adapter, '20101')
    const created = await adapter.create(
      aConsentRequest(adapter, institution, 'http://127.0.0.1:9/unused', { userRef: 'timeout-at-tpp' }),
      testCallContext(),
    )
    await harness.control(`consents/${created.providerConsentId}/status`, { status: 'TimeoutAtTpp' })
    const ref = { providerConsentId: created.providerConsentId, userRef: 'timeout-at-tpp', institutionId: '20101' }
    const seen = await adapter.fetch(ref, testCallContext())

    expect([seen.status, seen.reason, seen.providerStatus]).toEqual(['LINK_EXPIRED', 'LINK_TIMEOUT', 'TimeoutAtTpp'])
  })

  it('reports an unknown bank (404 Code "104") as INSTITUTION_NOT_FOUND', async () => {
    const known = await institutionOf(adapter, '20101')
    const error = await rejectionOf(
      adapter.create(
        aConsentRequest(adapter, { ...known, id: '99999' }, 'http://127.0.0.1:9/unused', { userRef: 'unknown-bank' }),
        testCallContext(),
      ),
    )
    expect(error).toBeInstanceOf(InstitutionNotFoundError)
  })

  it('sends the notification URL in its /v3 form, so Worldline appends /notification/status', async () => {
    const institution = await institutionOf(adapter, '20101')
    await adapter.create(
      aConsentRequest(adapter, institution, `${proxy.url}/webhooks/worldline`, { userRef: 'notify-user' }),
      testCallContext(),
    )
    const [consent] = ((await harness.control('consents')).consents as any[]).filter((c) => c.psuId === 'notify-user')
    expect(JSON.stringify(consent)).toContain(`${proxy.url}/webhooks/worldline/v3/notification/status`)
  })
})
