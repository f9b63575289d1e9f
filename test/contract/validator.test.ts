// The contract harness itself: it must find violations where there are some (a bad body, an unpublished call, a
// missing field), pass a good exchange, and record what crosses the proxy byte for byte, so no contract test can pass
// by validating nothing.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toJsonSchema } from '../../scripts/json-schema.ts'
import { startRecordingProxy, startRecordingReceiver, type Recorder } from './support/recording-proxy.ts'
import { ContractTally, ContractValidator, type Exchange } from './support/validate.ts'

const TOKEN_PATH = '/xs2a/routingservice/services/authorize/token'
const CONSENTS_PATH = '/xs2a/routingservice/services/ob/ais/v3/psus/{psuId}/consents'

const tokenRequest = {
  method: 'POST',
  path: TOKEN_PATH,
  query: {},
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: 'Signature keyId="k",algorithm="rsa-sha256",headers="app client id date",signature="c2ln"',
    app: 'AIS',
    client: 'gateway',
    id: '433:5',
    date: '2026-12-06T05:00:00.000Z',
  },
  requestBody: { grant_type: 'client_credentials' },
} as const

const worldline = () =>
  new ContractValidator({
    provider: 'worldline',
    unpublished: [{ method: 'POST', path: CONSENTS_PATH, reason: 'Worldline publishes no AIS spec' }],
    errorModel: 'error-model.json',
  })

describe('the contract validator', () => {
  it('passes an answer the published schema allows, and counts it', () => {
    const result = worldline().validate({
      ...tokenRequest,
      status: 200,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: { access_token: 'abc', token_type: 'Bearer', expires_in: 3600 },
    })
    expect(result).toEqual({ requestValidated: true, answerValidated: true, violations: [] })
  })

  it('names each fault of a known-bad body in a readable line', () => {
    const { violations } = worldline().validate({
      ...tokenRequest,
      status: 401,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: { code: 'PERMISSIONS_INVALID', message: 'no' },
    })
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^POST \/xs2a\/.*\/token -> 401: answer body: \/code must match pattern .*"PERMISSIONS_INVALID"/,
        ),
        expect.stringMatching(/answer body: \(root\) must have required property 'MessageId'/),
      ]),
    )
  })

  it('reads a spec pattern as the whole value (the documents derive from XML Schema), not as "contains"', () => {
    const { violations } = worldline().validate({
      ...tokenRequest,
      status: 401,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: {
        code: 'NOTIFICATION_VERSION_2',
        message: 'no',
        MessageId: 'm-1',
        MessageCreateDateTime: '2026-12-06T05:00:00Z',
      },
    })
    expect(violations).toEqual([expect.stringContaining('/code must match pattern')])
  })

  it('checks the request too: a missing required header and a wrong form are violations', () => {
    const { violations } = worldline().validate({
      ...tokenRequest,
      headers: { ...tokenRequest.headers, id: undefined as unknown as string },
      requestBody: { grant: 'client_credentials' },
      status: 200,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: { access_token: 'abc', token_type: 'Bearer', expires_in: 3600 },
    })
    expect(violations).toEqual([
      'POST /xs2a/routingservice/services/authorize/token: the header parameter Id is required and missing',
      'POST /xs2a/routingservice/services/authorize/token: request body: (root) must have required property \'grant_type\' {"missingProperty":"grant_type"}, got {"grant":"client_credentials"}',
    ])
  })

  it('calls an exchange no published operation covers a violation, unless its path is listed as unpublished', () => {
    const validator = worldline()
    const unknown = validator.validate({
      method: 'GET',
      path: '/xs2a/routingservice/services/ob/ais/v3/invented',
      query: {},
      headers: {},
      requestBody: undefined,
      status: 200,
      responseHeaders: {},
      responseBody: { ok: true },
    })
    expect(unknown).toEqual({
      requestValidated: false,
      answerValidated: false,
      violations: [
        'GET /xs2a/routingservice/services/ob/ais/v3/invented -> 200: no published operation matches GET /xs2a/routingservice/services/ob/ais/v3/invented',
      ],
    })
    const listed = { ...unknown, method: 'POST', path: '/xs2a/routingservice/services/ob/ais/v3/psus/p-1/consents' }
    const created = validator.validate({ ...(listed as unknown as Exchange), status: 201, responseBody: {} })
    expect(created).toEqual({ requestValidated: false, answerValidated: false, violations: [] })
  })

  it("holds an unpublished path's error answers to the error model, headers included", () => {
    const result = worldline().validate({
      method: 'POST',
      path: '/xs2a/routingservice/services/ob/ais/v3/psus/p-1/consents',
      query: {},
      headers: {},
      requestBody: undefined,
      status: 404,
      responseHeaders: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
      responseBody: { Code: 'ASPSP_UNKNOWN', Message: 'unknown bank', Extra: 1 },
    })
    expect(result.answerValidated).toBe(true)
    expect(result.violations).toEqual(
      expect.arrayContaining([
        expect.stringContaining("the answer's MessageCreateDateTime header is required and missing"),
        expect.stringContaining('/Code must match pattern'),
        expect.stringContaining('must NOT have additional properties {"additionalProperty":"Extra"}'),
      ]),
    )
  })

  it('validates a notification as the request of the published notification operation', () => {
    const validator = new ContractValidator({
      provider: 'worldline',
      mounts: { 'notification.json': '/hooks/worldline/v3/notification' },
    })
    const base = {
      method: 'POST',
      path: '/hooks/worldline/v3/notification/status',
      query: {},
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-1', messagecreatedatetime: 'yesterday' },
      status: 204,
      responseHeaders: {},
      responseBody: undefined,
    }
    expect(validator.validateRequest({ ...base, requestBody: { ConsentStatus: 'Authorised' } })).toEqual(
      expect.arrayContaining([
        expect.stringContaining('header MessageCreateDateTime: (root) must match format "date-time"'),
        expect.stringContaining("request body: (root) must have required property 'ConsentId'"),
      ]),
    )
    expect(
      validator.validateRequest({
        ...base,
        headers: { ...base.headers, messagecreatedatetime: '2026-12-06T05:00:00Z' },
        requestBody: { ConsentId: 'c-1', ConsentStatus: 'Authorised', ValidUntilDate: '2027-06-01T23:59:59Z' },
      }),
    ).toEqual([])
  })

  it("holds a Yapily answer to the published operation's schema (path templates, the JSON media type's charset)", () => {
    const validator = new ContractValidator({ provider: 'yapily' })
    const exchange: Exchange = {
      method: 'GET',
      path: '/consents/0b6c2c1e-4a1f-4f0e-9a57-6f1c1e2d3a4b',
      query: {},
      headers: {},
      requestBody: undefined,
      status: 200,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: { data: { id: '0b6c2c1e-4a1f-4f0e-9a57-6f1c1e2d3a4b', status: 'AUTHORIZED', reconfirmBy: null } },
    }
    const result = validator.validate(exchange)
    expect(result.requestValidated && result.answerValidated).toBe(true)
    expect(result.violations).toEqual([
      'GET /consents/0b6c2c1e-4a1f-4f0e-9a57-6f1c1e2d3a4b -> 200: answer body: /data/reconfirmBy must be string {"type":"string"}, got null',
    ])
    expect(validator.validate({ ...exchange, path: '/consents/not-a-uuid' }).violations).toEqual([
      expect.stringContaining('path consentId: (root) must match format "uuid"'),
      expect.anything(),
    ])
  })

  it("converts OpenAPI 3.0's nullable to a null type and Swagger 2.0's definitions refs to $defs", () => {
    expect(
      toJsonSchema({ type: 'string', enum: ['A'], nullable: true }, { refPrefix: '#/components/schemas/' }),
    ).toEqual({ type: ['string', 'null'], enum: ['A', null] })
    expect(
      toJsonSchema({ allOf: [{ $ref: '#/definitions/X' }], nullable: true }, { refPrefix: '#/definitions/' }),
    ).toEqual({
      anyOf: [{ allOf: [{ $ref: '#/$defs/X' }] }, { type: 'null' }],
    })
  })

  it('tallies requests, answers and violations into the printed line', () => {
    const tally = new ContractTally()
    tally.add({ requestValidated: true, answerValidated: true, violations: [] })
    tally.add({ requestValidated: false, answerValidated: true, violations: ['x'] })
    tally.addNotification([])
    expect(tally.line('demo')).toBe('contract demo: 1 requests, 3 answers validated, 1 violations')
  })
})

