// Runs sst.config.ts and infra/ offline, as `sst deploy` would evaluate them, against Pulumi's mocks instead of AWS:
// every resource they declare is recorded with its inputs and resource options, and every function build SST's CLI
// would be asked for is recorded with its settings.
//
// How, and why this way (the least fragile found):
// - The SST platform is used as installed by `sst install` (.sst/platform): its own components, its own copy of
//   @pulumi/pulumi and @pulumi/aws. Nothing of SST is re-implemented or replaced inside the program.
// - SST's CLI bundles sst.config.ts with esbuild and provides the globals: most come from the platform's shim
//   (src/shim/run.js: $config, $interpolate, $resolve, $util, $transform...), which is imported here and copied onto
//   globalThis as is, so a global SST adds later comes along by itself. The CLI itself defines only `$app` (from
//   sst.config.ts's `app()`, which is called here for the stage), `$dev` and `$cli`, and puts the components in `sst`
//   and the provider in `aws`: those are set here before the components load (the Cloudflare helpers read `$app` at
//   import; the shim does not, so it loads first, for sst.config.ts's `$config`).
// - What components ask of the CLI itself (builds, the bootstrap bucket) goes to a stand-in on loopback
//   (sst-cli-stand-in.ts), which records every build request.
// - @pulumi/pulumi is loaded from the platform's node_modules (createRequire), so `setMocks` configures the very
//   runtime the components register with.
// - Resource options (retainOnDelete, protect) never reach Pulumi's mocks, so a stack transformation records them
//   as each resource is constructed, after its parents' transformations (SST's components pass options down that
//   way); this needs the root stack, hence `runInPulumiStack`, exactly as a real program runs, and inside it SST's own
//   runner (src/auto/run.ts), whose transformations a deploy applies too.
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { vi } from 'vitest'
import { type BuildRequest, startCliStandIn } from './sst-cli-stand-in.ts'

export type { BuildRequest } from './sst-cli-stand-in.ts'

export const ROOT = resolve(import.meta.dirname, '../../..')
export const PLATFORM = join(ROOT, '.sst/platform')

/** Where the mocked AWS account lives; the values only need to look like AWS's. */
export const MOCK_AWS = { region: 'eu-west-1', account: '123456789012' } as const

/** The Pulumi types of the AWS resources the tests look for. */
export const AWS_TYPES = {
  FUNCTION: 'aws:lambda/function:Function',
  FUNCTION_URL: 'aws:lambda/functionUrl:FunctionUrl',
  PERMISSION: 'aws:lambda/permission:Permission',
  ROUTE: 'aws:apigatewayv2/route:Route',
  INTEGRATION: 'aws:apigatewayv2/integration:Integration',
  /** API Gateway's v2 APIs: HTTP APIs and WebSocket APIs alike (`protocolType` tells them apart). */
  V2_API: 'aws:apigatewayv2/api:Api',
  V2_STAGE: 'aws:apigatewayv2/stage:Stage',
  REST_API: 'aws:apigateway/restApi:RestApi',
  REST_RESOURCE: 'aws:apigateway/resource:Resource',
  REST_METHOD: 'aws:apigateway/method:Method',
  REST_INTEGRATION: 'aws:apigateway/integration:Integration',
  REST_AUTHORIZER: 'aws:apigateway/authorizer:Authorizer',
  REST_STAGE: 'aws:apigateway/stage:Stage',
  REST_DEPLOYMENT: 'aws:apigateway/deployment:Deployment',
  USAGE_PLAN: 'aws:apigateway/usagePlan:UsagePlan',
  USAGE_PLAN_KEY: 'aws:apigateway/usagePlanKey:UsagePlanKey',
  API_KEY: 'aws:apigateway/apiKey:ApiKey',
  GATEWAY_RESPONSE: 'aws:apigateway/response:Response',
  TABLE: 'aws:dynamodb/table:Table',
  SCHEDULE: 'aws:scheduler/schedule:Schedule',
  ROLE: 'aws:iam/role:Role',
  EVENT_INVOKE_CONFIG: 'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
  EVENT_SOURCE_MAPPING: 'aws:lambda/eventSourceMapping:EventSourceMapping',
  QUEUE: 'aws:sqs/queue:Queue',
} as const

/**
 * Private EC P-256 JWKs as TokenSigningKeys holds them (crypto/token-keys.ts), each named by a kid as long as the
 * RFC 7638 thumbprint `scripts/token-signing-keys.ts` gives it.
 */
