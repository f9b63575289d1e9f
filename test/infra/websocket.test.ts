// infra/websocket.ts, deployed offline (Pulumi mocks): the WebSocket API for graphql-ws, its three routes and their
// functions, the poller on its schedule (no overlap between runs, no retries), who may post to the connections, and
// the management endpoint the posting functions are told, as AWS would be asked for them.
import { beforeAll, describe, expect, it } from 'vitest'
import type * as WebSocketModule from '../../infra/websocket.ts'
import { FUNCTION_RUNTIME } from '../../scripts/bundling.ts'
import {
  AWS_TYPES,
  deployOffline,
  MOCK_AWS,
  REQUIRED_SECRETS,
  type OfflineDeployment,
  type RecordedResource,
  valueOf,
} from './support/sst-offline.ts'

const { FUNCTION, PERMISSION, V2_API, V2_STAGE, ROUTE, INTEGRATION, SCHEDULE, ROLE, EVENT_INVOKE_CONFIG, TABLE } =
  AWS_TYPES

/** The part of service/ws-poller.ts these tests read: how long a run polls. */
interface PollerModule {
  WS_POLLER_DEFAULTS: { periodMs: number; stopBeforeNextMs: number; leaseGraceMs: number; pollIntervalMs: number }
}
// Loaded at run time, out of infra/tsconfig.json's program (see SERVICE_CONFIG in api.test.ts for why).
const POLLER_MODULE = '../../service/ws-poller.ts'
const { WS_POLLER_DEFAULTS } = (await import(POLLER_MODULE)) as PollerModule

const HANDLERS = {
  connect: 'functions/ws-connect.handler',
  message: 'functions/ws-message.handler',
  disconnect: 'functions/ws-disconnect.handler',
  poller: 'functions/ws-poller.handler',
}
const ROUTE_HANDLERS = {
  $connect: HANDLERS.connect,
  $default: HANDLERS.message,
  $disconnect: HANDLERS.disconnect,
}
/** The functions that post to connections (and close them), and those that must not. */
const POSTING = [HANDLERS.message, HANDLERS.poller]
const NOT_POSTING = [HANDLERS.connect, HANDLERS.disconnect]

/** What `rate(1 minute)` means. */
const SCHEDULE_PERIOD_SECONDS = 60

interface Statement {
  effect?: string
  actions: string[]
  resources: string[]
}

let ws: OfflineDeployment<typeof WebSocketModule>
let api: RecordedResource
let executionArn: string
beforeAll(async () => {
  // Prepare
  ws = await deployOffline('ci', () => import('../../infra/websocket.ts'), { secrets: REQUIRED_SECRETS })
  api = ws.one(V2_API)
  executionArn = String(api.state.executionArn)
})

/** The Lambda function whose handler is `handler`. */
const functionOf = (handler: string): RecordedResource => {
  const found = ws.all(FUNCTION).filter((fn) => fn.inputs.handler === handler)
  if (found.length !== 1) throw new Error(`Expected one function with handler ${handler}, found ${found.length}`)
  return found[0]
}

const variablesOf = (fn: RecordedResource) => (fn.inputs.environment as { variables: Record<string, string> }).variables

/** The statements of the role a function runs with. */
const statementsOf = (fn: RecordedResource): Statement[] => {
  const role = ws.all(ROLE).find((candidate) => candidate.state.arn === fn.inputs.role)
  if (!role) throw new Error(`No role for ${fn.name}`)
  return (role.inputs.inlinePolicies as { policy: string }[]).flatMap(
    ({ policy }) => (JSON.parse(policy) as { statements: Statement[] }).statements,
  )
}

/** Each route of the WebSocket API by its key, with the handler of the function its integration invokes. */
function routes(): Record<string, { route: RecordedResource; integration?: RecordedResource; handler?: unknown }> {
  return Object.fromEntries(
    ws.all(ROUTE).map((route) => {
      const integration = ws.all(INTEGRATION).find((item) => route.inputs.target === `integrations/${item.id}`)
      const fn = ws
        .all(FUNCTION)
        .find((item) => String(integration?.inputs.integrationUri).includes(`/${String(item.state.arn)}/`))
      return [String(route.inputs.routeKey), { route, integration, handler: fn?.inputs.handler }]
    }),
  )
}

/** The poller's schedule. */
const pollerSchedule = (): RecordedResource => {
  const poller = functionOf(HANDLERS.poller)
  const found = ws
    .all(SCHEDULE)
    .filter((schedule) => (schedule.inputs.target as { arn: string }).arn === poller.state.arn)
  if (found.length !== 1) throw new Error(`Expected one schedule for the poller, found ${found.length}`)
  return found[0]
}

