// e2e: bearer tokens on /graphql, over every transport (graphql-http POST, GET, graphql-sse), beside HTTP Basic; and
// every token an attacker could bring (expired, altered, for another audience or issuer, unsigned, HMAC-signed with
// the public key, another typ, an unknown key, garbage) refused with 401 and RFC 6750's invalid_token challenge before
// any GraphQL runs.
import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newSigningKey } from '../../crypto/token-keys.ts'
import {
  appClient,
  appSse,
  bearerClient,
  bearerSse,
  CREDENTIAL_KINDS,
  documentIdOf,
  everyCredential,
  hmacWithPublicKey,
  partnerToken,
  registerDocuments,
  signedToken,
  tamperedClaims,
  tamperedSignature,
  unsignedToken,
  userClaims,
  userToken,
} from '../support/credentials.ts'
import { execute, startStack, type Stack } from '../support/stack.ts'

let stack: Stack
let consentId: string

beforeAll(async () => {
  stack = await startStack()
  const created = await execute(
    stack.client(stack.tenantA),
    `mutation { createConsent(input: { provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA }) {
      ... on CreateConsentPayload { consent { id } } } }`,
  )
  consentId = created.data?.createConsent.consent.id as string
})
afterAll(async () => {
  await stack?.close()
})

const GET = `query ($id: ID!) { consent(id: $id) { __typename ... on Consent { id userId } } }`

/** POSTs a query with an Authorization header; the raw answer. */
const post = (authorization: string, query = '{ __typename }', accept = 'application/graphql-response+json') =>
  fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json', accept },
    body: JSON.stringify({ query }),
  })

/** The first event a graphql-sse subscription brings, or its failure. */
function firstEvent(token: string, id: string, sse: typeof appSse = bearerSse): Promise<unknown> {
  return new Promise((resolve) => {
    const unsubscribe = sse(stack, token).subscribe(
      { query: 'subscription ($id: ID!) { consentUpdated(id: $id) { id userId } }', variables: { id } },
      {
        next: (value) => {
          unsubscribe()
          resolve(value)
        },
        error: (error: unknown) => resolve({ failed: error }),
        complete: () => undefined,
      },
    )
  })
}