export const tokenSigningKeysOf = (count: number): string =>
  JSON.stringify(
    Array.from({ length: count }, (_, index) => ({
      ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as object),
      kid: `${index}`.padStart(43, 'k'),
    })),
  )

/** The secrets a stage must set (every provider secret left at its default). */
export const REQUIRED_SECRETS = {
  CursorSecret: 'c'.repeat(48),
  UserReferenceKey: 'u'.repeat(48),
  TokenEncryptionKeys: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  TokenSigningKeys: tokenSigningKeysOf(1),
}

export interface RecordedResource {
  readonly type: string
  readonly name: string
  /** The id the mocks gave it (`<name>-id`), what other resources' inputs refer to. */
  readonly id: string
  /** The inputs as Pulumi resolved them (Outputs unwrapped, secrets revealed). */
  readonly inputs: Record<string, unknown>
  /** Paths (`environment.variables`) of the inputs Pulumi holds as secrets: encrypted in the state, masked in logs. */
  readonly secretInputs: readonly string[]
  /** The inputs plus what AWS would compute (ARNs, URLs), as other resources saw them. */
  readonly state: Record<string, unknown>
  readonly options: { readonly retainOnDelete?: boolean | undefined; readonly protect?: boolean | undefined }
}

export interface OfflineDeployment<T> {
  /** What `load` returned: the infra module (for the whole app: `run()`'s outputs, resolved). */
  readonly module: T
  readonly resources: readonly RecordedResource[]
  /** What the CLI was asked to build, one request per function. */
  readonly builds: readonly BuildRequest[]
  /** Every resource of `type`. */
  all(type: string): RecordedResource[]
  /** The one resource of `type` (whose name passes `where`, if given); throws when there is none or more than one. */
  one(type: string, where?: (name: string) => boolean): RecordedResource
}

type Pulumi = typeof $util

/** The part of sst.config.ts's default export these helpers call. */
interface AppConfig {
  app(input: { stage: string }): Record<string, unknown> | Promise<Record<string, unknown>>
  run(): Promise<Record<string, unknown> | void>
}

function platformRequire(): NodeJS.Require {
  if (!existsSync(join(PLATFORM, 'src/components/index.ts'))) {
    throw new Error('The SST platform is not installed: run `npm run infra:check` (it runs `sst install` first).')
  }
  return createRequire(join(PLATFORM, 'package.json'))
}

/** sst.config.ts's default export, loaded fresh (the shim's `$config` must be global first). */
async function appConfig(): Promise<AppConfig> {
  const config = (await import(join(ROOT, 'sst.config.ts'))) as { default: AppConfig }
  return config.default
}

/** Sets the globals SST's CLI gives sst.config.ts, for `stage`; `work` receives the functions' code archives. */
async function installSstGlobals(stage: string, work: string, require: NodeJS.Require): Promise<void> {
  Object.assign(globalThis, await import(join(PLATFORM, 'src/shim/run.js')))
  const app = await (await appConfig()).app({ stage })
  Object.assign(globalThis, {
    // The CLI's defaults where app() is silent: removal "retain", no protection, the home provider.
    $app: { removal: 'retain', protect: false, providers: { [String(app.home)]: {} }, ...app, stage },
    $dev: false,
    $cli: {
      command: 'deploy',
      rpc: '',
      paths: { home: String(app.home), root: ROOT, work, platform: PLATFORM },
      state: { version: {} },
    },
  })
  Object.assign(globalThis, {
    aws: require('@pulumi/aws') as unknown,
    sst: (await import(join(PLATFORM, 'src/components/index.ts'))) as unknown,
  })
}