describe('the WebSocket API', () => {
  it('is one WebSocket API with one auto-deployed stage', () => {
    // Assess
    expect(api.inputs.protocolType).toBe('WEBSOCKET')
    expect(ws.one(V2_STAGE).inputs).toMatchObject({ apiId: api.id, name: '$default', autoDeploy: true })
  })

  it('routes $connect, $default and $disconnect, and nothing else, to the connect, message and disconnect functions', () => {
    // Assess
    expect(Object.fromEntries(Object.entries(routes()).map(([key, { handler }]) => [key, handler]))).toEqual(
      ROUTE_HANDLERS,
    )
    for (const [key, { integration }] of Object.entries(routes())) {
      expect(integration?.inputs, key).toMatchObject({ apiId: api.id, integrationType: 'AWS_PROXY' })
    }
  })

  it('hands $connect, unauthenticated, to the function that answers the subprotocol; the caller authenticates with connection_init', () => {
    // Prepare
    const connect = routes().$connect

    // Assess: API Gateway's own auth would refuse graphql-ws clients, which send credentials in connection_init.
    expect(connect?.handler).toBe(HANDLERS.connect)
    for (const [key, { route }] of Object.entries(routes())) expect(route.inputs.authorizationType, key).toBe('NONE')
  })

  it('lets API Gateway invoke the three route functions, from this API only', () => {
    // Prepare
    const fromApi = ws
      .all(PERMISSION)
      .filter((permission) => String(permission.inputs.sourceArn).startsWith(`${executionArn}/`))

    // Assess
    expect(new Set(fromApi.map((permission) => permission.inputs.function))).toEqual(
      new Set(Object.values(ROUTE_HANDLERS).map((handler) => functionOf(handler).state.arn)),
    )
    for (const permission of fromApi) {
      expect(permission.inputs).toMatchObject({
        action: 'lambda:InvokeFunction',
        principal: 'apigateway.amazonaws.com',
      })
    }
  })

  it('gives each route function less time than API Gateway waits for an integration (29 s), the message function 1024 MB', () => {
    // Assess
    for (const handler of Object.values(ROUTE_HANDLERS)) expect(functionOf(handler).inputs.timeout, handler).toBe(30)
    expect(functionOf(HANDLERS.message).inputs.memorySize).toBe(1024)
  })
})

describe('posting to connections', () => {
  it('is allowed to the message and poller functions: ManageConnections, POST and DELETE on this API only', () => {
    // Assess
    for (const handler of POSTING) {
      const manage = statementsOf(functionOf(handler)).filter((statement) =>
        statement.actions.some((action) => action.startsWith('execute-api:')),
      )
      expect(manage, handler).toEqual([
        {
          effect: 'Allow',
          actions: ['execute-api:ManageConnections'],
          resources: [`${executionArn}/*/POST/@connections/*`, `${executionArn}/*/DELETE/@connections/*`],
        },
      ])
    }
    expect(executionArn).toMatch(new RegExp(`^arn:aws:execute-api:${MOCK_AWS.region}:${MOCK_AWS.account}:${api.id}$`))
  })

  it('is not allowed to the connect and disconnect functions, and no function may manage any other API', () => {
    // Assess
    for (const handler of NOT_POSTING) {
      const actions = statementsOf(functionOf(handler)).flatMap((statement) => statement.actions)
      expect(
        actions.filter((action) => action.startsWith('execute-api:')),
        handler,
      ).toEqual([])
    }
    for (const fn of ws.all(FUNCTION)) {
      for (const statement of statementsOf(fn)) {
        if (!statement.actions.some((action) => action.startsWith('execute-api:'))) continue
        for (const resource of statement.resources) expect(resource, fn.name).toMatch(new RegExp(`^${executionArn}/`))
      }
    }
  })

  it("tells the posting functions the API's management endpoint (https, stage $default) as WS_MANAGEMENT_ENDPOINT", async () => {
    // Prepare
    const expected = `https://${api.id.toLowerCase()}.execute-api.${MOCK_AWS.region}.amazonaws.com/$default`

    // Assess
    expect(await valueOf(ws.module.managementEndpoint)).toBe(expected)
    for (const handler of POSTING)
      expect(variablesOf(functionOf(handler)).WS_MANAGEMENT_ENDPOINT, handler).toBe(expected)
    for (const handler of NOT_POSTING) {
      expect(variablesOf(functionOf(handler)).WS_MANAGEMENT_ENDPOINT, handler).toBeUndefined()
    }
  })
})

