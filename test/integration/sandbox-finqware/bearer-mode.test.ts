// The Finqware sandbox in OAuth2 bearer mode: tokens from its token endpoint instead of credentials in each body.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startFinqwareSandbox, type FinqwareSandbox } from '../../../sandbox/finqware/server.ts'
import { type ApiResult, AUTH, expectErrorBody, OTHER_AUTH, SandboxClient, useFinqwareSandbox } from './harness.ts'

useFinqwareSandbox()

describe('OAuth2 bearer mode', () => {
  let oauth: FinqwareSandbox
  let client: SandboxClient
  const basic = (auth: { client_id: string; client_secret: string }) =>
    `Basic ${Buffer.from(`${auth.client_id}:${auth.client_secret}`).toString('base64')}`

  beforeAll(async () => {
    oauth = await startFinqwareSandbox({
      authMode: 'oauth2',
      tokenLifetimeSeconds: 600,
      clients: [
        { clientId: AUTH.client_id, clientSecret: AUTH.client_secret },
        { clientId: OTHER_AUTH.client_id, clientSecret: OTHER_AUTH.client_secret },
      ],
    })
    client = new SandboxClient(oauth.url)
  })

  afterAll(async () => {
    await oauth?.close()
  })

  async function tokenRequest(form: Record<string, string>, authorization?: string): Promise<ApiResult> {
    const response = await fetch(`${oauth.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization !== undefined && { authorization }),
      },
      body: new URLSearchParams(form).toString(),
    })
    return { status: response.status, body: await response.json(), headers: response.headers }
  }

  async function tokenOf(auth = AUTH): Promise<string> {
    const answer = await tokenRequest({ grant_type: 'client_credentials' }, basic(auth))
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    return answer.body.access_token as string
  }

  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
  const createWith = (token: string, body: Record<string, unknown> = { client_id: AUTH.client_id, consent: {} }) =>
    client.api('/v2/ais/consents/create', body, bearer(token))

  test('the token endpoint issues a bearer token for client credentials (HTTP Basic), with its lifetime in seconds', async () => {
    const answer = await tokenRequest({ grant_type: 'client_credentials' }, basic(AUTH))

    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600 })
    expect(answer.headers.get('cache-control')).toBe('no-store')
  })

  test('the token endpoint refuses a wrong secret and missing credentials with 401, a wrong grant with 400', async () => {
    expectErrorBody(
      await tokenRequest({ grant_type: 'client_credentials' }, basic({ ...AUTH, client_secret: 'x' })),
      401,
      'unauthorized',
    )
    expectErrorBody(await tokenRequest({ grant_type: 'client_credentials' }), 401, 'unauthorized')
    expectErrorBody(await tokenRequest({ grant_type: 'password' }, basic(AUTH)), 400, 'validation_error')
  })

  test('a call with a valid token and client_id in the body goes through; the consent belongs to that client', async () => {
    const token = await tokenOf()

    const created = await createWith(token)
    const read = await client.api(
      '/v2/ais/consents/get',
      { client_id: AUTH.client_id, consent_id: created.body.consent_id },
      bearer(token),
    )

    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(read.status).toBe(200)
    expect(read.body.status).toBe('created')
  })

  test('the body secret is refused, with or without a valid token', async () => {
    const token = await tokenOf()
    const before = await client.control('consents', undefined, 'GET')

    const secretAndToken = await createWith(token, { ...AUTH, consent: {} })
    const secretAlone = await client.create()

    expectErrorBody(secretAndToken, 401, 'unauthorized')
    expectErrorBody(secretAlone, 401, 'unauthorized')
    expect((await client.control('consents', undefined, 'GET')).body).toEqual(before.body)
  })

  test('a wrong token, a missing one, another scheme and no client_id are refused 401 unauthorized', async () => {
    const token = await tokenOf()

    const wrong = await createWith(`${token}x`)
    const missing = await client.api('/v2/ais/consents/create', { client_id: AUTH.client_id, consent: {} })
    const basicScheme = await client.api(
      '/v2/ais/consents/create',
      { client_id: AUTH.client_id, consent: {} },
      { headers: { authorization: basic(AUTH) } },
    )
    const noClientId = await createWith(token, { consent: {} })

    for (const answer of [wrong, missing, basicScheme, noClientId]) expectErrorBody(answer, 401, 'unauthorized')
  })

  test("another client's token with this client's id in the body is refused 401", async () => {
    const othersToken = await tokenOf(OTHER_AUTH)

    expectErrorBody(await createWith(othersToken), 401, 'unauthorized')
  })

  test('a token past its lifetime on the sandbox clock is refused 401; a new one goes through', async () => {
    const token = await tokenOf()
    expect((await createWith(token)).status).toBe(200)
    const refusedBefore = oauth.tokenCounts().refused

    await client.advanceSeconds(600)
    const expired = await createWith(token)
    const renewed = await createWith(await tokenOf())

    expectErrorBody(expired, 401, 'unauthorized')
    expect(renewed.status).toBe(200)
    expect(oauth.tokenCounts().refused).toBe(refusedBefore + 1)
  })
})
