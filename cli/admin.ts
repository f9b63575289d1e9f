// `npm run admin -- <command> [flags]`: partner administration (tenants, API clients, origins, trusted documents,
// request limits, the admin log) through service/tenant-admin.ts (built by composition/tenant-admin.ts), against the running `npm start` of this directory or, under
// `npx sst shell --stage <name>`, a deployed stage. Exit 0 done, 2 bad input (nothing changed), 1 anything else.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

import { readFileSync, statSync } from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ServiceUnavailableError } from '../domain/errors.ts'
import { ADMIN_LIMITS, AdminInputError, DEFAULT_GRACE_HOURS } from '../service/admin-input.ts'
import { AdminConcurrentChangeError, type TenantAdmin } from '../service/tenant-admin.ts'
import { createTenantAdmin } from '../composition/tenant-admin.ts'
import { createDocumentClient, createDynamoClient } from '../store/client.ts'
import { operatorOf } from './operator.ts'
import type { GatewayStage, UsagePlans } from '../service/usage-plans.ts'
import { resolveTarget, TargetError, type AdminTarget, type LinkedResources } from './target.ts'

const EXIT_OK = 0
const EXIT_FAILED = 1
const EXIT_BAD_INPUT = 2

/** Bad command-line input: exit 2, nothing read or written. */
class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>
type Values = Record<string, string | boolean | undefined>

interface Context {
  readonly admin: TenantAdmin
  /** The operator, established on first need (a change); an STS call on AWS. */
  readonly actor: () => Promise<string>
}

interface Output {
  /** What `--json` prints: one JSON document. */
  readonly json: unknown
  /** What is printed otherwise. */
  readonly text: string
}

interface Command {
  readonly usage: string
  readonly summary: string
  readonly options: Options
  /** Positional arguments after the flags (origins, a manifest path); none otherwise. */
  readonly positionals?: string
  run(context: Context, values: Values, positionals: string[]): Promise<Output>
}

const TENANT = { tenant: { type: 'string' } } as const satisfies Options
const CLIENT = { client: { type: 'string' }, tenant: { type: 'string' } } as const satisfies Options

function required(values: Values, name: string, command: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value === '') throw new UsageError(`${command} needs --${name}`)
  return value
}

const optional = (values: Values, name: string): string | undefined =>
  typeof values[name] === 'string' ? values[name] : undefined

/** Lines of aligned columns (the first row names them). */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

const lines = (pairs: readonly (readonly [string, string])[]) => table(pairs.map(([name, value]) => [name, value]))

