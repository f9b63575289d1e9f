// The whole app (sst.config.ts's run(): infra/storage.ts, secrets.ts, api.ts, jobs.ts), deployed offline: the
// functions, the streaming GraphQL URL, the HTTP API's routes (webhooks, callbacks, OAuth, health) and the outputs AWS
// would be asked for, and what the functions would be built from. The schedules and the outbox relay themselves: jobs.test.ts.
import { generateKeyPairSync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROVIDERS } from '../../domain/provider.ts'
import { FUNCTION_NODEJS, FUNCTION_RUNTIME } from '../../scripts/bundling.ts'
import {
  callbackPrefixPath,
  HEALTH_PATH,
  JWKS_PATH,
  notificationPath,
  OAUTH_TOKEN_PATH,
} from '../../service/public-paths.ts'
import {
  AWS_TYPES,
  deployApp,
  type OfflineDeployment,
  type RecordedResource,
  ROOT,
  tokenSigningKeysOf,
} from './support/sst-offline.ts'

const { FUNCTION, FUNCTION_URL, PERMISSION, ROUTE, INTEGRATION, HTTP_API, TABLE } = AWS_TYPES

/** The part of service/config.ts these tests read. */
interface ServiceConfig {
  CONFIG_DEFAULTS: { subscriptionMaxSeconds: number }
  configFromEnv: (env: Record<string, string>) => {
    tableName: string
    publicBaseUrl: string
    providers: Record<'finqware' | 'worldline' | 'yapily', unknown>
  }
}
// Loaded at run time but kept out of infra/tsconfig.json's program (a non-literal specifier is not followed): the
// platform's types bring Bun's fetch types, under which the app's Node fetch code does not compile (tried: `Headers`
// in providers/http-client.ts).
const SERVICE_CONFIG = '../../service/config.ts'
const { CONFIG_DEFAULTS, configFromEnv } = (await import(SERVICE_CONFIG)) as ServiceConfig

/**
 * Every secret set, at realistic sizes, the Worldline key a real RSA-2048 one: every provider offered, and the
 * largest environment a stage gives a function.
 */
const EVERY_SECRET = {
  CursorSecret: 'c'.repeat(64),
  UserReferenceKey: 'u'.repeat(64),
  TokenEncryptionKeys: ['k2', 'k1'].map((id) => `${id}:${Buffer.alloc(32, 7).toString('base64')}`).join(','),
  // Two keys: a rotation's overlap, the longest the value gets.
  TokenSigningKeys: tokenSigningKeysOf(2),
  FinqwareBaseUrl: 'https://your-env.finqware.com',
  FinqwareClientId: 'f'.repeat(36),
  FinqwareClientSecret: 'f'.repeat(64),
  FinqwarePathPrefix: '/v2',
  WorldlineBaseUrl: 'https://xs2a.awltest.de',
  WorldlineClientId: 'w'.repeat(36),
  WorldlineKeyId: 'a'.repeat(40),
  WorldlinePrivateKey: generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString()
    .replace(/\n/g, '\\n'),
  WorldlineNotificationToken: 't'.repeat(64),
  YapilyBaseUrl: 'https://api.yapily.com',
  YapilyApplicationKey: 'y'.repeat(36),
  YapilyApplicationSecret: 'y'.repeat(36),
  YapilyWebhookSecret: 'y'.repeat(64),
}

/** Every function of the app, by its handler (scripts/build-functions.ts builds the same entry points). */
const HANDLERS = {
  graphql: 'functions/graphql.handler',
  publicApi: 'functions/public-api.handler',
  sweepDeadlines: 'functions/sweep-deadlines.handler',
  reconcile: 'functions/reconcile.handler',
  deliverWebhooks: 'functions/deliver-webhooks.handler',
  outboxRelay: 'functions/outbox-relay.handler',
}

/**
 * Resource types that cost nothing while nobody calls the gateway: billed per request or duration, or only for
 * what they store (logs, the code archives, the table's items), or not billed at all. A type not listed here fails
 * the test below until someone has checked its price (a NAT gateway, a KMS key, a provisioned concurrency config,
 * a Secrets Manager secret, an alarm... all cost by the hour or the month).
 */
