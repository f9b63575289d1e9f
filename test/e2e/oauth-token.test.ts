// e2e: the token endpoint and the published keys, over real HTTP. Client credentials (RFC 6749 §4.4) with
// client_secret_basic and client_secret_post, token exchange for one end user (RFC 8693), every error of §5.2, the
// failure limits shared with HTTP Basic on /graphql, the JWT (RFC 9068) checked with jose against /.well-known/jwks.json
// as any resource server would, and a key rotation from one key to two to the new one alone.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, USER_ID_TOKEN_TYPE } from '../../http/oauth.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { newSigningKey } from '../../crypto/token-keys.ts'
import {
  basicHeader,
  bearerClient,
  partnerToken,
  setClientDisabled,
  tokenRequest,
  type TokenAnswer,
} from '../support/credentials.ts'
import { execute, startStack, type Credentials, type Stack } from '../support/stack.ts'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack?.close()
})

const CLIENT_CREDENTIALS = { grant_type: 'client_credentials' }
const exchange = (userId: string, extra: Record<string, string> = {}) => ({
  grant_type: TOKEN_EXCHANGE_GRANT,
  subject_token: userId,
  subject_token_type: USER_ID_TOKEN_TYPE,
  ...extra,
})

/** An RFC 6749 §5.2 error answer: status, code, JSON, never cached. */
function expectOAuthError(answer: TokenAnswer, status: number, error: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status)
  expect(answer.body.error).toBe(error)
  expect(typeof answer.body.error_description).toBe('string')
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
  expect(answer.headers.get('cache-control')).toBe('no-store')
}

async function provisionClient(name: string): Promise<Credentials> {
  const credentials = {
    tenantId: stack.tenantA.tenantId,
    clientId: `client-${name}`,
    clientSecret: `secret-${name}-0123456789abcdef`,
  }
  await provisionApiClient(stack.gateway.access, { ...credentials, tenantName: 'Alpha' }, new Date())
  return credentials
}

describe('client credentials', () => {
  it('issues an RFC 9068 JWT to client_secret_basic, verifiable with jose against the published JWKS', async () => {
    // Act
    const answer = await tokenRequest(stack, CLIENT_CREDENTIALS, basicHeader(stack.tenantA))

    // Assess: the answer (RFC 6749 §5.1)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.headers.get('pragma')).toBe('no-cache')
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'partner',
    })
    // ...the header (RFC 9068 §2.1)...
    const token = answer.body.access_token as string
    const header = decodeProtectedHeader(token)
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) })
    const jwks = (await (await fetch(stack.jwksUrl)).json()) as { keys: { kid: string }[] }
    expect(jwks.keys.map((key) => key.kid)).toEqual([header.kid])
    // ...and the claims (RFC 9068 §2.2), verified as a resource server does it
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(stack.jwksUrl)), {
      algorithms: ['ES256'],
      typ: 'at+jwt',
      issuer: stack.gateway.tokens.issuer,
      audience: stack.gateway.tokens.audience,
    })
    expect(payload).toEqual({
      iss: stack.gateway.config.publicBaseUrl,
      aud: `${stack.gateway.config.publicBaseUrl}/graphql`,
      sub: stack.tenantA.clientId,
      client_id: stack.tenantA.clientId,
      tenant: stack.tenantA.tenantId,
      scope: 'partner',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[0-9A-Z]{26}$/),
    })
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900)
  })

  it('issues to client_secret_post too, and the token calls the API as the client', async () => {
    // Act
    const token = await partnerToken(stack, stack.tenantB, 'post')
    const result = await execute(bearerClient(stack, token), '{ consents(first: 1) { edges { node { id } } } }')

    // Assess
    expect(result.errors).toBeUndefined()
    expect(result.data?.consents.edges).toEqual([])
  })

  it('accepts the scope "partner" and refuses any other with invalid_scope', async () => {
    const partner = await tokenRequest(stack, { ...CLIENT_CREDENTIALS, scope: 'partner' }, basicHeader(stack.tenantA))
    expect(partner.status).toBe(200)
    for (const scope of ['consents:read', 'partner admin', 'openid']) {
      expectOAuthError(
        await tokenRequest(stack, { ...CLIENT_CREDENTIALS, scope }, basicHeader(stack.tenantA)),
        400,
        'invalid_scope',
      )
    }
  })
})

