// Where `npm run admin` works, found without flags: a deployed stage's table under `npx sst shell --stage <name>`
// (SST's linked resources), a table the environment names (TABLE_NAME, with DYNAMODB_ENDPOINT for a DynamoDB Local),
// or else the table of the `npm start` running from this directory (its runtime file).
import { readRuntimeFile } from '../local/runtime-file.ts'
import type { GatewayStage } from '../service/usage-plans.ts'

export interface AdminTarget {
  /** `aws`: DynamoDB with the caller's AWS credentials; `local`: DynamoDB Local, whose credentials are fixed. */
  readonly kind: 'aws' | 'local'
  readonly tableName: string
  /** DynamoDB Local's URL (local targets only). */
  readonly endpoint?: string | undefined
  readonly region?: string | undefined
  /** What it is, for messages: `npm start (pid 4242)`, `stage dev`... */
  readonly description: string
  /** The REST API stage whose usage plans `set-limits` makes (AWS only: npm start has no API Gateway). */
  readonly gatewayStage?: GatewayStage | undefined
}

/** Nothing to work against, or a leftover that says so: not the input's fault (exit 1). */
export class TargetError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TargetError'
  }
}

/** SST's linked resources as `sst shell` provides them (`Resource` of the sst package); only what is read here. */
export interface LinkedResources {
  readonly Table?: { readonly name?: unknown }
  readonly App?: { readonly stage?: unknown }
  /** The REST API and its stage (infra/api.ts). */
  readonly GatewayStage?: { readonly restApiId?: unknown; readonly stageName?: unknown }
}

/** The linked REST API stage, when it names one. */
function gatewayStageOf(resources: LinkedResources | null): GatewayStage | undefined {
  const { restApiId, stageName } = resources?.GatewayStage ?? {}
  return typeof restApiId === 'string' && restApiId && typeof stageName === 'string' && stageName
    ? { restApiId, stageName }
    : undefined
}

const SST_SHELL = 'npx sst shell --stage <name> -- npm run admin -- <command>'

export function resolveTarget(env: NodeJS.ProcessEnv, dataDir: string, resources: LinkedResources | null): AdminTarget {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION
  // 1. Under `sst shell`: the stage's table, with the credentials and region the shell set.
  if (resources?.Table) {
    const name = resources.Table.name
    if (typeof name !== 'string' || name === '') throw new TargetError('SST links a Table without a name')
    const stage = typeof resources.App?.stage === 'string' ? resources.App.stage : null
    return {
      kind: 'aws',
      tableName: name,
      region,
      description: `${stage ? `stage ${stage}, ` : ''}table ${name}${region ? ` in ${region}` : ''}`,
      gatewayStage: gatewayStageOf(resources),
    }
  }
  // 2. A table and a DynamoDB Local the environment names, as service/config.ts reads them.
  if (env.TABLE_NAME && env.DYNAMODB_ENDPOINT) {
    return {
      kind: 'local',
      tableName: env.TABLE_NAME,
      endpoint: env.DYNAMODB_ENDPOINT,
      description: `table ${env.TABLE_NAME} at ${env.DYNAMODB_ENDPOINT}`,
    }
  }
  // 3. A deployed table named in the environment, with whatever AWS credentials the environment has.
  if (env.TABLE_NAME) {
    return {
      kind: 'aws',
      tableName: env.TABLE_NAME,
      region,
      description: `table ${env.TABLE_NAME}${region ? ` in ${region}` : ''}`,
    }
  }
  // 4. The `npm start` of this directory.
  const local = readRuntimeFile(dataDir)
  if (local.state === 'running') {
    return {
      kind: 'local',
      tableName: local.runtime.tableName,
      endpoint: local.runtime.dynamoEndpoint,
      description: `npm start (pid ${local.runtime.pid}${local.runtime.inMemory ? ', in memory' : ''})`,
    }
  }
  if (local.state === 'stale') {
    throw new TargetError(
      `npm start is not running: ${local.file} is left from pid ${local.runtime.pid}, which has ended; start it again with npm start`,
    )
  }
  if (local.state === 'unreadable') throw new TargetError(`Cannot read ${local.file}: ${local.reason}`)
  throw new TargetError(
    `Nothing to administer: npm start is not running here (no ${local.file}) and no deployed stage is linked; ` +
      `start npm start, or run ${SST_SHELL}`,
  )
}
