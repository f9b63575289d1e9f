// The whole app (sst.config.ts's run(): infra/storage.ts, secrets.ts, api.ts, websocket.ts, jobs.ts), deployed
// offline: the functions, the REST API (GraphQL streamed behind the authorizer and usage plans, webhooks, callbacks,
// OAuth, health beside it), its gateway responses, no Function URL, and the outputs AWS would be asked for, and what
// the functions would be built from. The schedules and the outbox relay themselves: jobs.test.ts; the WebSocket API
// and its poller: websocket.test.ts.
import { generateKeyPairSync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROVIDERS } from '../../domain/provider.ts'
import { DEFAULT_STAGE_LIMITS } from '../../domain/rate-limits.ts'
import { FUNCTIONS } from '../../scripts/build-functions.ts'
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

const {
  FUNCTION,
  FUNCTION_URL,
  PERMISSION,
  V2_API,
  V2_STAGE,
  ROUTE,
  INTEGRATION,
  TABLE,
  REST_API,
  REST_RESOURCE,
  REST_METHOD,
  REST_INTEGRATION,
  REST_AUTHORIZER,
  REST_STAGE,
  REST_DEPLOYMENT,
  USAGE_PLAN,
  USAGE_PLAN_KEY,
  API_KEY,
  GATEWAY_RESPONSE,
} = AWS_TYPES

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
const { CONFIG_DEFAULTS } = (await import(SERVICE_CONFIG)) as ServiceConfig
/** The part of composition/settings.ts these tests read: a deployed function's configuration. */
interface DeployedSettings {
  deployedConfig: (env: Record<string, string>, resources: object) => ReturnType<ServiceConfig['configFromEnv']>
}
const DEPLOYED_SETTINGS = '../../composition/settings.ts'
const { deployedConfig } = (await import(DEPLOYED_SETTINGS)) as DeployedSettings

/**
 * Every secret set, at realistic sizes, the Worldline key a real RSA-4096 one (which as a variable alone would take
 * most of Lambda's 4 KB): every provider offered, and the most a stage gives a function.
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
  FinqwareAuthMode: 'oauth2',
  FinqwareTokenUrl: 'https://your-env.finqware.com/oauth2/token',
  WorldlineBaseUrl: 'https://xs2a.awltest.de',
  WorldlineClientId: 'w'.repeat(36),
  WorldlineKeyId: 'a'.repeat(40),
  WorldlinePrivateKey: generateKeyPairSync('rsa', { modulusLength: 4096 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString()
    .replace(/\n/g, '\\n'),
  WorldlineNotificationToken: 't'.repeat(64),
  // The longest an Initiating Party id and sub id plausibly get, for the 4 KB check.
  WorldlineInitiatingPartyId: '9'.repeat(10),
  WorldlineInitiatingPartySubId: '9'.repeat(5),
  YapilyBaseUrl: 'https://api.yapily.com',
  YapilyApplicationKey: 'y'.repeat(36),
  YapilyApplicationSecret: 'y'.repeat(36),
  YapilyWebhookSecret: 'y'.repeat(64),
  YapilyWebhookSignatureHeader: 'X-Yapily-Signature',
  YapilyWebhookEventType: 'consent.status',
  CorsAllowedOrigins: 'https://console.operator.example',
}

/** Every function of the app, by its handler (scripts/build-functions.ts builds the same entry points). */
const HANDLERS = {
  graphql: 'functions/graphql.handler',
  publicApi: 'functions/public-api.handler',
  sweepDeadlines: 'functions/sweep-deadlines.handler',
  reconcile: 'functions/reconcile.handler',
  deliverWebhooks: 'functions/deliver-webhooks.handler',
  outboxRelay: 'functions/outbox-relay.handler',
  authorizer: 'functions/authorizer.handler',
  wsConnect: 'functions/ws-connect.handler',
  wsMessage: 'functions/ws-message.handler',
  wsDisconnect: 'functions/ws-disconnect.handler',
  wsPoller: 'functions/ws-poller.handler',
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
  PERMISSION,
  // API Gateway bills REST APIs per request (and streamed responses per 10 MB); methods, stages, authorizers,
  // usage plans and keys are configuration.
  REST_API,
  REST_RESOURCE,
  REST_METHOD,
  REST_INTEGRATION,
  REST_AUTHORIZER,
  REST_STAGE,
  REST_DEPLOYMENT,
  USAGE_PLAN,
  USAGE_PLAN_KEY,
  API_KEY,
  GATEWAY_RESPONSE,
  // The account's CloudWatch role for API Gateway's access logs (SST's ApiGatewayV1 sets it): configuration.
  'aws:apigateway/account:Account',
  // API Gateway bills WebSocket APIs per message and per connection-minute; the API, its stage, routes and
  // integrations are configuration.
  V2_API,
  V2_STAGE,
  ROUTE,
  INTEGRATION,
  'aws:iam/role:Role',
  'aws:cloudwatch/logGroup:LogGroup',
  // Lambda's settings for asynchronous invocations (the jobs' retries): configuration, not billed.
  'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
  // EventBridge Scheduler bills per invocation (14 million a month free); the jobs' three schedules and the
  // WebSocket poller's make about 3,500 a day, each a Lambda invocation (see the README's "What it costs"). The
  // poller's are the exception to "free while idle": each run polls for most of its minute whether or not anyone
  // watches, about 1.3 million GB-seconds a month at 512 MB, $17 before Lambda's free tier (docs/cost.md).
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
  apiEndpoint = `https://${app.one(REST_API).id}.execute-api.eu-west-1.amazonaws.com/ci`
})

