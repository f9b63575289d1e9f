// The Yapily sandbox over real HTTP: Basic auth and both error envelopes, institutions, and the rules of creating
// an account authorisation (users, callbacks, feature scope, expiresAt).
import { randomUUID } from 'node:crypto'
import { beforeEach, describe, expect, test } from 'vitest'
import {
  basic,
  EXACT_401,
  EXACT_CALLBACK,
  KEY,
  NOON,
  other,
  sandbox,
  SECRET,
  useYapilySandbox,
  UUID,
  yapily,
  YapilyClient,
} from './harness.ts'

useYapilySandbox()

describe('authentication and envelopes', () => {
  test.each([
    ['no Authorization', ''],
    ['a wrong secret', basic(KEY, 'wrong')],
    ['an unknown key', basic('nobody', SECRET)],
    ['a Bearer token', 'Bearer abc'],
    ['Basic without a colon', `Basic ${Buffer.from('no-colon').toString('base64')}`],
  ])('%s is 401 with exactly the documented body', async (_case, authorization) => {
    const answer = await new YapilyClient(sandbox.url, authorization).call('GET', '/institutions')

    expect(answer.status).toBe(401)
    expect(answer.body).toEqual(EXACT_401)
    expect(answer.text).toBe(JSON.stringify(EXACT_401))
  })

  test('every API route needs the credentials, the webhook and extend routes included', async () => {
    const anonymous = new YapilyClient(sandbox.url, '')
    const answers = await Promise.all([
      anonymous.create(),
      anonymous.reauthorise('token'),
      anonymous.list('limit=1'),
      anonymous.get(randomUUID()),
      anonymous.remove(randomUUID()),
      anonymous.extend(randomUUID(), { lastConfirmedAt: NOON }),
      anonymous.accounts('token'),
      anonymous.call('GET', '/webhook/events'),
      anonymous.call('POST', '/embedded-account-auth-requests', { body: {} }),
    ])

    for (const answer of answers) expect(answer.body).toEqual(EXACT_401)
  })

  test('success bodies are {meta: {tracingId}, data}; answers are dated by the sandbox clock', async () => {
    await yapily.setClock(NOON)

    const answer = await yapily.call('GET', '/institutions')

    expect(answer.status).toBe(200)
    expect(answer.body.meta).toEqual({ tracingId: expect.stringMatching(UUID), count: 5 })
    expect(Math.abs(Date.parse(answer.headers.get('date') ?? '') - Date.parse(NOON))).toBeLessThan(60_000)
  })

  test('legacy errors carry code, status, message, source and tracingId; unknown routes are 404', async () => {
    const malformed = await yapily.call('POST', '/account-auth-requests', { body: '{"institutionId": ' })
    const unknown = await yapily.call('GET', '/payments')

    expect(malformed.status).toBe(400)
    expect(malformed.body).toEqual({
      error: {
        code: 400,
        status: 'BAD_REQUEST',
        message: expect.any(String),
        source: 'YAPILY',
        tracingId: expect.stringMatching(UUID),
      },
    })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', source: 'YAPILY' })
  })
})

describe('institutions', () => {
  test('five sandbox institutions: UK redirect, EEA redirect, EEA embedded, UK payments only, UK per account', async () => {
    const answer = await yapily.call('GET', '/institutions')
    const byId = Object.fromEntries(answer.body.data.map((institution: any) => [institution.id, institution]))

    expect(Object.keys(byId).sort()).toEqual([
      'embedded-de-sandbox',
      'modelo-sandbox',
      'payments-only-gb-sandbox',
      'per-account-gb-sandbox',
      'santander-es-sandbox',
    ])
    expect(byId['payments-only-gb-sandbox'].features).not.toContain('INITIATE_ACCOUNT_REQUEST')
    expect(byId['modelo-sandbox']).toMatchObject({
      name: 'Modelo Sandbox',
      fullName: expect.any(String),
      countries: [{ displayName: 'United Kingdom', countryCode2: 'GB' }],
      environmentType: 'SANDBOX',
    })
    expect(byId['modelo-sandbox'].features).toContain('INITIATE_ACCOUNT_REQUEST')
    expect(byId['santander-es-sandbox'].countries).toEqual([
      { displayName: 'Andorra', countryCode2: 'AD' },
      { displayName: 'Spain', countryCode2: 'ES' },
    ])
    expect(byId['embedded-de-sandbox'].countries[0].countryCode2).toBe('DE')
    expect(byId['embedded-de-sandbox'].features).toContain('INITIATE_EMBEDDED_ACCOUNT_REQUEST')
  })
})