const COMMANDS: Record<string, Command> = {
  'create-tenant': {
    usage: 'create-tenant --name <name>',
    summary: 'a new tenant (a partner); prints its id',
    options: { name: { type: 'string' } },
    async run({ admin, actor }, values) {
      const tenant = await admin.createTenant({ name: required(values, 'name', 'create-tenant') }, await actor())
      return {
        json: tenant,
        text: lines([
          ['Tenant id', tenant.tenantId],
          ['Name', tenant.name],
        ]),
      }
    },
  },
  'list-tenants': {
    usage: 'list-tenants',
    summary: 'every tenant',
    options: {},
    async run({ admin }) {
      const tenants = await admin.listTenants()
      return {
        json: { tenants },
        text: table([
          ['TENANT', 'NAME', 'ORIGINS', 'CREATED'],
          ...tenants.map((t) => [t.tenantId, t.name, String(t.allowedOrigins.length), t.createdAt]),
        ]),
      }
    },
  },
  'show-tenant': {
    usage: 'show-tenant --tenant <id>',
    summary: "a tenant's name and allowed origins",
    options: TENANT,
    async run({ admin }, values) {
      const tenant = await admin.getTenant(required(values, 'tenant', 'show-tenant'))
      return {
        json: tenant,
        text: lines([
          ['Tenant id', tenant.tenantId],
          ['Name', tenant.name],
          ['Origins', tenant.allowedOrigins.join(' ') || '(none)'],
          ['Created', tenant.createdAt],
        ]),
      }
    },
  },
  'create-client': {
    usage: 'create-client --tenant <id> --name <name>',
    summary: 'a new API client of the tenant; prints its secret, once',
    options: { ...TENANT, name: { type: 'string' } },
    async run({ admin, actor }, values) {
      const tenantId = required(values, 'tenant', 'create-client')
      const name = required(values, 'name', 'create-client')
      const { client, clientSecret } = await admin.createClient({ tenantId, name }, await actor())
      return {
        json: { ...client, clientSecret },
        text: [
          lines([
            ['Client id', client.clientId],
            ['Client secret', clientSecret],
            ['Tenant', client.tenantId],
            ['Name', client.name],
          ]),
          'The secret is shown this once: only its hash is kept. Store it now.',
        ].join('\n'),
      }
    },
  },
  'list-clients': {
    usage: 'list-clients --tenant <id>',
    summary: "the tenant's API clients (never a secret)",
    options: TENANT,
    async run({ admin }, values) {
      const clients = await admin.listClients(required(values, 'tenant', 'list-clients'))
      return {
        json: { clients },
        text: table([
          ['CLIENT', 'NAME', 'STATE', 'ROTATED', 'OLD SECRET UNTIL'],
          ...clients.map((c) => [
            c.clientId,
            c.name,
            c.disabled ? 'disabled' : 'enabled',
            c.secretRotatedAt ?? '-',
            c.previousSecretUntil ?? '-',
          ]),
        ]),
      }
    },
  },
  'rotate-secret': {
    usage: `rotate-secret --client <id> [--tenant <id>] [--grace-hours ${DEFAULT_GRACE_HOURS}]`,
    summary: 'a new secret, printed once; the old one works for the grace period (0: stops now)',
    options: { ...CLIENT, 'grace-hours': { type: 'string' } },
    async run({ admin, actor }, values) {
      const grace = optional(values, 'grace-hours')
      if (grace !== undefined && !/^\d{1,4}(\.\d{1,3})?$/.test(grace)) {
        throw new UsageError(`--grace-hours takes hours, e.g. 24 or 0.5 (0 to ${ADMIN_LIMITS.maxGraceHours})`)
      }
      const rotated = await admin.rotateSecret(
        {
          clientId: required(values, 'client', 'rotate-secret'),
          tenantId: optional(values, 'tenant'),
          graceHours: grace === undefined ? undefined : Number(grace),
        },
        await actor(),
      )
      return {
        json: {
          ...rotated.client,
          clientSecret: rotated.clientSecret,
          droppedEarlierSecret: rotated.droppedEarlierSecret,
        },
        text: [
          lines([
            ['Client id', rotated.client.clientId],
            ['Client secret', rotated.clientSecret],
            ['Old secret until', rotated.previousSecretUntil],
          ]),
          'The secret is shown this once: only its hash is kept. Store it now.',
          ...(rotated.droppedEarlierSecret
            ? ['The secret rotated out before this one, still in its grace, stopped working now.']
            : []),
        ].join('\n'),
      }
    },
  },
  'disable-client': {
    usage: 'disable-client --client <id> [--tenant <id>]',
    summary: 'refuse the client (new credentials at once, cached ones within the cache period, 60 s)',
    options: CLIENT,
    run: (context, values) => setDisabled(context, values, true),
  },
  'enable-client': {
    usage: 'enable-client --client <id> [--tenant <id>]',
    summary: 'accept a disabled client again',
    options: CLIENT,
    run: (context, values) => setDisabled(context, values, false),
  },
  'set-origins': {
    usage: 'set-origins --tenant <id> <origin...> | --none',
    summary: 'the web origins (https://host[:port], http://localhost[:port]) whose pages may call with user tokens',
    options: { ...TENANT, none: { type: 'boolean' } },
    positionals: '<origin...>',
    async run({ admin, actor }, values, origins) {
      const tenantId = required(values, 'tenant', 'set-origins')
      if (values.none === true && origins.length > 0)
        throw new UsageError('set-origins takes origins or --none, not both')
      if (values.none !== true && origins.length === 0) {
        throw new UsageError('set-origins needs the origins (or --none to remove them all)')
      }
      const tenant = await admin.setOrigins({ tenantId, origins }, await actor())
      return {
        json: tenant,
        text: lines([
          ['Tenant id', tenant.tenantId],
          ['Origins', tenant.allowedOrigins.join(' ') || '(none)'],
        ]),
      }
    },
  },
  'register-documents': {
    usage: 'register-documents --tenant <id> <manifest.json>',
    summary: 'trusted documents ({ "<id or sha256>": "<GraphQL document>" }) the apps may run with user tokens',
    options: TENANT,
    positionals: '<manifest.json>',
    async run({ admin, actor }, values, paths) {
      const tenantId = required(values, 'tenant', 'register-documents')
      if (paths.length !== 1 || !paths[0]) throw new UsageError('register-documents needs one manifest file')
      const result = await admin.registerDocuments({ tenantId, manifest: readManifest(paths[0]) }, await actor())
      return {
        json: result,
        text: [
          `Registered ${result.registered.length} document(s), ${result.unchanged.length} already registered.`,
          ...result.registered.map((id) => `  + ${id}`),
        ].join('\n'),
      }
    },
  },
  'list-documents': {
    usage: 'list-documents --tenant <id>',
    summary: "the tenant's trusted documents",
    options: TENANT,
    async run({ admin }, values) {
      const documents = await admin.listDocuments(required(values, 'tenant', 'list-documents'))
      return {
        json: { documents },
        text: table([
          ['ID', 'OPERATIONS', 'REGISTERED'],
          ...documents.map((d) => [d.documentId, d.operations.join(', '), d.registeredAt]),
        ]),
      }
    },
  },
  'set-limits': {
    usage: 'set-limits --tenant <id> --rate <requests/s> --burst <n> --quota <requests/day>',
    summary: "the tenant's request limits (on AWS its API Gateway usage plan; under npm start the in-process bucket)",
    options: { ...TENANT, rate: { type: 'string' }, burst: { type: 'string' }, quota: { type: 'string' } },
    async run({ admin, actor }, values) {
      const number = (name: string, pattern: RegExp, what: string) => {
        const value = required(values, name, 'set-limits')
        if (!pattern.test(value)) throw new UsageError(`--${name} takes ${what}`)
        return Number(value)
      }
      const tenant = await admin.setLimits(
        {
          tenantId: required(values, 'tenant', 'set-limits'),
          rate: number('rate', /^\d{1,5}(\.\d{1,3})?$/, 'requests per second, e.g. 10 or 0.5'),
          burst: number('burst', /^\d{1,5}$/, 'a whole number of requests'),
          quotaPerDay: number('quota', /^\d{1,10}$/, 'a whole number of requests per day'),
        },
        await actor(),
      )
      const limits = tenant.rateLimits
      return {
        json: tenant,
        text: lines([
          ['Tenant id', tenant.tenantId],
          ['Rate', `${limits?.rate ?? '-'} requests/s, burst ${limits?.burst ?? '-'}`],
          ['Quota', `${limits?.quotaPerDay ?? '-'} requests/day (UTC)`],
          ['Usage plan', tenant.usagePlanId ?? '(none: applied by npm start itself)'],
        ]),
      }
    },
  },
  'list-log': {
    usage: 'list-log [--tenant <id>] [--limit 50] [--before <entry id>]',
    summary: 'the admin log, newest first: who changed what, when (one tenant, or all)',
    options: { ...TENANT, limit: { type: 'string' }, before: { type: 'string' } },
    async run({ admin }, values) {
      const limit = optional(values, 'limit')
      if (limit !== undefined && !/^\d{1,6}$/.test(limit)) throw new UsageError('--limit takes a whole number')
      const page = await admin.listLog({
        tenantId: optional(values, 'tenant'),
        limit: limit === undefined ? undefined : Number(limit),
        before: optional(values, 'before'),
      })
      return {
        json: page,
        text: [
          table([
            ['WHEN', 'WHO', 'WHAT', 'TARGET', 'DETAILS'],
            ...page.entries.map((e) => [e.at, e.actor, e.action, e.target, JSON.stringify(e.details)]),
          ]),
          ...(page.next ? [`Older entries: list-log --before ${page.next}`] : []),
        ].join('\n'),
      }
    },
  },
}