const variablesOf = (fn: RecordedResource) => (fn.inputs.environment as { variables: Record<string, string> }).variables

/** What a function's `Resource` holds: its links' properties, as SST encrypts them into its bundle (resource.enc). */
const linksOf = (fn: RecordedResource): Record<string, unknown> => {
  const build = app.builds.find((candidate) => candidate.handler === fn.inputs.handler)
  if (!build) throw new Error(`No build for ${String(fn.inputs.handler)}`)
  return build.links
}

/** The Lambda function whose handler is `handler`. */
const functionOf = (handler: string): RecordedResource => {
  const found = app.all(FUNCTION).filter((fn) => fn.inputs.handler === handler)
  if (found.length !== 1) throw new Error(`Expected one function with handler ${handler}, found ${found.length}`)
  return found[0]
}

describe('the GraphQL function', () => {
  it('has no Function URL: nothing reaches it but through the REST API', () => {
    // Assess
    expect(app.all(FUNCTION_URL)).toEqual([])
    // The one API Gateway v2 API is the WebSocket API (websocket.test.ts): no HTTP API.
    expect(app.all(V2_API).map((api) => api.inputs.protocolType)).toEqual(['WEBSOCKET'])
    expect(app.all(PERMISSION).filter((permission) => permission.inputs.principal === '*')).toEqual([])
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

/** A method of the REST API: its route key, its settings, and the handler its integration invokes. */
interface RestRoute {
  readonly method: RecordedResource
  readonly integration: RecordedResource | undefined
  readonly handler: unknown
}

/** The REST API's path of a resource, followed up its parents to the root. */
function pathOf(resourceId: unknown): string {
  const resource = app.all(REST_RESOURCE).find((item) => item.id === resourceId)
  if (!resource) return ''
  return `${pathOf(resource.inputs.parentId)}/${String(resource.inputs.pathPart)}`
}

/** Every method of the REST API by route key (`POST /graphql`), with its integration and the handler it invokes. */
function restRoutes(): Record<string, RestRoute> {
  return Object.fromEntries(
    app.all(REST_METHOD).map((method) => {
      const integration = app
        .all(REST_INTEGRATION)
        .find(
          (item) =>
            item.inputs.resourceId === method.inputs.resourceId && item.inputs.httpMethod === method.inputs.httpMethod,
        )
      const fn = app
        .all(FUNCTION)
        .find((item) => String(integration?.inputs.uri).includes(`/${String(item.state.arn)}/`))
      return [
        `${String(method.inputs.httpMethod)} ${pathOf(method.inputs.resourceId)}`,
        { method, integration, handler: fn?.inputs.handler },
      ]
    }),
  )
}

/** Whether `method path` is matched by one of the REST API's methods (`{name}` one segment, `{name+}` the rest). */
function isRouted(method: string, path: string): boolean {
  return Object.keys(restRoutes()).some((key) => {
    const [routeMethod, routePath] = key.split(' ')
    const pattern = (routePath ?? '')
      .replace(/\./g, '\\.')
      .replace(/\{[^}]+\+\}/g, '.+')
      .replace(/\{[^}]+\}/g, '[^/]+')
    return routeMethod === method && new RegExp(`^${pattern}$`).test(path)
  })
}

const GRAPHQL_ROUTES = ['GET /graphql', 'POST /graphql', 'OPTIONS /graphql']

describe('the REST API', () => {
  it('is regional (5 minutes of idle stream) and takes API keys from its authorizer alone', () => {
    // Assess
    expect(app.one(REST_API).inputs).toMatchObject({
      endpointConfiguration: { types: 'REGIONAL' },
      apiKeySource: 'AUTHORIZER',
    })
    expect(app.one(REST_STAGE).inputs.stageName).toBe('ci')
  })

  it('routes exactly GraphQL to the GraphQL function, and webhooks, callbacks, OAuth and health to the public one', () => {
    // Assess
    expect(Object.fromEntries(Object.entries(restRoutes()).map(([key, route]) => [key, route.handler]))).toEqual({
      'GET /graphql': HANDLERS.graphql,
      'POST /graphql': HANDLERS.graphql,
      'OPTIONS /graphql': HANDLERS.graphql,
      'POST /webhooks/{proxy+}': HANDLERS.publicApi,
      'GET /callbacks/{provider}/{token}': HANDLERS.publicApi,
      [`POST ${OAUTH_TOKEN_PATH}`]: HANDLERS.publicApi,
      [`GET ${JWKS_PATH}`]: HANDLERS.publicApi,
      [`GET ${HEALTH_PATH}`]: HANDLERS.publicApi,
    })
  })

  it('routes every URL the gateway hands to providers and browsers (service/public-paths.ts), and nothing else', () => {
    // Assess
    for (const provider of PROVIDERS) {
      expect(isRouted('POST', notificationPath(provider)), provider).toBe(true)
      expect(isRouted('GET', `${callbackPrefixPath(provider)}01J9ZK3Q.signed-link_x`), provider).toBe(true)
    }
    // Worldline posts below its notification URL.
    expect(isRouted('POST', `${notificationPath('WORLDLINE')}/notification/status`)).toBe(true)
    expect(isRouted('POST', OAUTH_TOKEN_PATH)).toBe(true)
    expect(isRouted('GET', JWKS_PATH)).toBe(true)
    expect(isRouted('GET', HEALTH_PATH)).toBe(true)
    // A callback is only ever a GET, a token request only ever a POST, GraphQL takes no PUT.
    expect(isRouted('POST', `${callbackPrefixPath('YAPILY')}token`)).toBe(false)
    expect(isRouted('GET', OAUTH_TOKEN_PATH)).toBe(false)
    expect(isRouted('PUT', '/graphql')).toBe(false)
  })

  it('streams GraphQL from the function for up to 900 s; buffers everything else, within 29 s', () => {
    // Prepare
    const graphqlArn = String(functionOf(HANDLERS.graphql).state.arn)

    // Assess
    for (const [key, route] of Object.entries(restRoutes())) {
      if (GRAPHQL_ROUTES.includes(key)) {
        expect(route.integration?.inputs, key).toMatchObject({
          type: 'AWS_PROXY',
          responseTransferMode: 'STREAM',
          timeoutMilliseconds: 900_000,
          uri: `arn:aws:apigateway:eu-west-1:lambda:path/2021-11-15/functions/${graphqlArn}/response-streaming-invocations`,
        })
      } else {
        expect(route.integration?.inputs, key).toMatchObject({ type: 'AWS_PROXY', responseTransferMode: 'BUFFERED' })
        expect(route.integration?.inputs.timeoutMilliseconds, key).toBeUndefined()
      }
    }
    expect(functionOf(HANDLERS.publicApi).inputs.timeout).toBe(30)
    // Lambda's streaming handler: the function wraps its handler in awslambda.streamifyResponse.
    expect(functionOf(HANDLERS.graphql).inputs.timeout).toBe(
      (restRoutes()['POST /graphql']?.integration?.inputs.timeoutMilliseconds as number) / 1000,
    )
  })

  it('puts GET and POST /graphql behind the authorizer and a usage plan; the preflight and the public routes not', () => {
    // Prepare
    const authorizerId = app.one(REST_AUTHORIZER).id

    // Assess: providers, browsers and token requests authenticate themselves (signatures, signed links, client
    // credentials); a browser's preflight carries no credentials.
    for (const [key, route] of Object.entries(restRoutes())) {
      const guarded = key === 'GET /graphql' || key === 'POST /graphql'
      expect(route.method.inputs.authorization, key).toBe(guarded ? 'CUSTOM' : 'NONE')
      expect(route.method.inputs.authorizerId, key).toBe(guarded ? authorizerId : undefined)
      expect(route.method.inputs.apiKeyRequired ?? false, key).toBe(guarded)
    }
  })

  it('has a REQUEST authorizer on the Authorization header, cached 300 s, run by the authorizer function', () => {
    // Prepare
    const authorizer = app.one(REST_AUTHORIZER)
    const fn = functionOf(HANDLERS.authorizer)

    // Assess
    expect(authorizer.inputs).toMatchObject({
      type: 'REQUEST',
      identitySource: 'method.request.header.Authorization',
      authorizerResultTtlInSeconds: 300,
      authorizerUri: fn.state.invokeArn,
    })
    expect(fn.inputs.timeout).toBe(10)
  })

  it("gives tenants without a plan of their own the stage's default usage plan, whose key the authorizer names", () => {
    // Prepare
    const plan = app.one(USAGE_PLAN)
    const key = app.one(API_KEY)

    // Assess
    expect(plan.inputs).toMatchObject({
      apiStages: [{ apiId: app.one(REST_API).id, stage: 'ci' }],
      throttleSettings: { rateLimit: DEFAULT_STAGE_LIMITS.rate, burstLimit: DEFAULT_STAGE_LIMITS.burst },
      quotaSettings: { limit: DEFAULT_STAGE_LIMITS.quotaPerDay, period: 'DAY' },
    })
    expect(app.one(USAGE_PLAN_KEY).inputs).toEqual({ keyId: key.id, keyType: 'API_KEY', usagePlanId: plan.id })
    expect(variablesOf(functionOf(HANDLERS.authorizer)).DEFAULT_API_KEY).toBe(key.inputs.value)
    expect(String(key.inputs.value).length).toBeGreaterThanOrEqual(20)
    // set-limits finds the stage its tenants' plans attach to.
    expect(app.all('sst:sst:Linkable').map((linkable) => linkable.name)).toContain('GatewayStage')
  })

  it('answers its own refusals as GraphQL errors: 429 RATE_LIMITED with Retry-After, 401 with a challenge', () => {
    // Prepare
    const byType = Object.fromEntries(
      app.all(GATEWAY_RESPONSE).map((response) => [response.inputs.responseType, response]),
    )
    const bodyOf = (type: string) =>
      JSON.parse(String((byType[type]?.inputs.responseTemplates as Record<string, string>)['application/json']))

    // Assess
    expect(Object.keys(byType).sort()).toEqual(['QUOTA_EXCEEDED', 'THROTTLED', 'UNAUTHORIZED'])
    for (const type of ['THROTTLED', 'QUOTA_EXCEEDED']) {
      expect(byType[type]?.inputs.statusCode, type).toBe('429')
      const retryAfter = (byType[type]?.inputs.responseParameters as Record<string, string>)[
        'gatewayresponse.header.Retry-After'
      ]
      expect(bodyOf(type).errors[0].extensions, type).toMatchObject({
        code: 'RATE_LIMITED',
        retryable: true,
        retryAfterSeconds: Number(retryAfter?.replace(/'/g, '')),
      })
    }
    expect(byType.UNAUTHORIZED?.inputs.statusCode).toBe('401')
    expect(bodyOf('UNAUTHORIZED').errors[0].extensions.code).toBe('UNAUTHORIZED')
    // A deployment picks them up.
    expect(JSON.stringify(app.one(REST_DEPLOYMENT).inputs.triggers)).toContain('gatewayResponses')
  })

  it('may invoke the GraphQL, public and authorizer functions, and only from itself', () => {
    // Prepare: API Gateway's permissions, but the WebSocket API's (websocket.test.ts)
    const executionArn = app.one(REST_API).state.executionArn as string
    const webSocketArn = app.one(V2_API).state.executionArn as string
    const fromApi = app
      .all(PERMISSION)
      .filter((permission) => permission.inputs.principal === 'apigateway.amazonaws.com')
      .filter((permission) => !String(permission.inputs.sourceArn).startsWith(`${webSocketArn}/`))

    // Assess
    expect(new Set(fromApi.map((permission) => permission.inputs.function))).toEqual(
      new Set(
        [HANDLERS.graphql, HANDLERS.publicApi, HANDLERS.authorizer].map((handler) => functionOf(handler).state.arn),
      ),
    )
    for (const permission of fromApi)
      expect(String(permission.inputs.sourceArn)).toMatch(new RegExp(`^${executionArn}/`))
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

  it('is one of the entry points scripts/build-functions.ts builds (what the bundle tests and benches run), and each is deployed', () => {
    // Prepare
    const deployed = app.builds.map((build) => `${build.handler.slice(0, build.handler.lastIndexOf('.'))}.ts`)

    // Assess
    expect(deployed.sort()).toEqual(Object.values(FUNCTIONS).sort())
  })

  it('names a handler module that exists', () => {
    // Assess
    for (const build of app.builds) {
      const module = build.handler.slice(0, build.handler.lastIndexOf('.'))
      expect(existsSync(join(ROOT, `${module}.ts`)), module).toBe(true)
    }
  })

  it('is linked to the table and every secret, each carrying the value the stage set', () => {
    // Assess
    for (const build of app.builds) {
      expect(Object.keys(build.links).sort(), build.functionID).toEqual(['Table', ...Object.keys(EVERY_SECRET)].sort())
      for (const [name, value] of Object.entries(EVERY_SECRET)) {
        expect(build.links[name], `${build.functionID} ${name}`).toMatchObject({ value })
      }
    }
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

  it('is told the REST API (its stage, no trailing slash) as its public base URL, and starts with every provider when every secret is set', () => {
    // Assess
    expect(apiEndpoint).toMatch(/^https:\/\//)
    for (const fn of app.all(FUNCTION)) {
      const config = deployedConfig(variablesOf(fn), linksOf(fn))
      expect(config.publicBaseUrl, fn.name).toBe(apiEndpoint)
      expect(config.tableName, fn.name).toBe(app.one(TABLE).inputs.name)
      expect(config.providers, fn.name).toEqual({
        finqware: expect.anything() as unknown,
        worldline: expect.anything() as unknown,
        yapily: expect.anything() as unknown,
      })
    }
  })

  it("fits Lambda's 4 KB of environment variables with every secret set and an RSA-4096 Worldline key", () => {
    // Assess: measured as JSON, the variables as the Lambda API receives them (SST's own included), which counts a
    // little more than names and values alone.
    for (const fn of app.all(FUNCTION)) {
      const bytes = Buffer.byteLength(JSON.stringify(variablesOf(fn)))
      expect(bytes, fn.name).toBeLessThanOrEqual(4096)
    }
  })

  it('holds no secret in its environment, which the Lambda console shows to whoever may read the function', () => {
    // Assess: no variable is a secret, and none carries one of 8 characters or more (a shorter one, like the path
    // prefix `/v2`, could turn up inside SST_KEY's random base64 by chance).
    const secretValues = Object.values(EVERY_SECRET)
    for (const fn of app.all(FUNCTION)) {
      const variables = variablesOf(fn)
      for (const [name, value] of Object.entries(variables)) {
        for (const secret of secretValues) {
          const carries = value === secret || (secret.length >= 8 && value.includes(secret))
          expect(carries, `${fn.name} ${name}`).toBe(false)
        }
      }
    }
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
  it('gives the GraphQL URL, on the REST API', () => {
    // Assess
    expect(app.module.graphqlUrl).toBe(`${apiEndpoint}/graphql`)
  })

  it('gives each provider its webhook URL on the REST API', () => {
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

  it('gives the token endpoint and the key set on the REST API', () => {
    // Assess
    expect(app.module.tokenUrl).toBe(`${apiEndpoint}${OAUTH_TOKEN_PATH}`)
    expect(app.module.jwksUrl).toBe(`${apiEndpoint}${JWKS_PATH}`)
  })

  it('gives the graphql-ws URL, on the WebSocket API', () => {
    // Assess
    expect(app.module.graphqlWsUrl).toBe(
      `wss://${app.one(V2_API).id.toLowerCase()}.execute-api.eu-west-1.amazonaws.com/$default`,
    )
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
        'graphqlWsUrl',
      ].sort(),
    )
  })
})
