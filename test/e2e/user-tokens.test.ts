// e2e: an end user's token, minted by its partner, shows that user and nothing else. Over real HTTP with graphql-http
// and graphql-sse, as an app sends them (its documents registered, sent by documentId): another user's consent (and
// another tenant's) answers exactly like a missing one on every root field that takes a consent; tenant-wide fields
// answer FORBIDDEN; changes need consents:write; a token restricted to some consents sees only those; createConsent
// takes the user from the token and the history records who acted; and revoking the user's tokens takes effect within
// the revocation cache period on another server too.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ulid } from 'ulid'
import {
  appClient,
  appSse,
  bearerClient,
  CREATE_USER_TOKEN,
  REVOKE_USER_TOKENS,
  revokeUserTokens,
  setClientDisabled,
  userToken,
} from '../support/credentials.ts'
import { TOKEN_EXCHANGE_GRANT, USER_ID_TOKEN_TYPE } from '../../http/oauth.ts'
import { execute, startStack, type Credentials, type Stack } from '../support/stack.ts'

let stack: Stack
/** Tenant A: user-1's two consents and user-2's one; tenant B: its own user-1's. */
let c1: string, c2: string, c3: string, c4: string
/** A history event of user-2's consent. */
let otherEvent: string

const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) {
    __typename
    ... on CreateConsentPayload { consent { id userId events { edges { node { id initiator actor { kind clientId userId provider } } } } } }
    ... on Error { code message }
  }
}`

async function createConsent(credentials: Credentials, userId: string): Promise<string> {
  const result = await execute(stack.client(credentials), CREATE, {
    input: { provider: 'FINQWARE', institutionId: 'bt_ro', userId, region: 'EEA' },
  })
  expect(result.data?.createConsent.__typename, JSON.stringify(result)).toBe('CreateConsentPayload')
  return result.data?.createConsent.consent.id as string
}

beforeAll(async () => {
  stack = await startStack()
  c1 = await createConsent(stack.tenantA, 'user-1')
  c2 = await createConsent(stack.tenantA, 'user-1')
  c3 = await createConsent(stack.tenantA, 'user-2')
  c4 = await createConsent(stack.tenantB, 'user-1')
  const history = await execute(
    stack.client(stack.tenantA),
    `query ($id: ID!) { consent(id: $id) { ... on Consent { events { edges { node { id } } } } } }`,
    { id: c3 },
  )
  otherEvent = history.data?.consent.events.edges[0].node.id as string
})
afterAll(async () => {
  await stack?.close()
})

const missingConsent = () => `consent_${ulid()}`
const missingEvent = () => `cevt_${ulid()}`

/** A result with the asked id and the per-request ids taken out: what must not differ between two ids. */
function shapeOf(result: unknown, id: string): string {
  return JSON.stringify(result, (key, value: unknown) =>
    key === 'requestId' || key === 'errorId' ? undefined : value,
  ).replaceAll(id, '<id>')
}

/** Runs `operation` for the other user's (or tenant's) id and for a missing one: the two answers must be the same. */
async function expectLikeMissing(
  operation: (id: string) => Promise<unknown>,
  hidden: string,
  missing: string,
): Promise<string> {
  const [seen, absent] = [await operation(hidden), await operation(missing)]
  expect(shapeOf(seen, hidden)).toBe(shapeOf(absent, missing))
  return shapeOf(seen, hidden)
}

const CONSENT = `query ($id: ID!) { consent(id: $id) { __typename ... on Consent { id userId } ... on Error { code message } } }`
const NODE = `query ($id: ID!) { node(id: $id) { __typename id } }`
const NODES = `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`
const CONSENTS = `query ($filter: ConsentFilter) { consents(first: 100, filter: $filter) { edges { node { id userId } } } }`
const UPDATED = `subscription ($id: ID!) { consentUpdated(id: $id) { id status } }`
const WRITES: Record<string, string> = {
  refreshConsent: `mutation ($id: ID!) { refreshConsent(id: $id) { __typename ... on Error { code message } } }`,
  revokeConsent: `mutation ($id: ID!) { revokeConsent(id: $id) { __typename ... on Error { code message } } }`,
  reauthorizeConsent: `mutation ($id: ID!) { reauthorizeConsent(id: $id) { __typename ... on Error { code message } } }`,
  reconfirmConsent: `mutation ($id: ID!) { reconfirmConsent(id: $id, confirmedAt: "2020-01-01T00:00:00Z") { __typename ... on Error { code message } } }`,
  deleteConsent: `mutation ($id: ID!) { deleteConsent(id: $id) { __typename ... on Error { code message } } }`,
}

/** The results of a subscription until it ends. */
function subscribe(token: string, query: string, variables: Record<string, unknown>) {
  const results: { data?: any; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[] = []
  let completed = false
  const done = new Promise<void>((resolve, reject) => {
    appSse(stack, token).subscribe(
      { query, variables },
      {
        next: (result) => results.push(result as (typeof results)[number]),
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

describe("an end user's token sees its user and nothing else", () => {
  it('reads its own consents: consent, node, nodes, consents and the history', async () => {
    // Prepare
    const client = appClient(stack, await userToken(stack, stack.tenantA, { userId: 'user-1' }))

    // Act
    const one = await execute(client, CONSENT, { id: c1 })
    const node = await execute(client, NODE, { id: c2 })
    const list = await execute(client, CONSENTS)
    const history = await execute(
      client,
      `query ($id: ID!) { consent(id: $id) { ... on Consent { events { edges { node { id to } } } } } }`,
      { id: c1 },
    )
    const eventId = history.data?.consent.events.edges[0].node.id as string
    const event = await execute(
      client,
      `query ($id: ID!) { node(id: $id) { __typename ... on ConsentEvent { consent { id } } } }`,
      { id: eventId },
    )

    // Assess
    expect(one.data?.consent).toEqual({ __typename: 'Consent', id: c1, userId: 'user-1' })
    expect(node.data?.node).toEqual({ __typename: 'Consent', id: c2 })
    expect(list.data?.consents.edges.map((edge: any) => edge.node.id).sort()).toEqual([c1, c2].sort())
    expect(history.data?.consent.events.edges.length).toBeGreaterThan(0)
    expect(event.data?.node).toEqual({ __typename: 'ConsentEvent', consent: { id: c1 } })
  })

  it("answers another user's and another tenant's consent exactly like a missing one, over every root field", async () => {
    // Prepare: a user-1 token that may write, so the mutations get as far as looking the consent up
    const token = await userToken(stack, stack.tenantA, {
      userId: 'user-1',
      scopes: ['consents:read', 'consents:write'],
    })
    const client = appClient(stack, token)

    for (const hidden of [c3, c4]) {
      // consent(id): a typed CONSENT_NOT_FOUND
      const consent = await expectLikeMissing((id) => execute(client, CONSENT, { id }), hidden, missingConsent())
      expect(consent).toContain('ConsentNotFoundError')
      // node(id), nodes(ids): null with CONSENT_NOT_FOUND
      const node = await expectLikeMissing((id) => execute(client, NODE, { id }), hidden, missingConsent())
      expect(node).toContain('CONSENT_NOT_FOUND')
      await expectLikeMissing((id) => execute(client, NODES, { ids: [c1, id] }), hidden, missingConsent())
      // every mutation on a consent
      for (const [field, query] of Object.entries(WRITES)) {
        const answer = await expectLikeMissing((id) => execute(client, query, { id }), hidden, missingConsent())
        expect(answer, field).toContain('CONSENT_NOT_FOUND')
      }
      // consentUpdated: the stream's one answer
      const stream = await expectLikeMissing(
        async (id) => {
          const subscription = subscribe(token, UPDATED, { id })
          await subscription.done
          return subscription.results
        },
        hidden,
        missingConsent(),
      )
      expect(stream).toContain('CONSENT_NOT_FOUND')
    }
    // node(id) of another user's history event: exactly like a missing event
    const event = await expectLikeMissing((id) => execute(client, NODE, { id }), otherEvent, missingEvent())
    expect(event).toContain('CONSENT_EVENT_NOT_FOUND')
    // consents: the other user's filter finds nothing, like a user with no consents; nothing else is listed
    const filtered = await expectLikeMissing(
      (userId) => execute(client, CONSENTS, { filter: { userId } }),
      'user-2',
      'nobody-at-all',
    )
    expect(filtered).toContain('"edges":[]')
    const listed = await execute(client, CONSENTS)
    expect(listed.data?.consents.edges.map((edge: any) => edge.node.userId)).toEqual(['user-1', 'user-1'])
  })

  it("sees none of tenant B's consents for its user-1, nor tenant B's token any of tenant A's", async () => {
    const tokenB = await userToken(stack, stack.tenantB, { userId: 'user-1' })
    const client = appClient(stack, tokenB)
    for (const id of [c1, c2]) {
      expect((await execute(client, CONSENT, { id })).data?.consent.__typename).toBe('ConsentNotFoundError')
    }
    const list = await execute(client, CONSENTS)
    expect(list.data?.consents.edges.map((edge: any) => edge.node.id)).toEqual([c4])
  })

  it('is FORBIDDEN every tenant-wide field, and changes nothing', async () => {
    // Prepare
    const token = await userToken(stack, stack.tenantA, {
      userId: 'user-1',
      scopes: ['consents:read', 'consents:write'],
    })
    const client = appClient(stack, token)
    const before = await execute(
      stack.client(stack.tenantA),
      '{ webhookSettings { defaultUrl signingSecrets { secret } } }',
    )
    const operations: Record<string, [string, Record<string, unknown>?]> = {
      'query consentEvents': ['{ consentEvents(first: 5) { edges { node { id } } } }'],
      'query webhookSettings': ['{ webhookSettings { signingSecrets { secret } } }'],
      'Consent.webhookDeliveries': [
        `query ($id: ID!) { consent(id: $id) { ... on Consent { webhookDeliveries { payload } } } }`,
        { id: c1 },
      ],
      setWebhookEndpoint: ['mutation { setWebhookEndpoint(url: "https://attacker.example/hook") { __typename } }'],
      rotateWebhookSigningSecret: ['mutation { rotateWebhookSigningSecret { settings { defaultUrl } } }'],
      replayWebhookDelivery: [
        `mutation ($id: ID!) { replayWebhookDelivery(consentId: $id, sequence: 1) { __typename } }`,
        { id: c1 },
      ],
      createUserToken: [CREATE_USER_TOKEN, { userId: 'user-2', scopes: ['CONSENTS_READ'] }],
      revokeUserTokens: [REVOKE_USER_TOKENS, { userId: 'user-2' }],
    }

    for (const [name, [query, variables]] of Object.entries(operations)) {
      // Act
      const result = await execute(client, query, variables)
      // Assess
      expect(
        result.errors?.map((error) => error.extensions?.code),
        `${name}: ${JSON.stringify(result)}`,
      ).toEqual(['FORBIDDEN'])
      expect(JSON.stringify(result.data ?? null)).not.toMatch(/whsec_|secret|accessToken/)
    }
    // The live feed too: one FORBIDDEN answer, then the stream ends.
    const feed = subscribe(token, 'subscription { consentEvents { cursor } }', {})
    await feed.done
    expect(feed.results.map((result) => result.errors?.[0]?.extensions?.code)).toEqual(['FORBIDDEN'])
    // Nothing changed.
    const after = await execute(
      stack.client(stack.tenantA),
      '{ webhookSettings { defaultUrl signingSecrets { secret } } }',
    )
    expect(after.data).toEqual(before.data)
  })

  it('needs consents:write for every change: a read-only token is FORBIDDEN them, and nothing changes', async () => {
    const client = appClient(stack, await userToken(stack, stack.tenantA, { userId: 'user-1' }))
    const before = await execute(
      stack.client(stack.tenantA),
      `query ($id: ID!) { consent(id: $id) { ... on Consent { version status } } }`,
      { id: c1 },
    )
    for (const [field, query] of Object.entries(WRITES)) {
      const result = await execute(client, query, { id: c1 })
      expect(result.errors?.[0]?.extensions?.code, `${field}: ${JSON.stringify(result)}`).toBe('FORBIDDEN')
    }
    const create = await execute(client, CREATE, {
      input: { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA' },
    })
    expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    const after = await execute(
      stack.client(stack.tenantA),
      `query ($id: ID!) { consent(id: $id) { ... on Consent { version status } } }`,
      { id: c1 },
    )
    expect(after.data).toEqual(before.data)
    const listed = await execute(stack.client(stack.tenantA), CONSENTS, { filter: { userId: 'user-1' } })
    expect(listed.data?.consents.edges).toHaveLength(2)
  })

  it("creates for the token's own user and records the end user and the client as who acted", async () => {
    // Prepare
    const client = appClient(
      stack,
      await userToken(stack, stack.tenantA, {
        userId: 'user-9',
        scopes: ['consents:read', 'consents:write'],
        via: 'mutation',
      }),
    )

    // Act
    const created = await execute(client, CREATE, {
      input: { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA' },
    })
    const same = await execute(client, CREATE, {
      input: { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA', userId: 'user-9' },
    })
    const other = await execute(client, CREATE, {
      input: { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA', userId: 'user-1' },
    })
    const partnerWithout = await execute(stack.client(stack.tenantA), CREATE, {
      input: { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA' },
    })

    // Assess
    const consent = created.data?.createConsent.consent
    expect(consent?.userId, JSON.stringify(created)).toBe('user-9')
    expect(consent?.events.edges[0].node).toMatchObject({
      initiator: `api-client:${stack.tenantA.clientId}/end-user:user-9`,
      actor: { kind: 'END_USER', clientId: stack.tenantA.clientId, userId: 'user-9', provider: null },
    })
    expect(same.data?.createConsent.consent.userId).toBe('user-9')
    expect(other.data?.createConsent).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR' })
    expect(other.data?.createConsent.message).toMatch(/input\.userId/)
    expect(partnerWithout.data?.createConsent).toMatchObject({ __typename: 'ValidationError' })
    expect(partnerWithout.data?.createConsent.message).toMatch(/input\.userId: is required/)
    // The partner sees the same actor, and its own creations as the API client.
    const partnerView = await execute(
      stack.client(stack.tenantA),
      `query ($id: ID!) { consent(id: $id) { ... on Consent { events { edges { node { actor { kind clientId userId } } } } } } }`,
      { id: c1 },
    )
    expect(partnerView.data?.consent.events.edges[0].node.actor).toEqual({
      kind: 'API_CLIENT',
      clientId: stack.tenantA.clientId,
      userId: null,
    })
  })

  it("keeps an end user's idempotency keys to that user", async () => {
    const input = { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA', idempotencyKey: 'shared-key-1' }
    const nine = appClient(
      stack,
      await userToken(stack, stack.tenantA, { userId: 'user-9', scopes: ['consents:write'] }),
    )
    const ten = appClient(
      stack,
      await userToken(stack, stack.tenantA, { userId: 'user-10', scopes: ['consents:write'] }),
    )
    const first = await execute(nine, CREATE, { input })
    const again = await execute(
      nine,
      `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { __typename ... on CreateConsentPayload { replayed consent { id } } } }`,
      { input },
    )
    const otherUser = await execute(ten, CREATE, { input })
    expect(again.data?.createConsent).toMatchObject({
      replayed: true,
      consent: { id: first.data?.createConsent.consent.id },
    })
    // Another user with the same key gets a consent of its own, not IDEMPOTENCY_KEY_REUSED (which would tell it the
    // key was used in the tenant).
    expect(otherUser.data?.createConsent.__typename).toBe('CreateConsentPayload')
    expect(otherUser.data?.createConsent.consent.userId).toBe('user-10')
  })
})

describe('a token restricted to some consents', () => {
  it('sees only those, and may not create', async () => {
    // Prepare
    const client = appClient(
      stack,
      await userToken(stack, stack.tenantA, {
        userId: 'user-1',
        scopes: ['consents:read', 'consents:write'],
        consentIds: [c1],
      }),
    )

    // Act + Assess
    expect((await execute(client, CONSENT, { id: c1 })).data?.consent.__typename).toBe('Consent')
    await expectLikeMissing((id) => execute(client, CONSENT, { id }), c2, missingConsent())
    await expectLikeMissing((id) => execute(client, WRITES.refreshConsent as string, { id }), c2, missingConsent())
    const list = await execute(client, CONSENTS)
    expect(list.data?.consents.edges.map((edge: any) => edge.node.id)).toEqual([c1])
    const create = await execute(client, CREATE, {
      input: { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA' },
    })
    expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
  })
})

describe('minting', () => {
  it('createUserToken mints what the token endpoint mints, and refuses bad input with VALIDATION_ERROR', async () => {
    const partner = stack.client(stack.tenantA)
    const minted = await execute(partner, CREATE_USER_TOKEN, {
      userId: 'user-1',
      scopes: ['CONSENTS_READ', 'CONSENTS_WRITE'],
      expiresInSeconds: 60,
      consentIds: [c1, c1],
    })
    expect(minted.data?.createUserToken).toMatchObject({
      __typename: 'CreateUserTokenPayload',
      tokenType: 'Bearer',
      expiresIn: 60,
      scopes: ['CONSENTS_READ', 'CONSENTS_WRITE'],
      userId: 'user-1',
      consentIds: [c1],
    })
    const defaults = await execute(partner, CREATE_USER_TOKEN, { userId: 'user-1', scopes: ['CONSENTS_READ'] })
    expect(defaults.data?.createUserToken).toMatchObject({ expiresIn: 900, consentIds: null })

    for (const variables of [
      { userId: 'user-1', scopes: [] },
      { userId: 'user-1', scopes: ['CONSENTS_READ'], expiresInSeconds: 3601 },
      { userId: 'user-1', scopes: ['CONSENTS_READ'], expiresInSeconds: 0 },
      { userId: 'user-1', scopes: ['CONSENTS_READ'], consentIds: ['cevt_01JD0000000000000000000000'] },
      { userId: '', scopes: ['CONSENTS_READ'] },
      { userId: 'bell\u0007', scopes: ['CONSENTS_READ'] },
    ]) {
      const result = await execute(partner, CREATE_USER_TOKEN, variables)
      expect(result.data?.createUserToken.__typename, JSON.stringify(variables)).toBe('ValidationError')
    }
  })
})

describe('minting by a disabled client', () => {
  it('mints nothing: its bearer token (still valid for reads) and its cached Basic credential are refused at once', async () => {
    const off = { tenantId: stack.tenantA.tenantId, clientId: `mint-off-${ulid()}`, clientSecret: `s-${ulid()}` }
    const { provisionApiClient } = await import('../../service/tenants.ts')
    await provisionApiClient(stack.gateway.access, { ...off, tenantName: 'Alpha' }, new Date())
    const bearer = (
      await stack.gateway.tokens.issueForClient({
        kind: 'API_CLIENT',
        credential: 'BASIC',
        tenantId: off.tenantId,
        clientId: off.clientId,
        revalidate: async () => null,
      })
    ).accessToken
    // Basic verified once, so its credential is in the 60 s cache when the client is disabled.
    const basic = stack.client(off)
    const before = await execute(basic, CREATE_USER_TOKEN, { userId: 'user-1', scopes: ['CONSENTS_READ'] })
    expect(before.data?.createUserToken.__typename).toBe('CreateUserTokenPayload')
    await setClientDisabled(stack, off.clientId, true)

    for (const client of [bearerClient(stack, bearer), basic]) {
      const minted = await execute(client, CREATE_USER_TOKEN, { userId: 'user-1', scopes: ['CONSENTS_READ'] })
      expect(minted.data?.createUserToken ?? null, JSON.stringify(minted)).toBeNull()
      expect(minted.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED')
    }
    const exchanged = await fetch(stack.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${off.clientId}:${off.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: 'user-1',
        subject_token_type: USER_ID_TOKEN_TYPE,
      }),
    })
    expect(exchanged.status).toBe(401)
  })
})

describe("revoking a user's tokens", () => {
  it('refuses every token minted so far, on this server at once and on another within the cache period; later ones work', async () => {
    // Prepare: two tokens of user-2, one of user-1; another server over the same table that has just verified them
    const [first, second] = [
      await userToken(stack, stack.tenantA, { userId: 'user-2' }),
      await userToken(stack, stack.tenantA, { userId: 'user-2', via: 'mutation' }),
    ]
    const bystander = await userToken(stack, stack.tenantA, { userId: 'user-1' })
    const other = await stack.sibling({})
    const otherGraphql = { graphqlUrl: `${other.url}/graphql` }
    for (const token of [first, second]) {
      expect(
        (await execute(appClient(stack, token, otherGraphql.graphqlUrl), CONSENT, { id: c3 })).data?.consent.id,
      ).toBe(c3)
    }

    // Act
    await revokeUserTokens(stack, stack.tenantA, 'user-2')

    // Assess: refused here at once, with RFC 6750's challenge...
    for (const token of [first, second]) {
      const response = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token", error_description=".*revoked/)
    }
    // ...on the other server within its revocation cache period (5 s by default)...
    await vi.waitFor(
      async () => {
        const result = await execute(appClient(stack, first, otherGraphql.graphqlUrl), '{ __typename }')
        expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED')
      },
      { timeout: 15_000, interval: 250 },
    )
    // ...while another user's token and a token minted after the revocation work on both.
    const later = await userToken(stack, stack.tenantA, { userId: 'user-2' })
    for (const graphql of [stack, otherGraphql]) {
      expect((await execute(appClient(stack, later, graphql.graphqlUrl), CONSENT, { id: c3 })).data?.consent.id).toBe(
        c3,
      )
      expect(
        (await execute(appClient(stack, bystander, graphql.graphqlUrl), CONSENT, { id: c1 })).data?.consent.id,
      ).toBe(c1)
    }
    await other.close()
  })
})