async function setDisabled({ admin, actor }: Context, values: Values, disabled: boolean): Promise<Output> {
  const command = disabled ? 'disable-client' : 'enable-client'
  const { client, changed } = await admin.setClientDisabled(
    { clientId: required(values, 'client', command), tenantId: optional(values, 'tenant'), disabled },
    await actor(),
  )
  return {
    json: { ...client, changed },
    text: `Client ${client.clientId} is ${disabled ? 'disabled' : 'enabled'}${changed ? '' : ' (it was already)'}.`,
  }
}

function readManifest(path: string): string {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    throw new UsageError(`Cannot read the manifest ${JSON.stringify(path)}`)
  }
  if (size > ADMIN_LIMITS.manifestBytes) {
    throw new AdminInputError(`The manifest is larger than ${ADMIN_LIMITS.manifestBytes} bytes`)
  }
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw new UsageError(`Cannot read the manifest ${JSON.stringify(path)}`)
  }
}

/** Flags every command takes. */
const COMMON = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  actor: { type: 'string' },
  'data-dir': { type: 'string' },
} as const satisfies Options

const HELP = `npm run admin -- <command> [flags]

Partner administration: tenants, API clients, web origins, trusted documents, and the log of every change.

Commands:
${Object.values(COMMANDS)
  .map((command) => `  ${command.usage}\n      ${command.summary}`)
  .join('\n')}

Every command takes:
  --json             print one JSON document instead of text
  --actor <name>     a name recorded beside your identity in the admin log (your AWS identity or user@host)
  --data-dir <dir>   where the local npm start keeps its runtime file (default .data, as npm start)
  --help             this text

Where it works, found by itself:
  - under npx sst shell --stage <name> -- npm run admin -- <command>: that stage's table, as your AWS identity;
  - with TABLE_NAME set: that table (on AWS, or at DYNAMODB_ENDPOINT when that is set too);
  - otherwise the npm start running from this directory (in memory too).

Exit codes: 0 done; 2 bad input (unknown command, missing or malformed flag, unknown tenant or client, bad manifest):
nothing changed; 1 anything else (nothing running, store unreachable, a change racing this one). ADMIN_DEBUG=1 adds
the whole error of an unexpected failure.`