const FREE_WHILE_IDLE = new Set([
  TABLE,
  FUNCTION,
  FUNCTION_URL,
  PERMISSION,
  HTTP_API,
  ROUTE,
  INTEGRATION,
  'aws:apigatewayv2/stage:Stage',
  'aws:iam/role:Role',
  'aws:cloudwatch/logGroup:LogGroup',
  // Lambda's settings for asynchronous invocations (the jobs' retries): configuration, not billed.
  'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
  // EventBridge Scheduler bills per invocation (14 million a month free); the jobs' three schedules make about 2,000
  // a day, each a Lambda invocation (see the README's "What it costs").
  'aws:scheduler/schedule:Schedule',
  // Lambda polls the table's stream for the relay at no charge; the relay's invocations are billed as any others.
  'aws:lambda/eventSourceMapping:EventSourceMapping',
  // Billed per request; the dead-letter queue is written to only when the relay gives up on a batch.
  'aws:sqs/queue:Queue',
  'aws:s3/bucketObjectv2:BucketObjectv2',
  'random:index/randomBytes:RandomBytes',
])

let app: OfflineDeployment<Record<string, unknown>>
let apiEndpoint: string
beforeAll(async () => {
  // Prepare
  app = await deployApp('ci', { secrets: EVERY_SECRET })
  apiEndpoint = app.one(HTTP_API).state.apiEndpoint as string
})

const variablesOf = (fn: RecordedResource) => (fn.inputs.environment as { variables: Record<string, string> }).variables

/** The Lambda function whose handler is `handler`. */
const functionOf = (handler: string): RecordedResource => {
  const found = app.all(FUNCTION).filter((fn) => fn.inputs.handler === handler)
  if (found.length !== 1) throw new Error(`Expected one function with handler ${handler}, found ${found.length}`)
  return found[0]
}

/** The handler each HTTP API route key invokes, followed route -> integration -> function ARN -> function. */
function routedHandlers(): Record<string, unknown> {
  return Object.fromEntries(
    app.all(ROUTE).map((route) => {
      const integration = app.all(INTEGRATION).find((item) => route.inputs.target === `integrations/${item.id}`)
      const fn = app.all(FUNCTION).find((item) => item.state.arn === integration?.inputs.integrationUri)
      return [route.inputs.routeKey, fn?.inputs.handler]
    }),
  )
}

/** Whether `method path` is matched by one of the HTTP API's routes (`{name}` one segment, `{name+}` the rest). */
function isRouted(method: string, path: string): boolean {
  return app.all(ROUTE).some((route) => {
    const [routeMethod, routePath] = String(route.inputs.routeKey).split(' ')
    const pattern = routePath.replace(/\{[^}]+\+\}/g, '.+').replace(/\{[^}]+\}/g, '[^/]+')
    return routeMethod === method && new RegExp(`^${pattern}$`).test(path)
  })
}

describe('the GraphQL function', () => {
  it('is reached on a public Function URL in response-streaming mode', () => {
    // Prepare
    const graphql = functionOf(HANDLERS.graphql)
    const url = app.one(FUNCTION_URL)

    // Assess: no URL-level CORS either (Yoga answers it, as under `npm start`).
    expect(url.inputs).toEqual({
      functionName: graphql.inputs.name,
      authorizationType: 'NONE',
      invokeMode: 'RESPONSE_STREAM',
    })
    // The API checks its clients itself; anyone may reach the URL (SST grants both actions: `createUrl` in the
    // platform's src/components/aws/function.ts).
    const publicAccess = app
      .all(PERMISSION)
      .filter((permission) => permission.inputs.function === graphql.inputs.name && permission.inputs.principal === '*')
      .map((permission) => permission.inputs.action)
    expect(publicAccess.sort()).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl'])
  })

  it('lives as long as Lambda allows, at least as long as a subscription may stay open', () => {
    // Prepare
    const graphql = functionOf(HANDLERS.graphql)

    // Assess
    expect(graphql.inputs.timeout).toBe(900)
    expect(graphql.inputs.timeout).toBeGreaterThanOrEqual(CONFIG_DEFAULTS.subscriptionMaxSeconds)
  })

  it('has a reserved concurrency that caps open subscriptions', () => {
    // Prepare
    const reserved = functionOf(HANDLERS.graphql).inputs.reservedConcurrentExecutions

    // Assess
    expect(Number.isInteger(reserved)).toBe(true)
    expect(reserved).toBeGreaterThan(0)
    // Deployable on an account with the default quota (1000), of which Lambda keeps 100 unreserved.
    expect(reserved).toBeLessThanOrEqual(900)
  })
})

