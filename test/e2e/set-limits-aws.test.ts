// e2e: `npm run admin -- set-limits` on a deployed stage, as under `npx sst shell`: the linked table (DynamoDB Local
// here) and the linked REST API stage, whose control API is a local HTTP server standing in for API Gateway (the SDK's
// own endpoint variable points it there). The first call makes the tenant's usage plan on the stage and its key, then
// records both on the tenant with the log entry; the next changes the plan in place; a failure halfway removes what
// it made and changes nothing; a stage without a linked REST API is refused.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { provisionApiClient } from '../../service/tenants.ts'
import { AccessRepository } from '../../store/access-repository.ts'
import { runAdmin } from '../support/admin-cli.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'

const TENANT = { tenantId: 'tenant_01JD0LIMITSAWS00000000000', clientId: 'limits-aws', clientSecret: 's'.repeat(32) }
const STAGE = { restApiId: 'a1b2c3d4e5', stageName: 'dev' }

interface Recorded {
  readonly method: string
  readonly path: string
  readonly body: any
  readonly signed: boolean
}

let table: TestTable
let control: Server
let controlUrl: string
let recorded: Recorded[] = []
/** A call this stand-in refuses (an API Gateway failure halfway through). */
let failing: string | null = null
let plans = 0

const bodyOf = (request: IncomingMessage) =>
  new Promise<string>((done) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => done(body))
  })

beforeAll(async () => {
  table = await createTestTable()
  await provisionApiClient(
    new AccessRepository(table.db, table.tableName),
    { ...TENANT, tenantName: 'On AWS' },
    new Date(),
  )
  // API Gateway's control API (REST, JSON), as much of it as usage plans need.
  control = createServer((request, response) => {
    void bodyOf(request).then((text) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname
      const body = text ? JSON.parse(text) : null
      recorded.push({
        method: request.method ?? '',
        path,
        body,
        signed: /^AWS4-HMAC-SHA256 /.test(String(request.headers.authorization)),
      })
      const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers })
        response.end(JSON.stringify(json))
      }
      // Refused, not failed: the SDK would retry a 500 (three times), and the test is about what happens next.
      if (failing === `${request.method} ${path}`)
        return answer(400, { message: 'Refused' }, { 'x-amzn-errortype': 'BadRequestException' })
      if (request.method === 'POST' && path === '/usageplans') return answer(201, { id: `plan${++plans}`, ...body })
      if (request.method === 'POST' && path === '/apikeys') return answer(201, { id: `key${plans}`, ...body })
      if (request.method === 'POST' && /^\/usageplans\/[^/]+\/keys$/.test(path))
        return answer(201, { id: body.keyId, type: body.keyType })
      if (request.method === 'PATCH' && path.startsWith('/usageplans/')) return answer(200, { id: path.split('/')[2] })
      if (request.method === 'DELETE') return answer(202, {})
      return answer(404, { message: 'Not found' })
    })
  })
  await new Promise<void>((listening) => control.listen(0, '127.0.0.1', listening))
  const address = control.address()
  controlUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})
afterAll(async () => {
  await new Promise<void>((closed) => control?.close(() => closed()))
  table?.db.destroy()
})
beforeEach(() => {
  recorded = []
  failing = null
})

/** `npx sst shell --stage dev -- npm run admin -- ...`'s environment, every AWS endpoint a local one. */
function shell(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(env)) if (/^(SST_|AWS_)|^TABLE_NAME$|^DYNAMODB_ENDPOINT$/.test(name)) delete env[name]
  return {
    ...env,
    SST_RESOURCE_App: JSON.stringify({ name: 'consent-gateway', stage: 'dev' }),
    SST_RESOURCE_Table: JSON.stringify({ name: table.tableName, type: 'sst.aws.Dynamo' }),
    SST_RESOURCE_GatewayStage: JSON.stringify(STAGE),
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIDLIMITSTEST',
    AWS_SECRET_ACCESS_KEY: 'limits-test-secret',
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    AWS_ENDPOINT_URL_API_GATEWAY: controlUrl,
    // No STS here: the log says the identity was unavailable, as it does offline.
    AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9',
    ...extra,
  }
}

const admin = (args: string[], env = shell()) => runAdmin(args, env)

const setLimits = (rate: string, burst: string, quota: string, env?: NodeJS.ProcessEnv) =>
  admin(['set-limits', '--tenant', TENANT.tenantId, '--rate', rate, '--burst', burst, '--quota', quota, '--json'], env)

const tenantItem = async () => new AccessRepository(table.db, table.tableName).tenants.get(TENANT.tenantId)

