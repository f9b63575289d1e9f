// e2e through the deployable authorizer: functions/authorizer.ts built as SST bundles it, run in its own process
// against DynamoDB Local with REST API REQUEST-authorizer events. Our credentials (Basic, a partner's bearer token, an
// end user's token) get an Allow for the whole stage and their own tenant's API key (or the stage default's); absent,
// malformed, forged, expired and other stages' credentials get Unauthorized (API Gateway's 401), never an error that
// would be a 500.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { SignJWT, importJWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFunction, type BuiltFunction } from '../../scripts/build-functions.ts'
import { configFromEnv } from '../../service/config.ts'
import { createGateway } from '../../composition/gateway.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { newSigningKey } from '../../crypto/token-keys.ts'
import { AccessRepository } from '../../store/access-repository.ts'
import { writeTogether } from '../../store/transaction.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'

const A = { tenantId: '01JD0TENANTAUTHZA000000000A', clientId: 'authz-a', clientSecret: 'authz-a-secret-0123456789' }
const B = { tenantId: '01JD0TENANTAUTHZB000000000B', clientId: 'authz-b', clientSecret: 'authz-b-secret-0123456789' }
const TENANT_A_KEY = 'tenant-a-usage-plan-key-0123456789abcdef'
const DEFAULT_KEY = 'consent-gateway-ci-default-usage-plan'
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/ci/POST/graphql'
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

let built: BuiltFunction
let table: TestTable
let env: Record<string, string>
let tokens: { partnerA: string; userA: string; partnerB: string }
const signingKey = newSigningKey()

beforeAll(async () => {
  built = await buildFunction('authorizer', 'functions/authorizer.ts', 'dist/functions-test-authorizer')
  table = await createTestTable()
  const access = new AccessRepository(table.db, table.tableName)
  for (const [client, name] of [
    [A, 'Authz A'],
    [B, 'Authz B'],
  ] as const) {
    await provisionApiClient(access, { ...client, tenantName: name }, new Date())
  }
  // Tenant A has its own usage plan (set-limits on AWS); B has none.
  await writeTogether(table.db, [
    access.tenants.setRateLimits(
      A.tenantId,
      { rate: 5, burst: 10, quotaPerDay: 1000 },
      { usagePlanId: 'plan-a', apiKeyId: 'key-a', apiKeyValue: TENANT_A_KEY },
      new Date().toISOString(),
    ),
  ])
  env = {
    TABLE_NAME: table.tableName,
    DYNAMODB_ENDPOINT: table.endpoint ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: 'SILENT',
    PUBLIC_BASE_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com/ci',
    CURSOR_SECRET: 'authz-cursor-secret-0123456789abcdef',
    USER_REFERENCE_KEY: 'authz-user-reference-key-0123456789abcdef',
    TOKEN_SIGNING_KEYS: JSON.stringify([signingKey]),
    DEFAULT_API_KEY: DEFAULT_KEY,
  }
  // Minted by a gateway built from the same environment: what /oauth/token and createUserToken would give.
  const gateway = createGateway(configFromEnv(env), { db: table.db, logger: silentLogger })
  const principal = (client: typeof A) => ({
    kind: 'API_CLIENT' as const,
    credential: 'BASIC' as const,
    tenantId: client.tenantId,
    clientId: client.clientId,
    revalidate: () => Promise.resolve(null),
  })
  tokens = {
    partnerA: (await gateway.tokens.issueForClient(principal(A))).accessToken,
    partnerB: (await gateway.tokens.issueForClient(principal(B))).accessToken,
    userA: (await gateway.tokens.issueForUser(principal(A), { userId: 'user-1', scopes: ['consents:read'] }))
      .accessToken,
  }
}, 90_000)

afterAll(() => table?.db.destroy())

interface Outcome {
  readonly result?: any
  readonly error?: string
}