describe('the recording proxy', () => {
  let upstream: ReturnType<typeof createServer>
  let proxy: Recorder
  let receiver: Recorder

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        response.writeHead(201, { 'content-type': 'application/json', 'x-seen': request.headers['x-probe'] ?? '' })
        response.end(JSON.stringify({ echoed: Buffer.concat(chunks).toString('utf8'), url: request.url }))
      })
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    proxy = await startRecordingProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`)
    receiver = await startRecordingReceiver()
  })

  afterAll(async () => {
    await proxy.close()
    await receiver.close()
    await new Promise((resolve) => upstream.close(resolve))
  })

  it('forwards unchanged and records request and answer, bodies parsed by content type', async () => {
    const answer = await fetch(`${proxy.url}/a/b?x=1&y=2&y=3`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-probe': 'p' },
      body: 'grant_type=client_credentials',
    })
    expect(answer.status).toBe(201)
    expect(answer.headers.get('x-seen')).toBe('p')
    expect(await answer.json()).toEqual({ echoed: 'grant_type=client_credentials', url: '/a/b?x=1&y=2&y=3' })
    expect(proxy.exchanges).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/a/b',
        query: { x: '1', y: ['2', '3'] },
        requestBody: { grant_type: 'client_credentials' },
        status: 201,
        responseBody: { echoed: 'grant_type=client_credentials', url: '/a/b?x=1&y=2&y=3' },
      }),
    ])
    expect(proxy.exchanges[0]?.headers['x-probe']).toBe('p')
  })

  it('receives and records what a simulator sends on its own, answering 204', async () => {
    const answer = await fetch(`${receiver.url}/notification/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ConsentId: 'c-1' }),
    })
    expect(answer.status).toBe(204)
    expect(receiver.exchanges).toEqual([
      expect.objectContaining({ method: 'POST', path: '/notification/status', requestBody: { ConsentId: 'c-1' } }),
    ])
  })
})