describe('token exchange for an end user', () => {
  it('issues a token whose sub is the user and whose act is the partner client', async () => {
    // Act
    const answer = await tokenRequest(
      stack,
      exchange('user-7', { scope: 'consents:read consents:write', expires_in: '120' }),
      basicHeader(stack.tenantA),
    )

    // Assess
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: 120,
      scope: 'consents:read consents:write',
    })
    const { payload, protectedHeader } = await jwtVerify(
      answer.body.access_token as string,
      createRemoteJWKSet(new URL(stack.jwksUrl)),
      { algorithms: ['ES256'], typ: 'at+jwt', audience: stack.gateway.tokens.audience },
    )
    expect(protectedHeader.typ).toBe('at+jwt')
    expect(payload).toMatchObject({
      sub: 'user-7',
      client_id: stack.tenantA.clientId,
      act: { sub: stack.tenantA.clientId },
      tenant: stack.tenantA.tenantId,
      scope: 'consents:read consents:write',
    })
    expect(payload.consent_ids).toBeUndefined()
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(120)
  })

  it('defaults to consents:read for 15 minutes, and carries the consent ids it is restricted to', async () => {
    const id = 'consent_01JD0000000000000000000000'
    const answer = await tokenRequest(stack, exchange('user-8', { consent_ids: id }), basicHeader(stack.tenantA))
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body).toMatchObject({ scope: 'consents:read', expires_in: 900 })
    const claims = JSON.parse(Buffer.from(String(answer.body.access_token).split('.')[1] ?? '', 'base64url').toString())
    expect(claims.consent_ids).toEqual([id])
  })

  it('refuses what it cannot issue, each with its error, and issues nothing', async () => {
    const basic = basicHeader(stack.tenantA)
    const cases: [Record<string, string>, string][] = [
      [{ grant_type: TOKEN_EXCHANGE_GRANT, subject_token_type: USER_ID_TOKEN_TYPE }, 'invalid_request'],
      [exchange('user-1', { subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }), 'invalid_request'],
      [exchange('user-1', { actor_token: 'x', actor_token_type: ACCESS_TOKEN_TYPE }), 'invalid_request'],
      [exchange('user-1', { requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), 'invalid_request'],
      [exchange('user-1', { scope: 'consents:delete' }), 'invalid_scope'],
      [exchange('user-1', { scope: 'partner' }), 'invalid_scope'],
      [exchange('user-1', { expires_in: '3601' }), 'invalid_request'],
      [exchange('user-1', { expires_in: '-5' }), 'invalid_request'],
      [exchange('user-1', { consent_ids: 'cevt_01JD0000000000000000000000' }), 'invalid_request'],
      [exchange('user\u0007bell'), 'invalid_request'],
      [exchange('u'.repeat(129)), 'invalid_request'],
      [exchange('user-1', { audience: 'https://elsewhere.example/graphql' }), 'invalid_target'],
    ]
    for (const [form, error] of cases) expectOAuthError(await tokenRequest(stack, form, basic), 400, error)
  })
})

describe('errors of RFC 6749 §5.2', () => {
  it('answers invalid_client 401 with a challenge without client authentication, or with a wrong secret', async () => {
    const wrong = { ...stack.tenantA, clientSecret: 'not-the-secret-0123456789' }
    const answers = [
      await tokenRequest(stack, CLIENT_CREDENTIALS),
      await tokenRequest(stack, CLIENT_CREDENTIALS, basicHeader(wrong)),
      await tokenRequest(stack, {
        ...CLIENT_CREDENTIALS,
        client_id: wrong.clientId,
        client_secret: wrong.clientSecret,
      }),
      await tokenRequest(stack, { ...CLIENT_CREDENTIALS, client_id: stack.tenantA.clientId }),
      await tokenRequest(stack, CLIENT_CREDENTIALS, `Bearer ${await partnerToken(stack, stack.tenantA)}`),
    ]
    for (const answer of answers) {
      expectOAuthError(answer, 401, 'invalid_client')
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic realm="consent-gateway"/)
    }
  })

  it('answers invalid_client for a disabled client, and issues again once it is enabled', async () => {
    const client = await provisionClient('disabled')
    await setClientDisabled(stack, client.clientId, true)
    expectOAuthError(await tokenRequest(stack, CLIENT_CREDENTIALS, basicHeader(client)), 401, 'invalid_client')
    await setClientDisabled(stack, client.clientId, false)
    // A refused credential is remembered as refused for 5 s (service/authentication.ts), then checked again.
    await vi.waitFor(
      async () => expect((await tokenRequest(stack, CLIENT_CREDENTIALS, basicHeader(client))).status).toBe(200),
      { timeout: 10_000, interval: 1_000 },
    )
  })

  it('answers invalid_request for both client authentication methods at once, or a client_id naming another', async () => {
    const basic = basicHeader(stack.tenantA)
    expectOAuthError(
      await tokenRequest(stack, { ...CLIENT_CREDENTIALS, client_id: 'client-alpha', client_secret: 'x' }, basic),
      400,
      'invalid_request',
    )
    expectOAuthError(
      await tokenRequest(stack, { ...CLIENT_CREDENTIALS, client_id: stack.tenantB.clientId }, basic),
      400,
      'invalid_request',
    )
  })

  it('answers unsupported_grant_type and invalid_request for grants it does not take', async () => {
    const basic = basicHeader(stack.tenantA)
    for (const grant of [
      'password',
      'authorization_code',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ]) {
      expectOAuthError(await tokenRequest(stack, { grant_type: grant }, basic), 400, 'unsupported_grant_type')
    }
    expectOAuthError(await tokenRequest(stack, {}, basic), 400, 'invalid_request')
    expectOAuthError(await tokenRequest(stack, { grant_type: '' }, basic), 400, 'invalid_request')
  })

  it('answers invalid_request to a repeated parameter, a body that is not a form, another method, a huge body', async () => {
    const basic = basicHeader(stack.tenantA)
    const post = (body: string, contentType: string) =>
      fetch(stack.tokenUrl, { method: 'POST', headers: { authorization: basic, 'content-type': contentType }, body })
    const answers = [
      await post('grant_type=client_credentials&grant_type=client_credentials', 'application/x-www-form-urlencoded'),
      await post(JSON.stringify(CLIENT_CREDENTIALS), 'application/json'),
      await post(`grant_type=client_credentials&pad=${'x'.repeat(10_000)}`, 'application/x-www-form-urlencoded'),
      await fetch(`${stack.tokenUrl}?grant_type=client_credentials`, { headers: { authorization: basic } }),
    ]
    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 413, 405])
    expect(answers[3]?.headers.get('allow')).toBe('POST')
    for (const answer of answers) {
      expect(((await answer.json()) as { error: string }).error).toBe('invalid_request')
      expect(answer.headers.get('cache-control')).toBe('no-store')
    }
  })

  it('counts wrong secrets against the same failure limits as HTTP Basic on /graphql', async () => {
    // Prepare: a client of its own, whose right secret verified once (so the attack does not lock it out)
    const client = await provisionClient('attacked')
    const wrong = (n: number) => ({ ...client, clientSecret: `guess-${n}-0123456789abcdef` })
    expect((await tokenRequest(stack, CLIENT_CREDENTIALS, basicHeader(client))).status).toBe(200)

    // Act: the per-client budget (10 in a row) spent at the token endpoint
    const answers: TokenAnswer[] = []
    for (let n = 0; n < 11; n++) answers.push(await tokenRequest(stack, CLIENT_CREDENTIALS, basicHeader(wrong(n))))
    const graphql = await execute(stack.client(wrong(99)), '{ __typename }')

    // Assess: ten refused as invalid_client, then limited, at the token endpoint and on /graphql alike...
    expect(answers.slice(0, 10).map((answer) => answer.status)).toEqual(Array(10).fill(401))
    const limited = answers[10] as TokenAnswer
    expectOAuthError(limited, 429, 'temporarily_unavailable')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(graphql.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' })
    // ...while the client's own secret, verified before, still gets tokens.
    expect((await tokenRequest(stack, CLIENT_CREDENTIALS, basicHeader(client))).status).toBe(200)
  })
})