/** The linked resources of `sst shell` (none outside it). */
async function linkedResources(env: NodeJS.ProcessEnv): Promise<LinkedResources | null> {
  if (!Object.keys(env).some((name) => name.startsWith('SST_RESOURCE_') || name === 'SST_RESOURCES_JSON')) {
    return null
  }
  const { Resource } = await import('sst/resource')
  const linked = Resource as unknown as Record<string, unknown>
  return {
    ...('Table' in linked ? { Table: linked.Table as LinkedResources['Table'] } : {}),
    ...('App' in linked ? { App: linked.App as LinkedResources['App'] } : {}),
    ...('GatewayStage' in linked ? { GatewayStage: linked.GatewayStage as LinkedResources['GatewayStage'] } : {}),
  }
}

/** API Gateway's usage plans on the stage's REST API (its endpoint as the SDK finds it: AWS_ENDPOINT_URL_API_GATEWAY). */
async function usagePlansOf(stage: GatewayStage, region: string | undefined): Promise<UsagePlans> {
  const [{ APIGatewayClient }, { ApiGatewayUsagePlans }] = await Promise.all([
    import('@aws-sdk/client-api-gateway'),
    import('../service/usage-plans.ts'),
  ])
  return new ApiGatewayUsagePlans(new APIGatewayClient(region ? { region } : {}), stage)
}

/** One line for whatever went wrong: the message an operator can act on, never a stack. */
function failureMessage(error: unknown, target: AdminTarget | null): string {
  const where = target ? ` (${target.description})` : ''
  if (error instanceof ServiceUnavailableError) {
    return target?.kind === 'local'
      ? `The store does not answer${where}: is npm start still running? (${error.reason})`
      : `DynamoDB does not answer${where} (${error.reason})`
  }
  const name = (error as { name?: unknown } | null)?.name
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
  if (name === 'ResourceNotFoundException') return `The table does not exist${where}`
  if (name === 'CredentialsProviderError' || name === 'ProviderError') {
    return `No AWS credentials${where}: run it as npx sst shell --stage <name> -- npm run admin -- <command>`
  }
  if (name === 'UnrecognizedClientException' || name === 'AccessDeniedException') {
    return `AWS refused the credentials${where}: ${message}`
  }
  return `${typeof name === 'string' ? `${name}: ` : ''}${message}`
}