/** What AWS would compute for a resource, enough for the outputs infra code and SST's components read. */
function computedState(type: string, name: string, id: string, inputs: Record<string, unknown>) {
  const { region, account } = MOCK_AWS
  const physical = typeof inputs.name === 'string' ? inputs.name : name
  const arn = `arn:aws:${type.split(/[:/]/)[1]}:${region}:${account}:${physical}`
  switch (type) {
    case 'aws:lambda/function:Function': {
      const functionArn = `arn:aws:lambda:${region}:${account}:function:${physical}`
      return {
        arn: functionArn,
        qualifiedArn: `${functionArn}:$LATEST`,
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${functionArn}/invocations`,
        responseStreamingInvokeArn: `arn:aws:apigateway:${region}:lambda:path/2021-11-15/functions/${functionArn}/response-streaming-invocations`,
        version: '$LATEST',
      }
    }
    case 'aws:lambda/functionUrl:FunctionUrl':
      return { functionUrl: `https://${id.toLowerCase()}.lambda-url.${region}.on.aws/` }
    case 'aws:apigatewayv2/api:Api':
      return {
        arn,
        // A WebSocket API's endpoint is wss://, an HTTP API's https://.
        apiEndpoint: `${inputs.protocolType === 'WEBSOCKET' ? 'wss' : 'https'}://${id.toLowerCase()}.execute-api.${region}.amazonaws.com`,
        executionArn: `arn:aws:execute-api:${region}:${account}:${id}`,
      }
    case 'aws:apigateway/restApi:RestApi':
      return { arn, executionArn: `arn:aws:execute-api:${region}:${account}:${id}`, rootResourceId: `${id}-root` }
    case 'aws:apigateway/apiKey:ApiKey':
      return { arn, value: inputs.value ?? `${id}-generated-value` }
    case 'aws:dynamodb/table:Table':
      return { arn, streamArn: `${arn}/stream/2026-01-01T00:00:00.000` }
    case 'aws:sqs/queue:Queue':
      return { arn, url: `https://sqs.${region}.amazonaws.com/${account}/${physical}` }
    case 'random:index/randomBytes:RandomBytes':
      return { base64: Buffer.alloc(32, 1).toString('base64'), hex: Buffer.alloc(32, 1).toString('hex') }
    default:
      return { arn }
  }
}

/** How Pulumi's wire format marks a secret: `{ [specialSigKey]: specialSecretSig, value }`. */
interface SecretSignature {
  readonly specialSigKey: string
  readonly specialSecretSig: string
}

/** `value` with every secret replaced by what it holds; the path of each secret found is added to `secrets`. */
function reveal(value: unknown, path: string, secrets: string[], signature: SecretSignature): unknown {
  if (Array.isArray(value)) return value.map((item, index) => reveal(item, `${path}[${index}]`, secrets, signature))
  if (value === null || typeof value !== 'object') return value
  const record = value as Record<string, unknown>
  if (record[signature.specialSigKey] === signature.specialSecretSig) {
    secrets.push(path)
    return reveal(record.value, path, secrets, signature)
  }
  return Object.fromEntries(
    Object.entries(record).map(([key, item]) => [key, reveal(item, path ? `${path}.${key}` : key, secrets, signature)]),
  )
}

/**
 * Evaluates `load` (which imports infra modules) on `stage` under Pulumi's mocks and returns every resource declared
 * and every function build requested. Modules are loaded afresh each time, so one test file can compare stages.
 *
 * @param secrets Secret values by secret name, as `sst secret set` would store them for the stage.
 */
export async function deployOffline<T>(
  stage: string,
  load: () => Promise<T>,
  { secrets = {} }: { secrets?: Record<string, string> } = {},
): Promise<OfflineDeployment<T>> {
  const require = platformRequire()
  // `sst deploy` hands secret values to the program as SST_SECRET_<Name> variables (read in src/components/secret.ts).
  for (const name of Object.keys(process.env)) if (name.startsWith('SST_SECRET_')) delete process.env[name]
  for (const [name, value] of Object.entries(secrets)) process.env[`SST_SECRET_${name}`] = value
  const pulumi = require('@pulumi/pulumi') as Pulumi
  const signature = pulumi.runtime as unknown as SecretSignature
  const work = mkdtempSync(join(tmpdir(), 'consent-gateway-infra-'))
  const cli = await startCliStandIn(work)
  process.env.SST_SERVER = cli.url
  try {
    vi.resetModules()
    await installSstGlobals(stage, work, require)

    const registered = new Map<string, Pick<RecordedResource, 'id' | 'inputs' | 'secretInputs' | 'state'>>()
    const options = new Map<string, RecordedResource['options'] & { type: string }>()
    await pulumi.runtime.setMocks(
      {
        newResource: ({ type, name, inputs: wireInputs }) => {
          const id = `${name}-id`
          const secretInputs: string[] = []
          const inputs = reveal(wireInputs, '', secretInputs, signature) as Record<string, unknown>
          const state = { ...inputs, ...computedState(type, name, id, inputs) }
          registered.set(`${type}::${name}`, { id, inputs, secretInputs, state })
          return { id, state }
        },
        call: ({ token, inputs }) => {
          const { region, account } = MOCK_AWS
          if (token === 'aws:index/getRegion:getRegion') return { name: region, region, id: region }
          if (token === 'aws:index/getPartition:getPartition') return { partition: 'aws', dnsSuffix: 'amazonaws.com' }
          if (token === 'aws:index/getCallerIdentity:getCallerIdentity') return { accountId: account }
          // The document as its statements, in JSON (enough to read which actions reach which resources).
          if (token === 'aws:iam/getPolicyDocument:getPolicyDocument')
            return { ...inputs, json: JSON.stringify(inputs) }
          return inputs as Record<string, unknown>
        },
      },
      'consent-gateway',
      stage,
      false,
    )

    // SST's own program runner (src/auto/run.ts): its stack transformations (e.g. `removal: 'retain'` keeping tables)
    // apply as on a real deploy; the recorder is registered after them, so it sees the options they set.
    const { run } = (await import(join(PLATFORM, 'src/auto/run.ts'))) as {
      run: (program: () => Promise<object>) => Promise<object>
    }
    let loaded: T | undefined
    await pulumi.runtime.runInPulumiStack(() =>
      run(async () => {
        pulumi.runtime.registerStackTransformation(({ type, name, opts }) => {
          options.set(`${type}::${name}`, { type, retainOnDelete: opts.retainOnDelete, protect: opts.protect })
          return undefined
        })
        loaded = await load()
        return {}
      }),
    )
    await settled(pulumi, () => registered.size, cli.busy)

    const resources = [...options.entries()].map(([key, { type, ...resourceOptions }]) => {
      const name = key.slice(type.length + 2)
      const { id, inputs, secretInputs, state } = registered.get(key) ?? {
        id: '',
        inputs: {},
        secretInputs: [],
        state: {},
      }
      return { type, name, id, inputs, secretInputs, state, options: resourceOptions }
    })
    const all = (type: string) => resources.filter((resource) => resource.type === type)
    return {
      module: loaded as T,
      resources,
      builds: cli.builds,
      all,
      one(type, where = () => true) {
        const found = all(type).filter((resource) => where(resource.name))
        if (found.length !== 1) throw new Error(`Expected one ${type}, found ${found.length}`)
        return found[0]
      },
    }
  } finally {
    delete process.env.SST_SERVER
    await cli.close()
    rmSync(work, { recursive: true, force: true })
  }
}

/** The whole app as `sst deploy --stage <stage>` runs it: sst.config.ts's `run()`, its outputs resolved. */
export async function deployApp(
  stage: string,
  options: { secrets?: Record<string, string> } = {},
): Promise<OfflineDeployment<Record<string, unknown>>> {
  const deployment = await deployOffline(stage, async () => (await (await appConfig()).run()) ?? {}, options)
  return { ...deployment, module: await valueOf(deployment.module) }
}

/** sst.config.ts's `app()` for `stage`: the app's name, home and stage policies. */
export async function appSettings(stage: string): Promise<Record<string, unknown>> {
  platformRequire()
  Object.assign(globalThis, await import(join(PLATFORM, 'src/shim/run.js')))
  return (await appConfig()).app({ stage })
}

/**
 * Waits until the program has declared everything. Components create resources inside `apply` callbacks, some after
 * a round trip to the CLI (builds), so: until no CLI call is in flight, Pulumi has no registration pending (its
 * `waitForRPCs`, what `disconnect` waits on, exported but marked internal) and no resource arrived for a few turns.
 */
async function settled(pulumi: Pulumi, count: () => number, busy: () => boolean): Promise<void> {
  const { waitForRPCs } = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }
  if (typeof waitForRPCs !== 'function') throw new Error('@pulumi/pulumi no longer exports runtime.waitForRPCs')
  for (let quiet = 0, seen = -1; quiet < 3;) {
    await waitForRPCs()
    await new Promise((done) => setTimeout(done, 20))
    quiet = count() === seen && !busy() ? quiet + 1 : 0
    seen = count()
  }
}

/** The value of an Output (or of a plain value holding Outputs), as the mocks resolved it. */
export function valueOf<T>(output: $util.Input<T>): Promise<$util.Unwrap<T>> {
  return new Promise((done) => $util.output(output).apply((value) => done(value)))
}