describe('a valid bearer token', () => {
  it('works over graphql-http, GET and graphql-sse, for a partner and for an end user, beside HTTP Basic', async () => {
    const tokens = {
      partner: await partnerToken(stack, stack.tenantA),
      user: await userToken(stack, stack.tenantA, { userId: 'user-1' }),
    }
    const expected = { __typename: 'Consent', id: consentId, userId: 'user-1' }
    await registerDocuments(stack, stack.tenantA.tenantId, [GET])
    for (const [kind, token] of Object.entries(tokens)) {
      // graphql-http (an end user's app sends its registered documents by id)
      const client = kind === 'user' ? appClient(stack, token) : bearerClient(stack, token)
      const overPost = await execute(client, GET, { id: consentId })
      expect(overPost.data?.consent, kind).toEqual(expected)
      // GET
      const query = new URLSearchParams({
        ...(kind === 'user' ? { documentId: documentIdOf(GET) } : { query: GET }),
        variables: JSON.stringify({ id: consentId }),
      })
      const overGet = await fetch(`${stack.graphqlUrl}?${query}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/graphql-response+json' },
      })
      expect(overGet.status, kind).toBe(200)
      expect((await overGet.json()).data.consent, kind).toEqual(expected)
      // graphql-sse
      expect(await firstEvent(token, consentId, kind === 'user' ? appSse : bearerSse), kind).toEqual({
        data: { consentUpdated: { id: consentId, userId: 'user-1' } },
        extensions: { cost: { requested: expect.any(Number), limit: 5000 } },
      })
    }
    // HTTP Basic, unchanged
    expect((await execute(stack.client(stack.tenantA), GET, { id: consentId })).data?.consent).toEqual(expected)
  })

  it("is its tenant's: tenant B's bearer token does not see tenant A's consent", async () => {
    const token = await partnerToken(stack, stack.tenantB)
    const result = await execute(bearerClient(stack, token), GET, { id: consentId })
    expect(result.data?.consent.__typename).toBe('ConsentNotFoundError')
  })
})

describe('a bearer token that does not hold', () => {
  it('is refused with 401 and an invalid_token challenge, over POST and SSE, before any GraphQL runs', async () => {
    // Prepare: every way a token can be wrong
    const valid = await userToken(stack, stack.tenantA, {
      userId: 'user-1',
      scopes: ['consents:read', 'consents:write'],
    })
    const claims = userClaims(stack, stack.tenantA, 'user-1')
    const now = Math.floor(Date.now() / 1000)
    const strangerKey = newSigningKey()
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const forged: Record<string, string> = {
      expired: await signedToken(stack, { ...claims, iat: now - 3_600, exp: now - 600 }),
      'tampered signature': tamperedSignature(valid),
      'tampered claims (another user)': tamperedClaims(valid, { sub: 'user-2' }),
      'tampered claims (another tenant)': tamperedClaims(valid, { tenant: stack.tenantB.tenantId }),
      'wrong audience': await signedToken(stack, { ...claims, aud: 'https://other-api.example/graphql' }),
      'wrong issuer': await signedToken(stack, { ...claims, iss: 'https://other-issuer.example' }),
      'typ JWT': await signedToken(stack, claims, { typ: 'JWT' }),
      'alg none': unsignedToken(claims, stack.signingKeys[0]?.kid ?? ''),
      'HS256 with the public key': await hmacWithPublicKey(stack, claims),
      'unknown kid': await signedToken(stack, claims, {}, strangerKey),
      'known kid, another key': await signedToken(stack, claims, { kid: stack.signingKeys[0]?.kid }, strangerKey),
      'RS256 header': `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: stack.signingKeys[0]?.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${Buffer.from(
        rsa.privateKey.export({ format: 'der', type: 'pkcs8' }),
      )
        .toString('base64url')
        .slice(0, 300)}`,
      'no exp': await signedToken(stack, { ...claims, exp: undefined }),
      'partner claims with a user scope': await signedToken(stack, {
        ...claims,
        act: undefined,
        sub: stack.tenantA.clientId,
      }),
      'user claims with another act': await signedToken(stack, { ...claims, act: { sub: 'client-bravo' } }),
      'a consent id that is not one': await signedToken(stack, {
        ...claims,
        consent_ids: ['cevt_01JD0000000000000000000000'],
      }),
      'an unknown scope': await signedToken(stack, { ...claims, scope: 'consents:read admin' }),
      garbage: 'not-a-jwt',
      'three dots': 'a.b.c',
    }

    for (const [kind, token] of Object.entries(forged)) {
      // Act
      const overPost = await post(`Bearer ${token}`, '{ consents(first: 5) { edges { node { id } } } }')
      const overSse = await post(`Bearer ${token}`, 'subscription { consentEvents { cursor } }', 'text/event-stream')

      // Assess
      for (const answer of [overPost, overSse]) {
        expect(answer.status, kind).toBe(401)
        expect(answer.headers.get('www-authenticate'), kind).toMatch(
          /^Bearer realm="consent-gateway", error="invalid_token"/,
        )
        const body = (await answer.json()) as { data?: unknown; errors: { extensions: { code: string } }[] }
        expect(body.data, kind).toBeUndefined()
        expect(body.errors[0]?.extensions.code, kind).toBe('UNAUTHORIZED')
      }
    }
    // The expired one says so; the rest say only that the token is invalid (or signed by a key we do not know).
    const expired = await post(`Bearer ${forged.expired}`)
    expect(expired.headers.get('www-authenticate')).toMatch(/error_description="The access token has expired"/)
  })

  it('answers a missing or unknown scheme with both challenges, and a malformed bearer header with invalid_token', async () => {
    const none = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    })
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe(
      'Basic realm="consent-gateway", charset="UTF-8", Bearer realm="consent-gateway"',
    )
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', `Bearer ${'x'.repeat(5_000)}`]) {
      const answer = await post(header)
      expect(answer.status, header.slice(0, 20)).toBe(401)
      expect(answer.headers.get('www-authenticate'), header.slice(0, 20)).toMatch(/error="invalid_token"/)
    }
    expect((await post('Digest username="x"')).status).toBe(401)
  })
})

describe('every kind of credential test/support/credentials.ts mints', () => {
  it("answers one read as documented: partner and user credentials read (users by documentId only), the broken ones 401, a disabled client's token until it expires", async () => {
    // Prepare
    const credentials = await everyCredential(stack, stack.tenantA, 'user-1')

    const document = `query ($id: ID!) { consent(id: $id) { __typename } }`
    await registerDocuments(stack, stack.tenantA.tenantId, [document])
    const ask = async (authorization: string, body: Record<string, unknown>) => {
      const response = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, variables: { id: consentId } }),
      })
      const answer = await response.json()
      return `${response.status} ${answer.data?.consent.__typename ?? answer.errors[0].extensions.code}`
    }

    // Act: the registered document by its id, and the document's text
    const outcomes: Record<string, string> = {}
    for (const kind of CREDENTIAL_KINDS) {
      const byId = await ask(credentials[kind], { documentId: documentIdOf(document) })
      outcomes[kind] = `${byId}; text: ${await ask(credentials[kind], { query: document })}`
    }

    // Assess
    expect(outcomes).toEqual({
      basic: '200 Consent; text: 200 Consent',
      partnerBearer: '200 Consent; text: 200 Consent',
      userRead: '200 Consent; text: 403 PERSISTED_QUERY_ONLY',
      userWrite: '200 Consent; text: 403 PERSISTED_QUERY_ONLY',
      expired: '401 UNAUTHORIZED; text: 401 UNAUTHORIZED',
      tamperedSignature: '401 UNAUTHORIZED; text: 401 UNAUTHORIZED',
      wrongAudience: '401 UNAUTHORIZED; text: 401 UNAUTHORIZED',
      revokedUser: '401 UNAUTHORIZED; text: 401 UNAUTHORIZED',
      disabledClientBasic: '401 UNAUTHORIZED; text: 401 UNAUTHORIZED',
      // Verified from its signature alone: it lapses at its exp (15 minutes at most); subscriptions end sooner.
      disabledClientBearer: '200 Consent; text: 200 Consent',
    })
  })
})