/** Where the command's name is: the first argument that is neither a flag nor a common flag's value. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--') return i + 1 < argv.length ? i + 1 : -1
    if (!arg.startsWith('-')) return i
    const option = COMMON[arg.slice(2) as keyof typeof COMMON] as { type: string } | undefined
    if (option?.type === 'string') i++
  }
  return -1
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const at = commandIndex(argv)
  const name = at === -1 ? undefined : argv[at]
  const rest = argv.filter((_, i) => i !== at)
  if (name === undefined || name === 'help') {
    const asked = name === 'help' || rest.includes('--help') || rest.includes('-h')
    ;(asked ? console.log : console.error)(asked ? HELP : `admin: name a command; npm run admin -- --help lists them`)
    return asked ? EXIT_OK : EXIT_BAD_INPUT
  }
  const command = COMMANDS[name]
  if (!command) {
    console.error(`admin: unknown command ${JSON.stringify(name)}; npm run admin -- --help lists them`)
    return EXIT_BAD_INPUT
  }
  let values: Values
  let positionals: string[]
  try {
    const parsed = parseArgs({
      args: [...rest],
      options: { ...COMMON, ...command.options },
      allowPositionals: command.positionals !== undefined,
      strict: true,
    })
    values = parsed.values
    positionals = parsed.positionals
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]?.replace(/\.$/, '')
    console.error(`admin: ${name}: ${reason}; usage: ${command.usage}`)
    return EXIT_BAD_INPUT
  }
  if (values.help === true) {
    console.log(`npm run admin -- ${command.usage}\n  ${command.summary}`)
    return EXIT_OK
  }

  let target: AdminTarget | null = null
  let dynamo: ReturnType<typeof createDynamoClient> | null = null
  try {
    target = resolveTarget(
      env,
      typeof values['data-dir'] === 'string' ? values['data-dir'] : '.data',
      await linkedResources(env),
    )
    const client = createDynamoClient({ endpoint: target.endpoint, region: target.region })
    dynamo = client
    const stage = target.gatewayStage
    if (name === 'set-limits' && target.kind === 'aws' && !stage) {
      throw new TargetError(
        `${target.description} links no REST API stage (GatewayStage): limits on AWS are API Gateway usage plans; ` +
          'deploy the stage with its REST API first',
      )
    }
    // The schema takes a second or two to build: only the command that checks documents against it loads it.
    const admin = createTenantAdmin(createDocumentClient(client), target.tableName, {
      ...(name === 'register-documents'
        ? { checkDocument: (await import('../schema/trusted-documents.ts')).checkTrustedDocument }
        : {}),
      // Only set-limits talks to API Gateway, and only on a stage that has one.
      ...(name === 'set-limits' && stage ? { usagePlans: await usagePlansOf(stage, target.region) } : {}),
    })
    let actor: Promise<string> | undefined
    const context: Context = {
      admin,
      actor: () =>
        (actor ??= operatorOf(target as AdminTarget, {
          env,
          statedName: typeof values.actor === 'string' ? values.actor : undefined,
          credentials: () => client.config.credentials(),
        })),
    }
    const output = await command.run(context, values, positionals)
    console.log(values.json === true ? JSON.stringify(output.json, null, 2) : output.text)
    return EXIT_OK
  } catch (error) {
    if (error instanceof UsageError || error instanceof AdminInputError) {
      console.error(`admin: ${error.message}`)
      return EXIT_BAD_INPUT
    }
    if (error instanceof TargetError || error instanceof AdminConcurrentChangeError) {
      console.error(`admin: ${error.message}`)
      return EXIT_FAILED
    }
    console.error(`admin: ${failureMessage(error, target)}`)
    if (env.ADMIN_DEBUG) console.error(error)
    return EXIT_FAILED
  } finally {
    dynamo?.destroy()
  }
}

process.exitCode = await main(process.argv.slice(2))