describe('the HTTP API', () => {
  it('has exactly the webhook, callback, OAuth and health routes, all sent to the public API function', () => {
    // Assess
    expect(routedHandlers()).toEqual({
      'POST /webhooks/{provider}': HANDLERS.publicApi,
      'POST /webhooks/{proxy+}': HANDLERS.publicApi,
      'GET /callbacks/{provider}/{token}': HANDLERS.publicApi,
      [`POST ${OAUTH_TOKEN_PATH}`]: HANDLERS.publicApi,
      [`GET ${JWKS_PATH}`]: HANDLERS.publicApi,
      [`GET ${HEALTH_PATH}`]: HANDLERS.publicApi,
    })
    expect(app.all(INTEGRATION).map((integration) => integration.inputs.payloadFormatVersion)).toEqual(
      Array(6).fill('2.0'),
    )
  })

  it('routes every URL the gateway hands to providers and browsers (service/public-paths.ts)', () => {
    // Assess
    for (const provider of PROVIDERS) {
      expect(isRouted('POST', notificationPath(provider)), provider).toBe(true)
      expect(isRouted('GET', `${callbackPrefixPath(provider)}01J9ZK3Q.signed-link_x`), provider).toBe(true)
    }
    // Worldline posts below its notification URL.
    expect(isRouted('POST', `${notificationPath('WORLDLINE')}/notification/status`)).toBe(true)
    // Partners' backends get tokens here; anyone finds the keys that verify them.
    expect(isRouted('POST', OAUTH_TOKEN_PATH)).toBe(true)
    expect(isRouted('GET', JWKS_PATH)).toBe(true)
    expect(isRouted('GET', HEALTH_PATH)).toBe(true)
    // Nothing else is open: GraphQL is not on this API, a callback is only ever a GET, a token only ever a POST.
    expect(isRouted('POST', '/graphql')).toBe(false)
    expect(isRouted('POST', `${callbackPrefixPath('YAPILY')}token`)).toBe(false)
    expect(isRouted('GET', OAUTH_TOKEN_PATH)).toBe(false)
  })

  it('answers no CORS preflight (no script calls it) and deploys itself on its $default stage', () => {
    // Assess
    expect(app.one(HTTP_API).inputs.corsConfiguration).toEqual({})
    expect(app.one('aws:apigatewayv2/stage:Stage').inputs).toMatchObject({ name: '$default', autoDeploy: true })
  })

  it('gives the function behind it the 30 s it waits for it', () => {
    // Assess
    expect(functionOf(HANDLERS.publicApi).inputs.timeout).toBe(30)
  })

  it('may invoke the function it routes to, and only from its own routes', () => {
    // Prepare
    const executionArn = app.one(HTTP_API).state.executionArn as string
    const fromApi = app
      .all(PERMISSION)
      .filter((permission) => permission.inputs.principal === 'apigateway.amazonaws.com')

    // Assess
    expect(new Set(fromApi.map((permission) => permission.inputs.function))).toEqual(
      new Set([functionOf(HANDLERS.publicApi).state.arn]),
    )
    for (const permission of fromApi) expect(permission.inputs.sourceArn).toBe(`${executionArn}/*`)
  })
})

