// e2e: local mode's request limits, as API Gateway's usage plans apply them on AWS: `npm run admin -- set-limits` on
// the stack's table, then tenant A's calls over HTTP answered 429 RATE_LIMITED with Retry-After and the RateLimit
// fields once its bucket or its day's quota is spent, tenant B untouched; and `extensions.cost` on every answer.
import { createClient as createWsClient } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { runAdmin, type AdminRun } from '../support/admin-cli.ts'
import { startStack, type Credentials, type Stack } from '../support/stack.ts'

const QUERY = '{ consents(first: 1) { pageInfo { hasNextPage } } }'

let stack: Stack
/** The gateway's clock: buckets refill and limits are read again only when the test moves it. */
let now = Date.parse('2026-03-02T10:00:00Z')

beforeAll(async () => {
  // Prepare
  stack = await startStack({ clock: () => new Date(now), rateLimits: { limitsCacheMs: 1_000 } })
})
afterAll(() => stack?.close())

/** `npm run admin` on the stack's table (TABLE_NAME and DYNAMODB_ENDPOINT, as an operator points it at one). */
function admin(args: string[]): Promise<AdminRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TABLE_NAME: stack.table.tableName,
    DYNAMODB_ENDPOINT: stack.table.endpoint ?? '',
  }
  for (const name of Object.keys(env)) if (/^(SST_|AWS_)/.test(name)) delete env[name]
  return runAdmin(args, env)
}

async function call(credentials: Credentials, query = QUERY) {
  const response = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: {
      authorization: stack.authorization(credentials),
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
    },
    body: JSON.stringify({ query }),
  })
  return { response, body: await response.json() }
}

const logOf = async (tenantId: string) =>
  JSON.parse((await admin(['list-log', '--tenant', tenantId, '--json'])).stdout).entries as any[]

describe('set-limits', () => {
  it('refuses bad input with exit 2 and one line, changing nothing and logging nothing', async () => {
    // Prepare
    const { tenantId } = stack.tenantA
    const cases = [
      ['set-limits', '--tenant', tenantId, '--rate', 'fast', '--burst', '5', '--quota', '10'],
      ['set-limits', '--tenant', tenantId, '--rate', '0', '--burst', '5', '--quota', '10'],
      ['set-limits', '--tenant', tenantId, '--rate', '1', '--burst', '9000', '--quota', '10'],
      ['set-limits', '--tenant', tenantId, '--rate', '1', '--burst', '5', '--quota', '0'],
      ['set-limits', '--tenant', tenantId, '--rate', '1', '--burst', '5'],
      ['set-limits', '--tenant', 'tenant_NOSUCHTENANT', '--rate', '1', '--burst', '5', '--quota', '10'],
      ['set-limits', '--tenant', 'a#b', '--rate', '1', '--burst', '5', '--quota', '10'],
    ]

    // Act
    const runs = await Promise.all(cases.map((args) => admin(args)))

    // Assess
    for (const [index, run] of runs.entries()) {
      expect(run.code, cases[index]?.join(' ')).toBe(2)
      expect(run.stderr, cases[index]?.join(' ')).toMatch(/^admin: .+\n$/)
      expect(run.stdout).toBe('')
    }
    expect(await logOf(tenantId)).toEqual([])
    expect((await stack.gateway.access.tenants.get(tenantId))?.rateLimits).toBeNull()
  })

  it('stores the limits on the tenant and logs who set what', async () => {
    // Act
    const run = await admin([
      'set-limits',
      ...['--tenant', stack.tenantA.tenantId, '--rate', '0.5', '--burst', '2', '--quota', '1000'],
      ...['--json', '--actor', 'Ops'],
    ])

    // Assess
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({
      tenantId: stack.tenantA.tenantId,
      rateLimits: { rate: 0.5, burst: 2, quotaPerDay: 1000 },
      usagePlanId: null,
    })
    expect(await logOf(stack.tenantA.tenantId)).toEqual([
      expect.objectContaining({
        action: 'set-limits',
        target: stack.tenantA.tenantId,
        actor: expect.stringContaining('Ops') as unknown,
        details: expect.objectContaining({ rate: 0.5, burst: 2, quotaPerDay: 1000, previous: null }) as unknown,
      }),
    ])
  })
})

