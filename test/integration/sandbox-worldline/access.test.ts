// The Worldline sandbox's front door over real HTTP: signed token requests, the headers every AIS call needs, and the
// ASPSP directory.
import { createSign, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startWorldlineSandbox, type WorldlineSandbox } from '../../../sandbox/worldline/server.ts'
import {
  A,
  CLIENT_ID,
  KEY_ID,
  keys,
  NOON,
  requestToken,
  rotatedKeys,
  S,
  sandbox,
  type SignedTokenRequest,
  tokenError,
  useWorldlineSandbox,
  worldline,
  WorldlineClient,
} from './harness.ts'

useWorldlineSandbox()

describe('token endpoint', () => {
  test('a request signed with the registered key gets a Bearer token that the AIS API accepts', async () => {
    // Act
    const issued = await requestToken(sandbox.url)
    const withToken = new WorldlineClient(sandbox.url, issued.body.access_token as string)
    const created = await withToken.create()

    // Assess
    expect(issued.status).toBe(200)
    expect(Object.keys(issued.body).sort()).toEqual(['access_token', 'expires_in', 'token_type'])
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 })
    expect(issued.body.access_token).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(created.status).toBe(201)
  })

  test('a second registered key of the same client (rotation), rsa-sha256 and a charset are accepted', async () => {
    const rotated = await requestToken(sandbox.url, { privateKey: rotatedKeys.privateKey, keyId: 'rotated-key' })
    const spelled = await requestToken(sandbox.url, {
      algorithm: 'rsa-sha256',
      contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
    })

    expect(rotated.status).toBe(200)
    expect(spelled.status).toBe(200)
  })

  test('JSON, or no content type, is refused with 415', async () => {
    const json = await requestToken(sandbox.url, {
      contentType: 'application/json',
      body: '{"grant_type":"client_credentials"}',
    })
    const none = await fetch(`${sandbox.url}${S}/authorize/token`, { method: 'POST' })

    expect(json.status).toBe(415)
    expect(json.body.code).toBe('158')
    expect(none.status).toBe(415)
  })

  test.each(['grant_type=password', 'grant_type=authorization_code&code=x', ''])(
    'body %j is refused with 400 code 001',
    async (body) => {
      const refused = await requestToken(sandbox.url, { body })

      expect(refused.status).toBe(400)
      expect(refused.body).toEqual(tokenError('001'))
    },
  )

  test.each([
    ['a key that is not the registered one', { privateKey: rotatedKeys.privateKey }],
    ['an unknown keyId', { keyId: 'not-registered' }],
    ['an unknown client', { headers: { client: 'someone-else' } }],
    ['a random Id, not the Initiating Party id (and sub id)', { headers: { id: randomUUID() } }],
    ['App other than AIS', { headers: { app: 'IDEAL' } }],
    ['no App header', { headers: { app: undefined }, signedHeaders: 'client id date' }],
    ['no Id header', { headers: { id: undefined }, signedHeaders: 'app client date' }],
    ['a signature that does not cover date', { signedHeaders: 'app client id' }],
    ['another algorithm', { algorithm: 'hmac-sha256' }],
  ] as Array<[string, SignedTokenRequest]>)('%s is refused with 401 and a numeric code', async (_case, request) => {
    const refused = await requestToken(sandbox.url, request)

    expect(refused.status).toBe(401)
    expect(refused.body).toEqual(tokenError(expect.stringMatching(/^(001|003|007|101)$/)))
  })

  test('a header changed after signing fails the signature check', async () => {
    // Sign one Id, send another: the signing string the sandbox rebuilds no longer matches.
    const { privateKey } = keys
    const date = new Date().toUTCString()
    const signature = createSign('RSA-SHA256')
      .update(`app: AIS\nclient: ${CLIENT_ID}\nid: original\ndate: ${date}`)
      .sign(privateKey, 'base64')

    const refused = await fetch(`${sandbox.url}${S}/authorize/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        app: 'AIS',
        client: CLIENT_ID,
        id: '434',
        date,
        authorization: `Signature keyId="${KEY_ID}",algorithm="SHA256withRSA",headers="app client id date",signature="${signature}"`,
      },
      body: 'grant_type=client_credentials',
    })

    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { code: string }).code).toBe('003')
  })

  test('a Date more than 5 minutes off the sandbox clock is refused, also after the clock moves', async () => {
    const stale = await requestToken(sandbox.url, { date: new Date(Date.now() - 6 * 60_000) })
    const slightlyOff = await requestToken(sandbox.url, { date: new Date(Date.now() + 4 * 60_000) })
    const unparsable = await requestToken(sandbox.url, { headers: { date: 'yesterday' } })
    await worldline.advanceSeconds(3600)
    const realTime = await requestToken(sandbox.url, { date: new Date() })
    const sandboxTime = await requestToken(sandbox.url, { date: await worldline.sandboxNow() })

    expect(stale.status).toBe(401)
    expect(stale.body.code).toMatch(/^(001|003|007|101)$/)
    expect(slightlyOff.status).toBe(200)
    expect(unparsable.body.code).toMatch(/^(001|003|007|101)$/)
    expect(realTime.body.code).toMatch(/^(001|003|007|101)$/)
    expect(sandboxTime.status).toBe(200)
  })

  test('issued tokens expire on the sandbox clock; the static token never does', async () => {
    const issued = await requestToken(sandbox.url)
    const withToken = new WorldlineClient(sandbox.url, issued.body.access_token as string)

    await worldline.advanceSeconds(3590)
    const beforeExpiry = await withToken.accounts()
    await worldline.advanceSeconds(20)
    const afterExpiry = await withToken.accounts()
    await worldline.advanceSeconds(365 * 24 * 3600)
    const staticToken = await worldline.accounts()

    // 400 code 122 (The PSU consent is not valid): the token is good, there is just no consent yet.
    expect(beforeExpiry.status).toBe(400)
    // Open Banking PIS v3.6.0's error table (shared by AIS): 403 017 "Initiating party access token is expired".
    expect(afterExpiry.status).toBe(403)
    expect(afterExpiry.body).toEqual({ Code: '017', Message: 'Initiating party access token is expired' })
    expect(staticToken.status).toBe(400)
  })

  describe('with no registered client', () => {
    let open: WorldlineSandbox

    beforeAll(async () => {
      open = await startWorldlineSandbox()
    })

    afterAll(async () => {
      await open?.close()
    })

    test('any signature is accepted, but the headers and a Signature are still required', async () => {
      const anyKey = await requestToken(open.url, { privateKey: rotatedKeys.privateKey, keyId: 'whatever' })
      const noClient = await requestToken(open.url, { headers: { client: undefined }, signedHeaders: 'app id date' })
      const bearer = await fetch(`${open.url}${S}/authorize/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          app: 'AIS',
          client: 'c',
          id: '1',
          date: new Date().toUTCString(),
          authorization: 'Bearer something',
        },
        body: 'grant_type=client_credentials',
      })

      expect(anyKey.status).toBe(200)
      expect(noClient.body.code).toMatch(/^(001|003|007|101)$/)
      expect(bearer.status).toBe(401)
      // No static token unless configured.
      expect((await new WorldlineClient(open.url).accounts()).status).toBe(401)
    })
  })
})

