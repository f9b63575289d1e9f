// e2e: an open subscription is only as good as the credential that opened it. Once its API client is disabled in the
// table, or its secret rotated out, every stream it holds (consentUpdated, the consentEvents feed) ends within the
// credential cache period with a typed UNAUTHORIZED error event; so does a stream opened with a token once the token
// expires, its user's tokens are revoked, or (a partner's token) its client is disabled. Streams of credentials still
// valid go on. Over SSE with graphql-sse, with short cache periods configured.
import type { Client } from 'graphql-sse'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { hashSecret } from '../../crypto/secret-hash.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import {
  appSse,
  bearerSse,
  partnerToken,
  revokeUserTokens,
  setClientDisabled,
  userToken,
} from '../support/credentials.ts'
import { execute, startStack, type Credentials, type Stack } from '../support/stack.ts'

const CACHE_TTL_MS = 300
/** How long to wait for something that happens over the network (generous: the machine may be busy). */
const WAIT = { timeout: 10_000, interval: 50 }
let stack: Stack
let alphaTwo: Credentials

interface Collected {
  readonly results: { data?: any; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[]
  readonly done: Promise<void>
  readonly completed: () => boolean
}

function collect(client: Client, query: string, variables: Record<string, unknown> = {}): Collected {
  const results: Collected['results'] = []
  let completed = false
  const done = new Promise<void>((resolve, reject) => {
    client.subscribe(
      { query, variables },
      {
        next: (result) => results.push(result as Collected['results'][number]),
        error: reject,
        complete: () => {
          completed = true
          resolve()
        },
      },
    )
  })
  return { results, done, completed: () => completed }
}

const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { id } } ... on Error { code message } }
}`
const UPDATED = `subscription ($id: ID!) { consentUpdated(id: $id) { status version } }`
const FEED = `subscription { consentEvents { cursor event { to } } }`
const REVOKE = `mutation ($id: ID!) { revokeConsent(id: $id) { __typename } }`

async function createConsent(credentials: Credentials, userId = 'user-1'): Promise<string> {
  const result = await execute(stack.client(credentials), CREATE, {
    input: { provider: 'FINQWARE', institutionId: 'bt_ro', userId, region: 'EEA' },
  })
  expect(result.data?.createConsent.__typename, JSON.stringify(result)).toBe('CreateConsentPayload')
  return result.data?.createConsent.consent.id as string
}

function expectEndedUnauthorized(stream: Collected) {
  expect(stream.completed()).toBe(true)
  const last = stream.results.at(-1)
  expect(last?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHORIZED' })
  expect(last?.errors?.[0]?.message).toMatch(/no longer valid/)
}

beforeAll(async () => {
  stack = await startStack({
    authCacheTtlMs: CACHE_TTL_MS,
    subscriptionMaxSeconds: 120,
    tokens: { revocationCacheMs: CACHE_TTL_MS, clockToleranceSeconds: 0 },
  })
  alphaTwo = {
    tenantId: stack.tenantA.tenantId,
    clientId: 'client-alpha-two',
    clientSecret: 'secret-alpha-two-0123456789',
  }
  await provisionApiClient(stack.gateway.access, { ...alphaTwo, tenantName: 'Alpha' }, new Date())
})

afterAll(async () => {
  await stack?.close()
})

describe('subscriptions re-check their credential', () => {
  it('end with UNAUTHORIZED once their client is disabled; another client of the tenant streams on', async () => {
    // Prepare: a consent; its stream and the feed for client A, and the same consent's stream for client A-two
    const id = await createConsent(stack.tenantA)
    const updated = collect(stack.sse(stack.tenantA), UPDATED, { id })
    const feed = collect(stack.sse(stack.tenantA), FEED)
    const control = collect(stack.sse(alphaTwo), UPDATED, { id })
    await vi.waitFor(() => expect(updated.results.length * control.results.length).toBeGreaterThan(0), WAIT)
    // The feed serves events once they are 5 s old.
    await vi.waitFor(() => expect(feed.results.length).toBeGreaterThan(0), { timeout: 15_000 })

    // Act: disable client A in the table, as an operator would
    const record = await stack.gateway.access.getApiClient(stack.tenantA.clientId)
    await stack.gateway.access.putApiClient({ ...(record as NonNullable<typeof record>), disabled: true })

    // Assess: both of A's streams end with a typed error...
    await Promise.all([updated.done, feed.done])
    expectEndedUnauthorized(updated)
    expectEndedUnauthorized(feed)
    // ...A's requests are refused...
    const refused = await execute(stack.client(stack.tenantA), '{ __typename }')
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHORIZED' })
    // ...and A-two's stream of the same consent goes on, seeing the revocation it then makes.
    expect(control.completed()).toBe(false)
    await execute(stack.client(alphaTwo), REVOKE, { id })
    await control.done
    expect(control.results.at(-1)?.data?.consentUpdated.status).toBe('REVOKED')
    expect(control.results.every((result) => !result.errors)).toBe(true)
    await vi.waitFor(() => expect(stack.gateway.watcher.activeStreams).toBe(0), WAIT)
  }, 60_000)

  it('end with UNAUTHORIZED once their secret is rotated out', async () => {
    const id = await createConsent(stack.tenantB)
    const updated = collect(stack.sse(stack.tenantB), UPDATED, { id })
    await vi.waitFor(() => expect(updated.results.length).toBeGreaterThan(0), WAIT)

    const record = await stack.gateway.access.getApiClient(stack.tenantB.clientId)
    await stack.gateway.access.putApiClient({
      ...(record as NonNullable<typeof record>),
      secretHash: await hashSecret('a-new-secret-for-bravo-0123456789'),
    })

    await updated.done
    expectEndedUnauthorized(updated)
    await vi.waitFor(() => expect(stack.gateway.watcher.activeStreams).toBe(0), WAIT)
  }, 60_000)
})

describe('subscriptions opened with a token end with it', () => {
  /** A client of tenant A of the test's own, so disabling it touches no other test. */
  async function ownClient(name: string): Promise<Credentials> {
    const credentials = {
      tenantId: stack.tenantA.tenantId,
      clientId: `client-${name}`,
      clientSecret: `secret-${name}-0123456789abcdef`,
    }
    await provisionApiClient(stack.gateway.access, { ...credentials, tenantName: 'Alpha' }, new Date())
    return credentials
  }

  it("end with UNAUTHORIZED when an end user's token expires; the partner's stream goes on", async () => {
    // Prepare
    const partner = await ownClient('expiry')
    const id = await createConsent(partner)
    const token = await userToken(stack, partner, { userId: 'user-1', expiresInSeconds: 2 })
    const updated = collect(appSse(stack, token), UPDATED, { id })
    const control = collect(stack.sse(partner), UPDATED, { id })
    await vi.waitFor(() => expect(updated.results.length * control.results.length).toBeGreaterThan(0), WAIT)

    // Act: nothing; the token runs out

    // Assess
    await updated.done
    expectEndedUnauthorized(updated)
    expect(updated.results.filter((result) => result.data)).toHaveLength(1)
    expect(control.completed()).toBe(false)
    await execute(stack.client(partner), REVOKE, { id })
    await control.done
  }, 60_000)

  it("end with UNAUTHORIZED once the user's tokens are revoked; another user's stream goes on", async () => {
    // Prepare
    const partner = await ownClient('revoker')
    const [mine, theirs] = [await createConsent(partner, 'user-1'), await createConsent(partner, 'user-2')]
    const revoked = collect(appSse(stack, await userToken(stack, partner, { userId: 'user-1' })), UPDATED, {
      id: mine,
    })
    const other = collect(appSse(stack, await userToken(stack, partner, { userId: 'user-2' })), UPDATED, {
      id: theirs,
    })
    await vi.waitFor(() => expect(revoked.results.length * other.results.length).toBeGreaterThan(0), WAIT)

    // Act
    await revokeUserTokens(stack, partner, 'user-1')

    // Assess
    await revoked.done
    expectEndedUnauthorized(revoked)
    expect(other.completed()).toBe(false)
    await execute(stack.client(partner), REVOKE, { id: theirs })
    await other.done
    expect(other.results.at(-1)?.data?.consentUpdated.status).toBe('REVOKED')
  }, 60_000)

  it("end with UNAUTHORIZED once a partner token's client is disabled, which also refuses it new tokens", async () => {
    // Prepare
    const partner = await ownClient('bearer-disabled')
    const id = await createConsent(partner)
    const token = await partnerToken(stack, partner)
    const updated = collect(bearerSse(stack, token), UPDATED, { id })
    const feed = collect(bearerSse(stack, token), FEED)
    await vi.waitFor(() => expect(updated.results.length).toBeGreaterThan(0), WAIT)

    // Act
    await setClientDisabled(stack, partner.clientId, true)

    // Assess: both streams end (the feed may not have served an event yet: it serves them once 5 s old)...
    await Promise.all([updated.done, feed.done])
    expectEndedUnauthorized(updated)
    expectEndedUnauthorized(feed)
    // ...and the token endpoint refuses the client (tokens already out lapse at their exp, 15 minutes at most).
    await expect(partnerToken(stack, partner)).rejects.toThrow(/401/)
    await vi.waitFor(() => expect(stack.gateway.watcher.activeStreams).toBe(0), WAIT)
  }, 60_000)
})
