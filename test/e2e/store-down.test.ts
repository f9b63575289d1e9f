// e2e: the store down. Every answer is typed and retryable (503 with Retry-After before GraphQL runs and on the
// provider routes, SERVICE_UNAVAILABLE inside GraphQL results), none carries a stack or internal text, /healthz says
// so, the log gets one line per failure kind per interval instead of one per request, and all of it comes back when
// the store does. Through the node:http server and the Lambda handlers alike, on a DynamoDB Local of this file's own
// that the test stops (and starts again on the same port and data).
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { encodePublicId } from '../../domain/ids.ts'
import { startDynamoDBLocal, type DynamoDBLocal } from '../../local/dynamodb-local.ts'
import { startGatewayHttpServer, type GatewayHttpServer } from '../../local/http-server.ts'
import { createGraphQLServer, graphQLServicesOf } from '../../schema/server.ts'
import { createGateway, type Gateway } from '../../composition/gateway.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { createDocumentClient, createDynamoClient } from '../../store/client.ts'
import { ensureTable } from '../../store/table-admin.ts'
// @ts-expect-error plain JavaScript without types: the stand-in Lambda runtime
import { eventOf, installAwslambda, invoke } from '../../scripts/lambda-runtime.mjs'
import { aGatewayConfig } from '../support/fixtures.ts'
import type { Logger } from '../../runtime/logging.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'consent-gateway-store-down-'))
const TABLE_NAME = 'store-down'
const TENANT = '01JD0TENANTSTOREDOWN000000'
const WARM = { id: 'client-warm', secret: 'secret-warm-0123456789abcdef' }
const COLD = { id: 'client-cold', secret: 'secret-cold-0123456789abcdef' }
const LAMBDA_WARM = { id: 'client-lambda', secret: 'secret-lambda-0123456789abcdef' }
const WORLDLINE_TOKEN = 'worldline-notification-token'
const basic = (client: { id: string; secret: string }) =>
  `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`

/** What must never reach a client: stacks, socket errors, SDK and file names. */
const INTERNAL = /ECONNREFUSED|ECONNRESET|socket|\bat\s+\S+\s*\(|node_modules|\.ts:\d|Error:|dynamodb|127\.0\.0\.1:\d/i

const logLines: { level: string; message: string; extra?: Record<string, unknown> }[] = []
const recordingLogger: Logger = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as const).map((level) => [
    level,
    (message: string, extra?: Record<string, unknown>) =>
      logLines.push({ level, message, ...(extra ? { extra } : {}) }),
  ]),
) as unknown as Logger

let dynamo: DynamoDBLocal
let gateway: Gateway
let http: GatewayHttpServer
let lambda: {
  graphql: unknown
  publicApi: unknown
}
let callbackPath: string

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