describe('every WebSocket function', () => {
  it('is a gateway function: the runtime, arm64, the table and the secrets linked, the table usable', () => {
    // Prepare
    const table = ws.one(TABLE)
    const tableArn = String(table.state.arn)

    // Assess
    for (const handler of Object.values(HANDLERS)) {
      const fn = functionOf(handler)
      expect(fn.inputs.runtime, handler).toBe(FUNCTION_RUNTIME)
      expect(fn.inputs.architectures, handler).toEqual(['arm64'])
      const links = ws.builds.find((build) => build.handler === handler)?.links ?? {}
      expect(links.Table, handler).toBeDefined()
      expect(links.CursorSecret, handler).toMatchObject({ value: REQUIRED_SECRETS.CursorSecret })
      expect(variablesOf(fn).TABLE_NAME, handler).toBe(table.inputs.name)
      expect(statementsOf(fn), handler).toContainEqual(
        expect.objectContaining({ resources: expect.arrayContaining([tableArn, `${tableArn}/*`]) as unknown }),
      )
    }
  })

  it('holds no secret in its environment: the secrets are linked, the poller too', () => {
    // Assess
    for (const handler of Object.values(HANDLERS)) {
      const variables = Object.values(variablesOf(functionOf(handler)))
      for (const secret of Object.values(REQUIRED_SECRETS)) expect(variables, handler).not.toContain(secret)
    }
  })
})

describe('the poller', () => {
  it('runs every minute, on time, enabled, with an empty event', () => {
    // Prepare
    const schedule = pollerSchedule()

    // Assess
    expect(schedule.inputs).toMatchObject({
      scheduleExpression: 'rate(1 minute)',
      state: 'ENABLED',
      flexibleTimeWindow: { mode: 'OFF' },
    })
    expect((schedule.inputs.target as { input: string }).input).toBe('{}')
    expect(WS_POLLER_DEFAULTS.periodMs).toBe(SCHEDULE_PERIOD_SECONDS * 1000)
  })

  it('polls until before the next run is due (no two runs on one shard), and lives past its last tick', () => {
    // Prepare
    const pollsUntilMs = WS_POLLER_DEFAULTS.periodMs - WS_POLLER_DEFAULTS.stopBeforeNextMs
    const leaseEndsMs = pollsUntilMs + WS_POLLER_DEFAULTS.leaseGraceMs
    const timeoutMs = (functionOf(HANDLERS.poller).inputs.timeout as number) * 1000

    // Assess
    expect(functionOf(HANDLERS.poller).inputs.timeout).toBe(70)
    expect(pollsUntilMs).toBeLessThan(SCHEDULE_PERIOD_SECONDS * 1000)
    expect(pollsUntilMs).toBeGreaterThanOrEqual(SCHEDULE_PERIOD_SECONDS * 1000 - 5_000)
    // The run outlives its lease: a run is never cut by Lambda while it holds a shard.
    expect(timeoutMs).toBeGreaterThan(leaseEndsMs)
    expect(WS_POLLER_DEFAULTS.pollIntervalMs).toBeLessThan(WS_POLLER_DEFAULTS.stopBeforeNextMs)
  })

  it('leaves the retry of a failed run to the next one: neither Scheduler nor Lambda retries', () => {
    // Prepare
    const fn = functionOf(HANDLERS.poller)
    const configs = ws.all(EVENT_INVOKE_CONFIG).filter((config) => config.inputs.functionName === fn.inputs.name)

    // Assess
    expect(configs.map((config) => config.inputs.maximumRetryAttempts)).toEqual([0])
    expect((pollerSchedule().inputs.target as { retryPolicy: unknown }).retryPolicy).toEqual({
      maximumRetryAttempts: 0,
    })
  })

  it('is invoked by its schedule only, whose role may invoke the poller and nothing else', () => {
    // Prepare
    const { roleArn } = pollerSchedule().inputs.target as { roleArn: string }
    const role = ws.one(ROLE, (name) => ws.all(ROLE).find((item) => item.state.arn === roleArn)?.name === name)
    const statements = (role.inputs.inlinePolicies as { policy: string }[]).flatMap(
      ({ policy }) => (JSON.parse(policy) as { statements: Statement[] }).statements,
    )

    // Assess
    expect(JSON.stringify(role.inputs.assumeRolePolicy)).toContain('scheduler.amazonaws.com')
    expect(statements).toEqual([
      { actions: ['lambda:InvokeFunction'], resources: [functionOf(HANDLERS.poller).state.arn] },
    ])
    expect(
      ws.all(PERMISSION).filter((permission) => permission.inputs.function === functionOf(HANDLERS.poller).state.arn),
    ).toEqual([])
  })
})

describe('the outputs', () => {
  it('give the graphql-ws URL: wss, stage $default', async () => {
    // Act
    const url = await valueOf(ws.module.outputs.graphqlWsUrl)

    // Assess
    expect(url).toBe(`wss://${api.id.toLowerCase()}.execute-api.${MOCK_AWS.region}.amazonaws.com/$default`)
  })
})