describe('AIS call headers', () => {
  test('X-Request-ID is echoed and every answer is dated by the sandbox clock', async () => {
    await worldline.setClock(NOON)
    const requestId = randomUUID()

    const created = await worldline.create({ headers: { 'x-request-id': requestId } })
    const refused = await worldline.create({ headers: { 'x-request-id': requestId }, body: { AspspId: 'nope' } })

    expect(created.headers.get('x-request-id')).toBe(requestId)
    expect(refused.headers.get('x-request-id')).toBe(requestId)
    const dated = Date.parse(created.headers.get('date') ?? '')
    expect(Math.abs(dated - Date.parse(NOON))).toBeLessThan(60_000)
  })

  test('no token, an unknown token and a malformed Authorization are 401 code "021" (Unauthorized)', async () => {
    const none = await worldline.call('GET', `${A}/psus/psu-1/aspsps/20101/accounts`, {
      headers: { authorization: '' },
    })
    const unknown = await new WorldlineClient(sandbox.url, 'not-a-token').accounts()
    const basic = await worldline.call('GET', `${A}/psus/psu-1/aspsps/20101/accounts`, {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    })

    for (const answer of [none, unknown, basic]) {
      expect(answer.status).toBe(401)
      expect(answer.body).toEqual({ Code: '021', Message: expect.any(String) })
      expect(answer.headers.get('www-authenticate')).toBe('Bearer')
    }
  })

  test.each([
    ['no X-Request-ID', { 'x-request-id': '' }],
    ['an X-Request-ID that is not a UUID', { 'x-request-id': 'req-1' }],
    ['no MessageCreateDateTime', { messagecreatedatetime: '' }],
    ['a MessageCreateDateTime that is not ISO-8601', { messagecreatedatetime: 'Mon, 01 Jan 2030 10:00:00 GMT' }],
  ])('%s is 400 code "002" (not as the schema defines it)', async (_case, headers) => {
    const answer = await worldline.create({ headers })

    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({ Code: '002', Message: expect.any(String) })
  })

  test('malformed JSON is 400 code "002"; an unknown path is 404 code "110" (Resource could not be found)', async () => {
    const malformed = await worldline.call('POST', `${A}/psus/psu-1/consents`, { body: '{"AspspId": ' })
    const unknown = await worldline.call('GET', `${A}/psus/psu-1/consents`)

    expect(malformed.status).toBe(400)
    expect(malformed.body.Code).toBe('002')
    expect(unknown.status).toBe(404)
    expect(unknown.body.Code).toBe('110')
  })
})

describe('ASPSP directory', () => {
  const directory = (headers: Record<string, string> = {}) =>
    worldline.call('GET', `${S}/directory/v3/aspsps?allDetails=true`, { headers: { service: 'AIS', ...headers } })

  test('lists the three sandbox banks with the documented entry fields', async () => {
    const listed = await directory()

    expect(listed.status).toBe(200)
    expect(listed.body.Service).toBe('AIS')
    expect(listed.body.ASPSP.map((aspsp: { AspspId: string }) => aspsp.AspspId)).toEqual(['20101', '20116', '20102'])
    for (const aspsp of listed.body.ASPSP) {
      expect(Object.keys(aspsp).sort()).toEqual([
        'AspspId',
        'BIC',
        'CategoryLabel',
        'Country',
        'Details',
        'Name',
        'Options',
      ])
      expect(aspsp.Name).toEqual([{ Label: expect.any(String), Language: 'en' }])
      expect(aspsp.Country).toMatch(/^[A-Z]{2}$/)
    }
    const download = listed.body.ASPSP.find((aspsp: { AspspId: string }) => aspsp.AspspId === '20102')
    expect(download.Details).toContainEqual(expect.objectContaining({ Fieldname: 'dl', Type: 'MANDATORY' }))
  })

  test('needs the Bearer token and Service: AIS', async () => {
    const noToken = await directory({ authorization: '' })
    const noService = await directory({ service: '' })
    const pis = await directory({ service: 'PIS' })

    expect(noToken.status).toBe(401)
    expect(noService.status).toBe(400)
    expect(pis.status).toBe(400)
  })
})