async function overHttp(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${http.url}${path}`, init)
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() }
}

async function overLambda(
  handler: unknown,
  request: { method: string; path: string; query?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  let status = 0
  let headers: Record<string, string> = {}
  const chunks: Buffer[] = []
  await invoke(
    handler,
    eventOf({ ...request, body: request.body === undefined ? null : Buffer.from(request.body) }),
    10_000,
    {
      onHead: (code: number, head: Record<string, string>) => {
        status = code
        headers = Object.fromEntries(Object.entries(head).map(([name, value]) => [name.toLowerCase(), value]))
      },
      onChunk: (bytes: Buffer) => chunks.push(bytes),
    },
  )
  return { status, headers, body: Buffer.concat(chunks).toString('utf8') }
}

const graphqlPost = (authorization: string, query: string, variables?: Record<string, unknown>) => {
  const body = JSON.stringify({ query, ...(variables ? { variables } : {}) })
  return {
    method: 'POST',
    headers: {
      authorization,
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  }
}

const CONSENT = `query ($id: ID!) { consent(id: $id) { __typename ... on Error { code } } }`
const REVOKE = `mutation ($id: ID!) {
  revokeConsent(id: $id) { __typename ... on Error { code message retryable } }
}`
const someConsentId = () => encodePublicId('Consent', ulid())

function expectNothingInternal(answer: Answer) {
  expect(answer.body).not.toMatch(INTERNAL)
  expect(JSON.stringify(answer.headers)).not.toMatch(INTERNAL)
}

function expectRetryLater(answer: Answer, status = 503) {
  expect(answer.status).toBe(status)
  expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1)
  expectNothingInternal(answer)
}

function expectServiceUnavailableBody(answer: Answer) {
  const body = JSON.parse(answer.body) as { errors: { extensions: Record<string, unknown> }[] }
  expect(body.errors[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true })
}

beforeAll(async () => {
  dynamo = await startDynamoDBLocal({ dbPath: dataDir })
  const client = createDynamoClient({ endpoint: dynamo.endpoint })
  await ensureTable(client, TABLE_NAME)
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const tokenEncryptionKeys = `k1:${randomBytes(32).toString('base64')}`
  const unreachable = 'http://127.0.0.1:9'
  const config = aGatewayConfig(
    { tableName: TABLE_NAME, endpoint: dynamo.endpoint },
    {
      tokenEncryptionKeys,
      providers: {
        worldline: {
          baseUrl: unreachable,
          clientId: 'wl-client',
          keyId: 'wl-key',
          initiatingPartyId: '433',
          privateKeyPem,
          notificationToken: WORLDLINE_TOKEN,
        },
        yapily: { baseUrl: unreachable, applicationKey: 'app-key', applicationSecret: 'app-secret' },
      },
    },
  )
  gateway = createGateway(config, { db: createDocumentClient(client), logger: recordingLogger })
  for (const credentials of [WARM, COLD, LAMBDA_WARM]) {
    await provisionApiClient(
      gateway.access,
      { tenantId: TENANT, tenantName: 'Store down', clientId: credentials.id, clientSecret: credentials.secret },
      new Date(),
    )
  }
  const yoga = createGraphQLServer({
    services: graphQLServicesOf(gateway),
    authenticator: gateway.authenticator,
    logger: gateway.logger,
  })
  http = await startGatewayHttpServer(gateway, yoga)
  callbackPath = new URL(gateway.callbackLinks.urlFor('YAPILY', { tenantId: TENANT, consentId: ulid() })).pathname

  // The Lambda functions read their configuration from the environment at import, as on AWS.
  Object.assign(process.env, {
    TABLE_NAME,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    PUBLIC_BASE_URL: config.publicBaseUrl,
    CURSOR_SECRET: config.cursorSecret,
    USER_REFERENCE_KEY: 'test-user-reference-key-0123456789abcdef',
    LOCAL_MODE: 'true',
    WORLDLINE_BASE_URL: unreachable,
    WORLDLINE_CLIENT_ID: 'wl-client',
    WORLDLINE_KEY_ID: 'wl-key',
    WORLDLINE_INITIATING_PARTY_ID: '433',
    WORLDLINE_PRIVATE_KEY: privateKeyPem,
    WORLDLINE_NOTIFICATION_TOKEN: WORLDLINE_TOKEN,
    YAPILY_BASE_URL: unreachable,
    YAPILY_APPLICATION_KEY: 'app-key',
    YAPILY_APPLICATION_SECRET: 'app-secret',
    TOKEN_ENCRYPTION_KEYS: tokenEncryptionKeys,
  })
  installAwslambda()
  lambda = {
    graphql: (await import('../../functions/graphql.ts')).handler,
    publicApi: (await import('../../functions/public-api.ts')).handler,
  }

  // The warm clients are verified (and cached) while the store is up.
  const warm = await overHttp('/graphql', graphqlPost(basic(WARM), '{ __typename }'))
  expect(warm.status).toBe(200)
  const lambdaWarm = await overLambda(lambda.graphql, {
    path: '/graphql',
    ...graphqlPost(basic(LAMBDA_WARM), '{ __typename }'),
  })
  expect(lambdaWarm.status).toBe(200)
  expect((await overHttp('/healthz')).status).toBe(200)

  await dynamo.stop()
}, 90_000)

afterAll(async () => {
  await http?.close()
  await dynamo?.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('authentication while the store is down', () => {
  it.each([
    ['an unknown client id', { id: 'client-nobody', secret: 'secret-nobody-0123456789abcdef' }],
    ['a known client not verified yet', COLD],
    ['a known client with a wrong secret', { id: WARM.id, secret: 'wrong-secret-0123456789abcdef' }],
  ])('answers %s with 503, Retry-After and SERVICE_UNAVAILABLE, over node:http and Lambda', async (_name, client) => {
    const request = graphqlPost(basic(client), '{ __typename }')
    for (const answer of [
      await overHttp('/graphql', request),
      await overLambda(lambda.graphql, { path: '/graphql', ...request }),
    ]) {
      expectRetryLater(answer)
      expectServiceUnavailableBody(answer)
    }
  })

  it('still answers no credentials at all with 401 (nothing to look up)', async () => {
    const answer = await overHttp('/graphql', graphqlPost('', '{ __typename }'))
    expect(answer.status).toBe(401)
    expectNothingInternal(answer)
  })
})

describe('authenticated requests while the store is down', () => {
  it('get SERVICE_UNAVAILABLE as a typed, retryable top-level error for a query', async () => {
    for (const [answer] of [
      [await overHttp('/graphql', graphqlPost(basic(WARM), CONSENT, { id: someConsentId() }))],
      [
        await overLambda(lambda.graphql, {
          path: '/graphql',
          ...graphqlPost(basic(LAMBDA_WARM), CONSENT, { id: someConsentId() }),
        }),
      ],
    ] as const) {
      expectNothingInternal(answer)
      const body = JSON.parse(answer.body) as { errors?: { message: string; extensions: Record<string, unknown> }[] }
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true })
    }
  })

  it('get the ServiceUnavailableError member of a mutation result union', async () => {
    const answer = await overHttp('/graphql', graphqlPost(basic(WARM), REVOKE, { id: someConsentId() }))
    expectNothingInternal(answer)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({
      data: {
        revokeConsent: {
          __typename: 'ServiceUnavailableError',
          code: 'SERVICE_UNAVAILABLE',
          message: expect.any(String),
          retryable: true,
        },
      },
      extensions: { cost: { requested: expect.any(Number) as unknown, limit: 5000 } },
    })
  })
})

describe('provider routes while the store is down', () => {
  const notification = () => {
    const body = JSON.stringify({ ConsentId: `wl-${ulid()}`, ConsentStatus: 'valid' })
    return {
      method: 'POST',
      path: '/webhooks/worldline/v2/notification/status',
      headers: {
        authorization: `Bearer ${WORLDLINE_TOKEN}`,
        'x-request-id': ulid(),
        messagecreatedatetime: new Date().toISOString(),
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    }
  }

  it('answers a provider notification 503 with Retry-After, over node:http and Lambda', async () => {
    const { path, ...init } = notification()
    expectRetryLater(await overHttp(path, init))
    expectRetryLater(await overLambda(lambda.publicApi, notification()))
  })

  it("answers the user's browser back from the provider 503 with Retry-After, over node:http and Lambda", async () => {
    expectRetryLater(await overHttp(callbackPath))
    expectRetryLater(await overLambda(lambda.publicApi, { method: 'GET', path: callbackPath }))
  })
})

describe('operators while the store is down', () => {
  it('/healthz answers 503 with Retry-After and names the store, nothing more', async () => {
    // Its answer is kept a few seconds (the last probe ran just before the store stopped).
    await vi.waitFor(async () => expect((await overHttp('/healthz')).status).toBe(503), {
      timeout: 15_000,
      interval: 250,
    })
    const answer = await overHttp('/healthz')
    expectRetryLater(answer)
    expect(JSON.parse(answer.body)).toEqual({ status: 'unavailable', store: 'unavailable' })
  })

  it('logs one line per failure kind per interval, with a count, instead of one stack per request', async () => {
    const before = logLines.length
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? overHttp('/graphql', graphqlPost(basic({ id: `client-${i}`, secret: 'x'.repeat(20) }), '{ __typename }'))
          : overHttp('/graphql', graphqlPost(basic(WARM), CONSENT, { id: someConsentId() })),
      ),
    )
    expect(answers.every((answer) => !INTERNAL.test(answer.body))).toBe(true)
    const lines = logLines.slice(before)
    // No line per request, and none with a stack.
    expect(lines.length).toBeLessThan(5)
    expect(JSON.stringify(lines)).not.toMatch(/\bat\s+\S+\s*\(/)
    // What was held back is counted in the next line of its kind.
    gateway.failureLog.flush()
    const counted = logLines
      .slice(before)
      .filter((line) => line.message === 'store unavailable')
      .reduce((sum, line) => sum + Number(line.extra?.count ?? 0), 0)
    // Every failed store call is counted: each unknown client's read fails on its own (20); the warm requests share
    // concurrent reads (their tenant's request limits are loaded once for all who wait on them).
    expect(counted).toBeGreaterThanOrEqual(21)
  })
})

describe('when the store is back', () => {
  it('/healthz answers 200 again and requests succeed', async () => {
    dynamo = await startDynamoDBLocal({ dbPath: dataDir, port: dynamo.port })
    await vi.waitFor(async () => expect((await overHttp('/healthz')).status).toBe(200), {
      timeout: 20_000,
      interval: 250,
    })
    expect(JSON.parse((await overHttp('/healthz')).body)).toEqual({ status: 'ok', store: 'ok' })
    const answer = await overHttp('/graphql', graphqlPost(basic(COLD), CONSENT, { id: someConsentId() }))
    expect(JSON.parse(answer.body)).toEqual({
      data: { consent: { __typename: 'ConsentNotFoundError', code: 'CONSENT_NOT_FOUND' } },
      extensions: { cost: { requested: expect.any(Number) as unknown, limit: 5000 } },
    })
  }, 60_000)
})