/** One process, one warm container: each header in turn, as REST API REQUEST-authorizer events. */
async function authorize(headers: readonly (Record<string, string> | null)[]): Promise<Outcome[]> {
  const events = headers.map((header) => ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: '/graphql',
    path: '/graphql',
    httpMethod: 'POST',
    headers: header,
    multiValueHeaders: null,
    queryStringParameters: null,
    requestContext: { identity: { sourceIp: '203.0.113.7' }, stage: 'ci', apiId: 'abc123' },
  }))
  const script = `
    const { handler } = await import(${JSON.stringify(built.entry)})
    const out = []
    for (const event of ${JSON.stringify(events)}) {
      try { out.push({ result: await handler(event) }) } catch (error) { out.push({ error: String(error?.message) }) }
    }
    console.log(JSON.stringify(out))`
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as Outcome[]
}

const allowedWith = (key: string, tenantId: string, clientId: string, kind: string) => ({
  result: {
    principalId: clientId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/ci/*',
        },
      ],
    },
    usageIdentifierKey: key,
    context: { tenantId, clientId, principalKind: kind },
  },
})

describe('the authorizer bundle', () => {
  it("allows our credentials for the whole stage, naming their own tenant's key or the stage default", async () => {
    // Act
    const outcomes = await authorize([
      { Authorization: basic(A.clientId, A.clientSecret) },
      { authorization: `Bearer ${tokens.partnerA}` },
      { AUTHORIZATION: `Bearer ${tokens.userA}` },
      { Authorization: basic(B.clientId, B.clientSecret) },
      { Authorization: `Bearer ${tokens.partnerB}` },
    ])

    // Assess
    expect(outcomes).toEqual([
      allowedWith(TENANT_A_KEY, A.tenantId, A.clientId, 'API_CLIENT'),
      allowedWith(TENANT_A_KEY, A.tenantId, A.clientId, 'API_CLIENT'),
      allowedWith(TENANT_A_KEY, A.tenantId, A.clientId, 'END_USER'),
      // B has no plan of its own: the stage default, never A's.
      allowedWith(DEFAULT_KEY, B.tenantId, B.clientId, 'API_CLIENT'),
      allowedWith(DEFAULT_KEY, B.tenantId, B.clientId, 'API_CLIENT'),
    ])
  }, 60_000)

  it('answers Unauthorized, never an error, for absent, malformed, forged, foreign and wrong credentials', async () => {
    // Prepare: a token signed by a key of another stage, and one of ours with tenant A's id but B's client.
    const foreignKey = newSigningKey()
    const claims = {
      client_id: A.clientId,
      tenant: A.tenantId,
      scope: 'partner',
      jti: '01JD0FORGEDTOKEN0000000000',
    }
    const sign = async (key: typeof signingKey, extra: Record<string, unknown> = {}) =>
      new SignJWT({ ...claims, ...extra })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
        .setSubject(A.clientId)
        .setIssuer(env.PUBLIC_BASE_URL ?? '')
        .setAudience(`${env.PUBLIC_BASE_URL}/graphql`)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(await importJWK(key, 'ES256'))
    const [header, payload] = tokens.partnerA.split('.')
    const tampered = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())
    tampered.tenant = B.tenantId

    // Act
    const outcomes = await authorize([
      null,
      {},
      { Authorization: '' },
      { Authorization: 'Bearer' },
      { Authorization: 'Bearer not.a.token' },
      { Authorization: `Bearer ${await sign(foreignKey)}` },
      { Authorization: `Bearer ${header}.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.AAAA` },
      { Authorization: `Bearer ${await sign(signingKey, { tenant: B.tenantId, client_id: 'no-such' })}` },
      { Authorization: basic(A.clientId, 'wrong-secret-0123456789') },
      { Authorization: basic(A.clientId, B.clientSecret) },
      { Authorization: basic('no-such-client', A.clientSecret) },
      { Authorization: 'Digest username="a"' },
      { Authorization: `Basic ${'A'.repeat(5000)}` },
    ])

    // Assess
    expect(outcomes).toEqual(outcomes.map(() => ({ error: 'Unauthorized' })))
  }, 60_000)
})