describe('the published keys', () => {
  it('serves the public halves only, cacheable, to anyone', async () => {
    const response = await fetch(stack.jwksUrl)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('public, max-age=300')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    const { keys } = (await response.json()) as { keys: Record<string, string>[] }
    expect(keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: stack.signingKeys[0]?.x,
        y: stack.signingKeys[0]?.y,
        kid: stack.signingKeys[0]?.kid,
        alg: 'ES256',
        use: 'sig',
      },
    ])
    expect(JSON.stringify(keys)).not.toContain(String(stack.signingKeys[0]?.d))
    expect((await fetch(stack.jwksUrl, { method: 'POST' })).status).toBe(405)
  })

  it('rotates: with two keys both verify and the new one signs; once the old one is dropped its tokens are refused', async () => {
    // Prepare: a token signed by today's key
    const old = stack.signingKeys[0]
    const oldToken = await partnerToken(stack, stack.tenantA)
    const fresh = newSigningKey()

    // Act 1: the rotation's first step, the new key first and the old one kept
    const rotating = await stack.sibling({ tokenSigningKeys: JSON.stringify([fresh, old]) })
    const rotatingStack = { tokenUrl: `${rotating.url}/oauth/token`, graphqlUrl: `${rotating.url}/graphql` }
    const jwks = (await (await fetch(`${rotating.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }
    const newToken = await partnerToken(rotatingStack, stack.tenantA)

    // Assess 1: both keys published, the new one signs, both tokens verify
    expect(jwks.keys.map((key) => key.kid)).toEqual([fresh.kid, old?.kid])
    expect(decodeProtectedHeader(newToken).kid).toBe(fresh.kid)
    for (const token of [oldToken, newToken]) {
      const result = await execute(bearerClient(rotatingStack, token), '{ __typename }')
      expect(result.errors, JSON.stringify(result)).toBeUndefined()
    }

    // Act 2: a token lifetime later, the old key dropped
    const rotated = await stack.sibling({ tokenSigningKeys: JSON.stringify([fresh]) })
    const rotatedGraphql = { graphqlUrl: `${rotated.url}/graphql` }

    // Assess 2: the old key's token is refused as invalid_token; the new key's works
    const refused = await fetch(rotatedGraphql.graphqlUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${oldToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
    expect((await refused.json()).errors[0].extensions.code).toBe('UNAUTHORIZED')
    const accepted = await execute(bearerClient(rotatedGraphql, newToken), '{ __typename }')
    expect(accepted.errors).toBeUndefined()
    await rotating.close()
    await rotated.close()
  })
})