describe('the in-process token bucket', () => {
  it("answers the tenant's burst, then 429 RATE_LIMITED with Retry-After and the RateLimit fields", async () => {
    // Prepare: past the limits' cache period, so the process reads what set-limits stored.
    now += 2_000

    // Act
    const first = await call(stack.tenantA)
    const second = await call(stack.tenantA)
    const third = await call(stack.tenantA)

    // Assess
    expect(first.response.status).toBe(200)
    expect(first.response.headers.get('ratelimit-policy')).toBe('"burst";q=2;w=4, "day";q=1000;w=86400')
    expect(first.response.headers.get('ratelimit')).toBe('"burst";r=1;t=2')
    expect(second.response.status).toBe(200)
    expect(second.response.headers.get('ratelimit')).toBe('"burst";r=0;t=4')
    expect(third.response.status).toBe(429)
    expect(third.response.headers.get('retry-after')).toBe('2')
    expect(third.response.headers.get('ratelimit')).toBe('"burst";r=0;t=2')
    expect(third.response.headers.get('ratelimit-policy')).toBe('"burst";q=2;w=4, "day";q=1000;w=86400')
    expect(third.body).toEqual({
      errors: [
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'RATE_LIMITED', retryable: true, retryAfterSeconds: 2 }),
        }),
      ],
    })
    expect(JSON.stringify(third.body)).not.toMatch(/pageInfo|stack|at /)
  })

  it('leaves another tenant alone', async () => {
    // Act
    const other = await call(stack.tenantB)

    // Assess: B has no limits of its own (locally: none), and A's spent bucket is not B's.
    expect(other.response.status).toBe(200)
    expect(other.body.data.consents.pageInfo.hasNextPage).toBe(false)
    expect(other.response.headers.get('ratelimit')).toBeNull()
  })

  it("counts operations over graphql-ws too: A's spent bucket refuses one with RATE_LIMITED, B's goes through", async () => {
    // Act: A's bucket is still spent (the clock has not moved since the burst above).
    const run = async (credentials: Credentials) => {
      const client = createWsClient({
        url: stack.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: stack.authorization(credentials) },
        retryAttempts: 0,
      })
      try {
        const results: any[] = []
        for await (const result of client.iterate({ query: QUERY })) results.push(result)
        return results
      } catch (error) {
        return [{ thrown: error }]
      } finally {
        await client.dispose()
      }
    }
    const limited = await run(stack.tenantA)
    const other = await run(stack.tenantB)

    // Assess
    expect(JSON.stringify(limited)).toContain('"RATE_LIMITED"')
    expect(JSON.stringify(limited)).not.toMatch(/pageInfo|stack|at /)
    expect(other).toEqual([expect.objectContaining({ data: { consents: { pageInfo: { hasNextPage: false } } } })])
  })

  it('refills at the rate: one request per 2 s at 0.5/s', async () => {
    // Act
    now += 2_000
    const refilled = await call(stack.tenantA)
    const again = await call(stack.tenantA)

    // Assess
    expect(refilled.response.status).toBe(200)
    expect(again.response.status).toBe(429)
  })

  it("refuses past the day's quota until 00:00 UTC, and new limits take effect within the cache period", async () => {
    // Prepare
    const run = await admin([
      'set-limits',
      '--tenant',
      stack.tenantB.tenantId,
      '--rate',
      '100',
      '--burst',
      '100',
      '--quota',
      '2',
    ])
    expect(run.code).toBe(0)
    now += 1_001

    // Act
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push(await call(stack.tenantB))

    // Assess: a little after 10:00 UTC, so about 14 h to midnight.
    expect(statuses.map(({ response }) => response.status)).toEqual([200, 200, 429])
    const refused = statuses[2]!
    const untilMidnight = Math.ceil((Date.parse('2026-03-03T00:00:00Z') - now) / 1000)
    expect(Number(refused.response.headers.get('retry-after'))).toBe(untilMidnight)
    expect(refused.body.errors[0].extensions.retryAfterSeconds).toBe(untilMidnight)
    expect(refused.response.headers.get('ratelimit')).toMatch(/^"day";r=0;t=\d+$/)
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED' })
    // Tenant A's limits are its own.
    now += 2_000
    expect((await call(stack.tenantA)).response.status).toBe(200)
  })
})

describe('extensions.cost', () => {
  it('is on every answer: a query, one refused for its cost, and an operation over SSE', async () => {
    // Prepare
    now += 10_000
    const costly = '{ consents(first: 100) { edges { node { id events(first: 100) { edges { node { id } } } } } } }'

    // Act
    // Tenant A (burst 2, 0.5/s): two calls now, the third once a token is back.
    const query = await call(stack.tenantA)
    const refused = await call(stack.tenantA, costly)
    now += 2_000
    const overSse = await new Promise<any>((done, fail) => {
      const sse = stack.sse(stack.tenantA)
      sse.subscribe(
        { query: QUERY },
        {
          next: (value) => {
            sse.dispose()
            done(value)
          },
          error: fail,
          complete: () => {},
        },
      )
    })

    // Assess: consents (an object, 2) + 1.5 × pageInfo (2 + 1.5 × hasNextPage, 1) = 7.25, rounded up.
    expect(query.body.extensions).toEqual({ cost: { requested: 8, limit: 5000 } })
    expect(refused.response.status).toBe(400)
    expect(refused.body.errors[0].message).toMatch(/cost limit of 5000/)
    expect(refused.body.extensions.cost.limit).toBe(5000)
    expect(refused.body.extensions.cost.requested).toBeGreaterThan(5000)
    expect(overSse.extensions).toEqual({ cost: { requested: 8, limit: 5000 } })
  })
})