describe('set-limits on a deployed stage', () => {
  it("makes the tenant's usage plan on the linked stage with its key, and records both on the tenant", async () => {
    // Act
    const run = await setLimits('20', '40', '100000')

    // Assess
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(recorded.every((call) => call.signed)).toBe(true)
    expect(recorded.map(({ method, path }) => `${method} ${path}`)).toEqual([
      'POST /usageplans',
      'POST /apikeys',
      'POST /usageplans/plan1/keys',
    ])
    expect(recorded[0]?.body).toMatchObject({
      apiStages: [{ apiId: STAGE.restApiId, stage: STAGE.stageName }],
      throttle: { rateLimit: 20, burstLimit: 40 },
      quota: { limit: 100000, period: 'DAY' },
    })
    const keyValue = recorded[1]?.body.value as string
    expect(keyValue).toMatch(/^[A-Za-z0-9_-]{40,128}$/)
    expect(recorded[2]?.body).toEqual({ keyId: 'key1', keyType: 'API_KEY' })
    expect(JSON.parse(run.stdout)).toMatchObject({
      rateLimits: { rate: 20, burst: 40, quotaPerDay: 100000 },
      usagePlanId: 'plan1',
    })
    // The key's value is what the authorizer names; it is never printed.
    expect(run.stdout).not.toContain(keyValue)
    expect(await tenantItem()).toMatchObject({
      rateLimits: { rate: 20, burst: 40, quotaPerDay: 100000 },
      usagePlan: { usagePlanId: 'plan1', apiKeyId: 'key1', apiKeyValue: keyValue },
    })
    const log = JSON.parse((await admin(['list-log', '--tenant', TENANT.tenantId, '--json'])).stdout).entries
    expect(log[0]).toMatchObject({
      action: 'set-limits',
      details: { rate: 20, burst: 40, quotaPerDay: 100000, usagePlanId: 'plan1' },
    })
  }, 60_000)

  it('changes the same plan in place the next time', async () => {
    // Act
    const run = await setLimits('5.5', '10', '2000')

    // Assess
    expect(run.code).toBe(0)
    expect(recorded.map(({ method, path }) => `${method} ${path}`)).toEqual(['PATCH /usageplans/plan1'])
    expect(recorded[0]?.body.patchOperations).toEqual([
      { op: 'replace', path: '/throttle/rateLimit', value: '5.5' },
      { op: 'replace', path: '/throttle/burstLimit', value: '10' },
      { op: 'replace', path: '/quota/limit', value: '2000' },
      { op: 'replace', path: '/quota/period', value: 'DAY' },
    ])
    expect((await tenantItem())?.usagePlan?.usagePlanId).toBe('plan1')
    expect((await tenantItem())?.rateLimits).toEqual({ rate: 5.5, burst: 10, quotaPerDay: 2000 })
  }, 60_000)

  it('removes what it made when API Gateway fails halfway, and changes nothing (exit 1)', async () => {
    // Prepare: a tenant without a plan yet.
    const other = {
      tenantId: 'tenant_01JD0LIMITSAWS0000000000B',
      clientId: 'limits-aws-b',
      clientSecret: 't'.repeat(32),
    }
    await provisionApiClient(new AccessRepository(table.db, table.tableName), { ...other, tenantName: 'B' }, new Date())
    failing = 'POST /apikeys'

    // Act
    const run = await admin(['set-limits', '--tenant', other.tenantId, '--rate', '1', '--burst', '1', '--quota', '1'])

    // Assess
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^admin: .+\n$/)
    expect(recorded.map(({ method, path }) => `${method} ${path}`)).toEqual([
      'POST /usageplans',
      'POST /apikeys',
      'PATCH /usageplans/plan2',
      'DELETE /usageplans/plan2',
    ])
    const item = await new AccessRepository(table.db, table.tableName).tenants.get(other.tenantId)
    expect(item?.rateLimits).toBeNull()
    expect(item?.usagePlan).toBeNull()
  }, 60_000)

  it('is refused (exit 1) on a stage that links no REST API, and bad input is exit 2 before any call', async () => {
    // Act
    const unlinked = await setLimits('1', '1', '1', shell({ SST_RESOURCE_GatewayStage: '' }))
    const bad = await setLimits('-1', '1', '1')

    // Assess
    expect(unlinked.code).toBe(1)
    expect(unlinked.stderr).toMatch(/links no REST API stage/)
    expect(bad.code).toBe(2)
    expect(recorded).toEqual([])
  }, 60_000)
})