describe('every function', () => {
  it('is built once, from its handler, with the runtime and nodejs settings of scripts/bundling.ts', () => {
    // Assess
    expect(app.builds.map((build) => build.handler).sort()).toEqual(Object.values(HANDLERS).sort())
    for (const build of app.builds) {
      expect(build.runtime, build.functionID).toBe(FUNCTION_RUNTIME)
      // What SST's Node.js builder reads: the `nodejs` argument as given, plus the architecture.
      expect(build.properties, build.functionID).toEqual({ ...FUNCTION_NODEJS, architecture: 'arm64' })
    }
    expect(app.all(FUNCTION)).toHaveLength(Object.keys(HANDLERS).length)
    for (const fn of app.all(FUNCTION)) expect(fn.inputs.runtime, fn.name).toBe(FUNCTION_RUNTIME)
  })

  it('names a handler module that exists', () => {
    // Assess
    for (const build of app.builds) {
      const module = build.handler.slice(0, build.handler.lastIndexOf('.'))
      expect(existsSync(join(ROOT, `${module}.ts`)), module).toBe(true)
    }
  })

  it('is linked to the table only, secrets arriving through the environment', () => {
    // Assess
    for (const build of app.builds) expect(Object.keys(build.links), build.functionID).toEqual(['Table'])
  })

  it('may use the table: its role allows DynamoDB on the table, its indexes and its stream', () => {
    // Prepare
    const tableArn = String(app.one(TABLE).state.arn)

    // Assess: the functions' roles (the schedules have their own, which may only invoke their function).
    const roles = app
      .all('aws:iam/role:Role')
      .filter((role) => JSON.stringify(role.inputs.assumeRolePolicy).includes('lambda.amazonaws.com'))
    expect(roles).toHaveLength(app.all(FUNCTION).length)
    for (const role of roles) {
      const policies = role.inputs.inlinePolicies as { policy: string }[]
      const statements = policies.flatMap(
        ({ policy }) => (JSON.parse(policy) as { statements: { actions: string[]; resources: string[] }[] }).statements,
      )
      expect(statements, role.name).toContainEqual(
        expect.objectContaining({
          actions: expect.arrayContaining([expect.stringMatching(/^dynamodb:/)]) as unknown,
          resources: expect.arrayContaining([tableArn, `${tableArn}/*`]) as unknown,
        }),
      )
    }
  })

  it('is told the HTTP API as its public base URL, and starts with every provider when every secret is set', () => {
    // Assess
    expect(apiEndpoint).toMatch(/^https:\/\//)
    for (const fn of app.all(FUNCTION)) {
      const config = configFromEnv(variablesOf(fn))
      expect(config.publicBaseUrl, fn.name).toBe(apiEndpoint)
      expect(config.tableName, fn.name).toBe(app.one(TABLE).inputs.name)
      expect(config.providers, fn.name).toEqual({
        finqware: expect.anything() as unknown,
        worldline: expect.anything() as unknown,
        yapily: expect.anything() as unknown,
      })
    }
  })

  it("fits Lambda's 4 KB of environment variables with every secret set and an RSA-2048 Worldline key", () => {
    // Assess: measured as JSON, the variables as the Lambda API receives them (SST's own included), which counts a
    // little more than names and values alone.
    for (const fn of app.all(FUNCTION)) {
      const bytes = Buffer.byteLength(JSON.stringify(variablesOf(fn)))
      expect(bytes, fn.name).toBeLessThanOrEqual(4096)
    }
  })

  it('keeps its environment (the secrets) a secret in the Pulumi state', () => {
    // Assess
    for (const fn of app.all(FUNCTION)) expect(fn.secretInputs, fn.name).toContain('environment')
  })
})

describe('what the gateway costs while idle', () => {
  it('declares only resources billed by use or storage', () => {
    // Prepare
    const types = new Set(app.resources.map((resource) => resource.type).filter((type) => !type.startsWith('sst:')))

    // Assess
    expect([...types].filter((type) => !FREE_WHILE_IDLE.has(type))).toEqual([])
  })

  it('provisions no capacity: no provisioned concurrency, no published versions, no VPC, an on-demand table', () => {
    // Assess
    expect(app.all('aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig')).toEqual([])
    for (const fn of app.all(FUNCTION)) {
      // Provisioned concurrency needs a published version: none is published.
      expect(fn.inputs.publish, fn.name).toBe(false)
      expect(fn.inputs.vpcConfig, fn.name).toBeUndefined()
    }
    expect(app.one(TABLE).inputs.billingMode).toBe('PAY_PER_REQUEST')
  })
})

describe('the outputs of sst.config.ts', () => {
  it('gives the GraphQL URL', () => {
    // Assess
    expect(app.module.graphqlUrl).toBe(app.one(FUNCTION_URL).state.functionUrl)
  })

  it('gives each provider its webhook URL on the HTTP API', () => {
    // Assess
    for (const provider of PROVIDERS) {
      expect(app.module[`${provider.toLowerCase()}WebhookUrl`], provider).toBe(
        `${apiEndpoint}${notificationPath(provider)}`,
      )
    }
  })

  it('gives the base of the callback links, and the table name', () => {
    // Assess
    for (const provider of PROVIDERS) {
      expect(`${String(app.module.callbackBaseUrl)}/${provider.toLowerCase()}/`).toBe(
        `${apiEndpoint}${callbackPrefixPath(provider)}`,
      )
    }
    expect(app.module.tableName).toBe(app.one(TABLE).inputs.name)
  })

  it('gives the token endpoint and the key set on the HTTP API', () => {
    // Assess
    expect(app.module.tokenUrl).toBe(`${apiEndpoint}${OAUTH_TOKEN_PATH}`)
    expect(app.module.jwksUrl).toBe(`${apiEndpoint}${JWKS_PATH}`)
  })

  it("gives the outbox relay's dead-letter queue", () => {
    // Assess
    expect(app.module.outboxDeadLetterQueueUrl).toBe(app.one('aws:sqs/queue:Queue').state.url)
  })

  it('gives nothing else', () => {
    // Assess
    expect(Object.keys(app.module).sort()).toEqual(
      [
        'graphqlUrl',
        ...PROVIDERS.map((provider) => `${provider.toLowerCase()}WebhookUrl`),
        'callbackBaseUrl',
        'tokenUrl',
        'jwksUrl',
        'tableName',
        'outboxDeadLetterQueueUrl',
      ].sort(),
    )
  })
})