describe('create account authorisation', () => {
  beforeEach(async () => {
    await yapily.setClock(NOON)
  })

  test('201 AWAITING_AUTHORIZATION with the bank page, a QR code link and no token', async () => {
    const created = await yapily.create({ applicationUserId: 'user-create' })
    const data = created.body.data

    expect(created.status).toBe(201)
    expect(created.body.meta).toEqual({ tracingId: expect.stringMatching(UUID) })
    expect(data).toMatchObject({
      id: expect.stringMatching(UUID),
      userUuid: expect.stringMatching(UUID),
      applicationUserId: 'user-create',
      institutionId: 'modelo-sandbox',
      status: 'AWAITING_AUTHORIZATION',
      state: expect.stringMatching(/^[0-9a-f]{32}$/),
      institutionConsentId: expect.any(String),
    })
    expect(Date.parse(data.createdAt)).toBeGreaterThanOrEqual(Date.parse(NOON))
    expect(data.featureScope).toEqual(expect.arrayContaining(['ACCOUNTS', 'ACCOUNT_BALANCES', 'ACCOUNT_TRANSACTIONS']))
    expect(data.consentToken).toBeUndefined()
    expect(data.expiresAt).toBeUndefined()
    expect(data.authorisationUrl).toMatch(new RegExp(`^${sandbox.url}/bank/[A-Za-z0-9_-]+\\?state=${data.state}$`))
    expect(data.qrCodeUrl).toMatch(new RegExp(`^${sandbox.url}/qr/`))
    expect((await fetch(data.qrCodeUrl as string)).headers.get('content-type')).toBe('image/svg+xml')
  })

  test('users are created on first use of an applicationUserId and found again, per application', async () => {
    const first = await yapily.createOk({ applicationUserId: 'alice' })
    const again = await yapily.createOk({ applicationUserId: 'alice' })
    const byUuid = await yapily.createOk({ applicationUserId: undefined, userUuid: first.userUuid })
    const bob = await yapily.createOk({ applicationUserId: 'bob' })
    const otherApp = await other.createOk({ applicationUserId: 'alice' })
    const unknownUuid = await yapily.create({ applicationUserId: undefined, userUuid: randomUUID() })
    const foreignUuid = await other.create({ applicationUserId: undefined, userUuid: first.userUuid })

    expect(again.userUuid).toBe(first.userUuid)
    expect(byUuid).toMatchObject({ userUuid: first.userUuid, applicationUserId: 'alice' })
    expect(bob.userUuid).not.toBe(first.userUuid)
    expect(otherApp.userUuid).not.toBe(first.userUuid)
    expect(unknownUuid.status).toBe(400)
    expect(foreignUuid.status).toBe(400)
  })

  test('institutionId: missing is 400, unknown is 404 "institution not found"', async () => {
    const missing = await yapily.create({ institutionId: undefined })
    const unknown = await yapily.create({ institutionId: 'no-such-bank' })

    expect(missing.status).toBe(400)
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', source: 'YAPILY' })
    expect(unknown.body.error.message).toContain('institution not found')
  })

  test.each([
    ['both applicationUserId and userUuid', { userUuid: randomUUID() }],
    ['neither', { applicationUserId: undefined }],
    ['an empty applicationUserId', { applicationUserId: '' }],
    ['a userUuid that is not a UUID', { applicationUserId: undefined, userUuid: 'abc' }],
  ])('%s is 400', async (_case, body) => {
    const refused = await yapily.create(body)

    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ code: 400, status: 'BAD_REQUEST' })
  })

  test('callbacks below a registered trailing-slash entry, or equal to an entry, are accepted; absent too', async () => {
    const below = await yapily.create({ callback: 'https://partner.example/deep/path?x=1' })
    const exact = await yapily.create({ callback: EXACT_CALLBACK })
    const none = await yapily.create({ callback: undefined })

    expect([below.status, exact.status, none.status]).toEqual([201, 201, 201])
  })

  test.each([
    'https://evil.example/yapily/callback',
    'https://partner.example:8443/yapily/callback',
    'http://partner.example/yapily/callback',
    'https://exact.example/cb/more',
    'not a url',
  ])('callback %s is not registered: 400 naming it', async (callback) => {
    const refused = await yapily.create({ callback })

    expect(refused.status).toBe(400)
    expect(refused.body.error.message).toContain(callback)
  })

  test('featureScope: FeatureEnum values are kept; anything else is 400', async () => {
    const scoped = await yapily.createOk({ accountRequest: { featureScope: ['ACCOUNTS', 'ACCOUNT_TRANSACTIONS'] } })
    const invalid = await yapily.create({ accountRequest: { featureScope: ['ACCOUNTS', 'MIND_READING'] } })
    const notArray = await yapily.create({ accountRequest: { featureScope: 'ACCOUNTS' } })

    expect(scoped.featureScope).toEqual(['ACCOUNTS', 'ACCOUNT_TRANSACTIONS'])
    expect(invalid.status).toBe(400)
    expect(invalid.body.error.message).toContain('MIND_READING')
    expect(notArray.status).toBe(400)
  })

  test('expiresAt is honoured by modelo-sandbox and silently ignored by the EEA banks', async () => {
    const expiresAt = '2030-08-01T00:00:00.000Z'

    const uk = await yapily.createOk({ accountRequest: { expiresAt } })
    const eea = await yapily.createOk({ institutionId: 'santander-es-sandbox', accountRequest: { expiresAt } })
    const malformed = await yapily.create({
      institutionId: 'santander-es-sandbox',
      accountRequest: { expiresAt: 'soon' },
    })
    const past = await yapily.create({ accountRequest: { expiresAt: '2030-06-01T00:00:00Z' } })

    expect(uk.expiresAt).toBe(expiresAt)
    expect(uk.timeToExpire).toMatch(/^P4\dD/)
    expect(eea.expiresAt).toBeUndefined()
    expect(malformed.status).toBe(400)
    expect(past.status).toBe(400)
  })

  test('oneTimeToken is refused (not simulated); a redirect without url is 400', async () => {
    const ott = await yapily.create({ oneTimeToken: true })
    const redirect = await yapily.create({ redirect: {} })

    expect(ott.status).toBe(400)
    expect(redirect.status).toBe(400)
  })
})
