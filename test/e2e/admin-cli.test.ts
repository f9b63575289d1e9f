// e2e: `npm run admin` as an operator runs it, a child process against a running `npm start -- --in-memory`, found
// with no flag (the runtime file in the data directory of the directory it runs from). It onboards a second tenant
// whose new client calls GraphQL and sees nothing of the demo tenant's; rotates, disables, enables; sets origins and
// registers trusted documents; every change is in the admin log with who, what and when. Bad input: exit 2, one line,
// nothing changed. The same tool under `sst shell`'s environment (a deployed stage's table, the caller's AWS
// identity from STS), and a clear exit 1 when nothing runs.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { hostname, tmpdir, userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signV4 } from '../../cli/aws-identity.ts'
import { freePort } from '../../local/dynamodb-local.ts'
import type { LocalRuntime } from '../../local/runtime-file.ts'
import { createDocumentClient } from '../../store/client.ts'
import { eventually } from '../support/stack.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const DEMO = { clientId: 'e2e-admin-demo', clientSecret: 'e2e-admin-demo-secret-0123456789' }
const OPERATOR = `${userInfo().username}@${hostname()}`

/** Where the operator works: its `.data` is npm start's data directory; node_modules is the repo's. */
let workDir: string
let child: ChildProcess
let output = ''
let runtime: LocalRuntime
let graphqlUrl: string

/** The environment without anything that would point the tool elsewhere than the running npm start. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env)) {
    if (/^(SST_|AWS_)|^TABLE_NAME$|^DYNAMODB_ENDPOINT$/.test(name)) delete env[name]
  }
  return { ...env, ...extra }
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

function runProcess(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((done, fail) => {
    const process = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    process.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    process.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    process.once('error', fail)
    process.once('close', (code) => done({ code, stdout, stderr }))
  })
}

/** The tool, run from the operator's directory with no flag but the command's own. */
const admin = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  runProcess(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/admin.ts'), ...args], {
    cwd: options.cwd ?? workDir,
    env: options.env ?? cleanEnv(),
  })

/** A command that must succeed with `--json`: its parsed output. */
async function adminJson(args: string[]): Promise<any> {
  const run = await admin([...args, '--json'])
  expect(run.stderr, args.join(' ')).toBe('')
  expect(run.code, args.join(' ')).toBe(0)
  return JSON.parse(run.stdout)
}

const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`

async function graphql(authorization: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  })
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } }
}

/** Every item of npm start's table, sorted. */
async function tableItems(): Promise<string[]> {
  const db = createDocumentClient({ endpoint: runtime.dynamoEndpoint })
  const items: Record<string, unknown>[] = []
  let start: Record<string, unknown> | undefined
  do {
    const page = await db.send(new ScanCommand({ TableName: runtime.tableName, ExclusiveStartKey: start }))
    items.push(...(page.Items ?? []))
    start = page.LastEvaluatedKey
  } while (start)
  return items.map((item) => JSON.stringify(item, Object.keys(item).sort())).sort()
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'admin-cli-'))
  await symlink(join(ROOT, 'node_modules'), join(workDir, 'node_modules'))
  const port = await freePort()
  child = spawn('npm', ['start', '--', '--in-memory', '--data-dir', join(workDir, '.data')], {
    cwd: ROOT,
    env: cleanEnv({
      PORT: String(port),
      FINQWARE_SANDBOX_PORT: String(await freePort()),
      WORLDLINE_SANDBOX_PORT: String(await freePort()),
      YAPILY_SANDBOX_PORT: String(await freePort()),
      CONSENT_GATEWAY_DEMO_CLIENT_ID: DEMO.clientId,
      CONSENT_GATEWAY_DEMO_CLIENT_SECRET: DEMO.clientSecret,
      LOG_LEVEL: 'WARN',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await eventually(async () => output.includes('Ctrl-C stops everything'), 60_000)
  runtime = JSON.parse(await readFile(join(workDir, '.data', 'runtime.json'), 'utf8')) as LocalRuntime
  graphqlUrl = `http://127.0.0.1:${port}/graphql`
}, 90_000)

afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL')
})

/** What the tests below share: the tenant and client the tool onboarded. */
const onboarded = { tenantId: '', clientId: '', clientSecret: '' }
const DEMO_TENANT = '01JD0DEM0TENANT000000000000'

describe('npm run admin against a running npm start', () => {
  it('finds npm start by its runtime file, which names its process, DynamoDB Local and table', async () => {
    expect(runtime).toMatchObject({
      pid: expect.any(Number),
      dynamoEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      tableName: 'consent-gateway',
      graphqlUrl,
      inMemory: true,
    })
    const help = await admin(['--help'])
    expect(help.code).toBe(0)
    for (const command of [
      'create-tenant',
      'create-client',
      'list-clients',
      'rotate-secret',
      'disable-client',
      'enable-client',
      'set-origins',
      'register-documents',
      'list-log',
    ]) {
      expect(help.stdout).toContain(command)
    }
    // The demo tenant npm start seeded, found with no flag at all.
    const { tenants } = await adminJson(['list-tenants'])
    expect(tenants).toEqual([expect.objectContaining({ tenantId: DEMO_TENANT, name: 'Demo partner' })])
  })

  it('onboards a tenant and its API client, whose secret is shown once and kept only as a hash', async () => {
    const tenant = await adminJson(['create-tenant', '--name', 'Second partner'])
    expect(tenant.tenantId).toMatch(/^tenant_[0-9A-HJKMNP-TV-Z]{26}$/)
    const client = await adminJson(['create-client', '--tenant', tenant.tenantId, '--name', 'backend'])
    expect(client).toMatchObject({ tenantId: tenant.tenantId, name: 'backend', disabled: false })
    expect(client.clientSecret).toMatch(/^[\w-]{43}$/)
    Object.assign(onboarded, {
      tenantId: tenant.tenantId,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
    })

    // The secret is nowhere in the table; the listing shows the client, never a secret or hash.
    expect((await tableItems()).join('\n')).not.toContain(client.clientSecret)
    const { clients } = await adminJson(['list-clients', '--tenant', tenant.tenantId])
    expect(clients).toEqual([expect.objectContaining({ clientId: client.clientId, disabled: false })])
    expect(JSON.stringify(clients)).not.toMatch(/scrypt|hmac-sha256|secret"/i)
  })
  it('refuses bad input with exit code 2 and one clear line, changing nothing', async () => {
    const manifest = join(workDir, 'bad-manifest.json')
    await writeFile(manifest, JSON.stringify({ ok: '{ __typename }', broken: '{ nope }' }))
    const notJson = join(workDir, 'not-json.json')
    await writeFile(notJson, '{ "a": ')
    const { tenantId, clientId } = onboarded
    const demoClient = DEMO.clientId
    const before = await tableItems()

    const cases: [string[], RegExp][] = [
      [[], /name a command/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['create-tenant'], /create-tenant needs --name/],
      [['create-tenant', '--name'], /argument missing/],
      [['create-tenant', '--name', 'x', '--colour', 'red'], /Unknown option '--colour'/],
      [['create-tenant', '--name', ' '], /name is empty/],
      [['create-tenant', '--name', 'x'.repeat(101)], /longer than 100/],
      [['create-client', '--name', 'x'], /needs --tenant/],
      [['create-client', '--tenant', 'tenant_01J0000000000000000000000X', '--name', 'x'], /There is no tenant/],
      [['create-client', '--tenant', 'T#1', '--name', 'x'], /not a tenant id/],
      [['list-clients', '--tenant', 'tenant_nobody'], /There is no tenant/],
      [['list-clients', '--tenant', tenantId, 'extra'], /Unexpected argument 'extra'/],
      [['rotate-secret'], /needs --client/],
      [['rotate-secret', '--client', 'client_nobody'], /There is no client "client_nobody"/],
      [['rotate-secret', '--client', clientId, '--grace-hours', 'soon'], /--grace-hours takes hours/],
      [['rotate-secret', '--client', clientId, '--grace-hours', '721'], /0 to 720/],
      // Another tenant's client, named with this tenant: answered as missing, in both directions.
      [['rotate-secret', '--client', demoClient, '--tenant', tenantId], /no client "e2e-admin-demo" in tenant/],
      [['disable-client', '--client', demoClient, '--tenant', tenantId], /no client "e2e-admin-demo" in tenant/],
      [['enable-client', '--client', clientId, '--tenant', DEMO_TENANT], /no client .* in tenant "01JD0DEM0/],
      [['disable-client', '--client', 'has space'], /not a client id/],
      [['set-origins', '--tenant', tenantId], /needs the origins/],
      [['set-origins', '--tenant', tenantId, 'https://app.example.com/login'], /has a path/],
      [['set-origins', '--tenant', tenantId, 'https://*.example.com'], /wildcard/],
      [['set-origins', '--tenant', tenantId, 'http://app.example.com'], /plain http/],
      [['set-origins', '--tenant', tenantId, '--none', 'https://a.example.com'], /not both/],
      [['set-origins', '--tenant', 'tenant_nobody', 'https://a.example.com'], /There is no tenant/],
      [['register-documents', '--tenant', tenantId], /needs one manifest file/],
      [['register-documents', '--tenant', tenantId, join(workDir, 'missing.json')], /Cannot read the manifest/],
      [['register-documents', '--tenant', tenantId, notJson], /not JSON/],
      [['register-documents', '--tenant', tenantId, manifest], /"broken": Cannot query field "nope"/],
      [['register-documents', '--tenant', 'tenant_nobody', manifest], /"broken"|There is no tenant/],
      [['list-log', '--limit', 'many'], /--limit takes a whole number/],
      [['list-log', '--tenant', 'tenant_nobody'], /There is no tenant/],
      [['list-log', '--before', 'not-an-id'], /not an admin log entry id/],
    ]
    for (const [args, message] of cases) {
      const run = await admin(args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stdout, args.join(' ')).toBe('')
      expect(run.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1)
      expect(run.stderr, args.join(' ')).toMatch(/^admin: /)
      expect(run.stderr, args.join(' ')).toMatch(message)
      expect(run.stderr, args.join(' ')).not.toMatch(/\bat \S+\.ts:\d+/)
    }
    expect(await tableItems()).toEqual(before)
  }, 180_000)

  it('lets the new client call GraphQL with its secret, seeing none of the demo tenant', async () => {
    const client = { clientId: onboarded.clientId, clientSecret: onboarded.clientSecret }
    // The demo tenant has a consent (and its history event).
    const demo = basic(DEMO.clientId, DEMO.clientSecret)
    const created = await graphql(
      demo,
      `mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA}) {
        ... on CreateConsentPayload { consent { id version } } } }`,
    )
    const demoConsent = created.body.data.createConsent.consent as { id: string; version: number }
    // The feed shows events once settled (a few seconds old).
    const demoEventId = await eventually(async () => {
      const feed = await graphql(demo, '{ consentEvents(first: 10) { edges { node { id } } } }')
      return feed.body.data.consentEvents.edges[0]?.node.id as string | undefined
    }, 20_000)

    // The new client, over every root field that can name or list a consent: nothing of the demo tenant.
    const mine = basic(client.clientId, client.clientSecret)
    const id = demoConsent.id
    const probes: [string, string, (data: any) => boolean][] = [
      [
        'consent',
        `{ consent(id: "${id}") { __typename ... on Error { code } } }`,
        (d) => d.consent.code === 'CONSENT_NOT_FOUND',
      ],
      ['consents', '{ consents(first: 50) { edges { node { id } } } }', (d) => d.consents.edges.length === 0],
      [
        'consents(userId)',
        '{ consents(first: 50, filter: {userId: "user-1"}) { edges { node { id } } } }',
        (d) => d.consents.edges.length === 0,
      ],
      [
        'consentEvents',
        '{ consentEvents(first: 50) { edges { node { id } } } }',
        (d) => d.consentEvents.edges.length === 0,
      ],
      ['node(consent)', `{ node(id: "${id}") { id } }`, (d) => d?.node === null || d?.node === undefined],
      ['node(event)', `{ node(id: "${demoEventId}") { id } }`, (d) => d?.node === null || d?.node === undefined],
      [
        'nodes',
        `{ nodes(ids: ["${id}", "${demoEventId}"]) { id } }`,
        (d) => (d?.nodes ?? [null]).every((n: unknown) => n === null),
      ],
      ...['refreshConsent', 'revokeConsent', 'deleteConsent', 'reauthorizeConsent'].map(
        (field) =>
          [
            field,
            `mutation { ${field}(id: "${id}") { ... on Error { code } } }`,
            (d: any) => d[field].code === 'CONSENT_NOT_FOUND',
          ] as [string, string, (data: any) => boolean],
      ),
      [
        'reconfirmConsent',
        `mutation { reconfirmConsent(id: "${id}", confirmedAt: "2020-01-01T00:00:00Z") { ... on Error { code } } }`,
        (d) => d.reconfirmConsent.code === 'CONSENT_NOT_FOUND',
      ],
      [
        'replayWebhookDelivery',
        `mutation { replayWebhookDelivery(consentId: "${id}", sequence: 1) { ... on Error { code } } }`,
        (d) => d.replayWebhookDelivery.code === 'CONSENT_NOT_FOUND',
      ],
    ]
    let leaks = 0
    for (const [field, query, hidden] of probes) {
      const { status, body } = await graphql(mine, query)
      // An error may echo the id asked about; the data may hold nothing of it, and the only error is "not found".
      const codes = (body.errors ?? []).map((error: any) => error.extensions?.code)
      const leaked =
        status !== 200 ||
        JSON.stringify(body.data ?? null).includes(id.slice(8)) ||
        !hidden(body.data) ||
        codes.some((code: unknown) => code !== 'CONSENT_NOT_FOUND' && code !== 'CONSENT_EVENT_NOT_FOUND')
      if (leaked) leaks++
      expect(leaked, `${field}: ${status} ${JSON.stringify(body)}`).toBe(false)
    }
    console.log(`admin-onboarded tenant vs the demo tenant: probes ${probes.length}, leaks ${leaks}`)

    // The demo consent is as it was; and the demo tenant sees none of the new tenant's consents either.
    const after = await graphql(demo, `{ consent(id: "${id}") { ... on Consent { version } } }`)
    expect(after.body.data.consent.version).toBe(demoConsent.version)
    const theirs = await graphql(
      mine,
      `mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA}) {
        ... on CreateConsentPayload { consent { id } } } }`,
    )
    const theirId = theirs.body.data.createConsent.consent.id as string
    expect(
      (await graphql(demo, `{ consent(id: "${theirId}") { ... on Error { code } } }`)).body.data.consent.code,
    ).toBe('CONSENT_NOT_FOUND')
    const demoList = await graphql(demo, '{ consents(first: 50) { edges { node { id } } } }')
    expect(demoList.body.data.consents.edges.map((edge: any) => edge.node.id)).toEqual([id])
  })

  it("rotates the client's secret: both work in the grace, a secret rotated out without grace is refused", async () => {
    const { clientId, clientSecret: first } = onboarded
    const second = await adminJson(['rotate-secret', '--client', clientId, '--grace-hours', '1'])
    expect(second.previousSecretUntil).toBe(new Date(Date.parse(second.secretRotatedAt) + 3_600_000).toISOString())
    const query = '{ consents(first: 1) { edges { node { id } } } }'
    expect((await graphql(basic(clientId, first), query)).status).toBe(200)
    // The new secret, never used yet, is refused once rotated out without grace (nothing cached it).
    const third = await adminJson([
      'rotate-secret',
      '--client',
      clientId,
      '--tenant',
      onboarded.tenantId,
      '--grace-hours',
      '0',
    ])
    expect(third.droppedEarlierSecret).toBe(true)
    expect((await graphql(basic(clientId, second.clientSecret), query)).status).toBe(401)
    expect((await graphql(basic(clientId, third.clientSecret), query)).status).toBe(200)
    onboarded.clientSecret = third.clientSecret
  })

  it('disables a client (refused) and enables it again (accepted); doing it twice is no change', async () => {
    const spare = await adminJson(['create-client', '--tenant', onboarded.tenantId, '--name', 'mobile backend'])
    const query = '{ consents(first: 1) { edges { node { id } } } }'
    const disabled = await adminJson(['disable-client', '--client', spare.clientId])
    expect(disabled).toMatchObject({ disabled: true, changed: true })
    expect((await graphql(basic(spare.clientId, spare.clientSecret), query)).status).toBe(401)
    expect(await adminJson(['disable-client', '--client', spare.clientId])).toMatchObject({ changed: false })
    await adminJson(['enable-client', '--client', spare.clientId, '--tenant', onboarded.tenantId])
    // Past the memory of the refused attempt (5 s), the client is accepted again.
    await expect
      .poll(async () => (await graphql(basic(spare.clientId, spare.clientSecret), query)).status, {
        timeout: 15_000,
        interval: 1_000,
      })
      .toBe(200)
  })

  it('sets origins and registers trusted documents for one tenant only', async () => {
    const { tenantId } = onboarded
    const origins = await adminJson([
      'set-origins',
      '--tenant',
      tenantId,
      'https://app.partner.example',
      'http://localhost:5173',
    ])
    expect(origins.allowedOrigins).toEqual(['https://app.partner.example', 'http://localhost:5173'])
    expect((await adminJson(['show-tenant', '--tenant', tenantId])).allowedOrigins).toEqual(origins.allowedOrigins)
    expect((await adminJson(['show-tenant', '--tenant', DEMO_TENANT])).allowedOrigins).toEqual([])

    const manifest = join(workDir, 'documents.json')
    const documents = {
      'get-consent-v1': 'query GetConsent($id: ID!) { consent(id: $id) { ... on Consent { id status } } }',
      'watch-consent-v1': 'subscription Watch($id: ID!) { consentUpdated(id: $id) { ... on Consent { id status } } }',
    }
    await writeFile(manifest, JSON.stringify(documents))
    const registered = await adminJson(['register-documents', '--tenant', tenantId, manifest])
    expect(registered).toEqual({ registered: ['get-consent-v1', 'watch-consent-v1'], unchanged: [] })
    expect(await adminJson(['register-documents', '--tenant', tenantId, manifest])).toEqual({
      registered: [],
      unchanged: ['get-consent-v1', 'watch-consent-v1'],
    })
    const listed = await adminJson(['list-documents', '--tenant', tenantId])
    expect(listed.documents.map((d: any) => [d.documentId, d.operations])).toEqual([
      ['get-consent-v1', ['query GetConsent']],
      ['watch-consent-v1', ['subscription Watch']],
    ])
    expect((await adminJson(['list-documents', '--tenant', DEMO_TENANT])).documents).toEqual([])
  })

  it('lists who, what and when of every change, per tenant and overall', async () => {
    const { entries } = await adminJson(['list-log', '--tenant', onboarded.tenantId])
    expect(entries.map((entry: any) => entry.action)).toEqual([
      'register-documents',
      'set-origins',
      'enable-client',
      'disable-client',
      'create-client',
      'rotate-secret',
      'rotate-secret',
      'create-client',
      'create-tenant',
    ])
    for (const entry of entries) {
      expect(entry.actor).toBe(OPERATOR)
      expect(entry.tenantId).toBe(onboarded.tenantId)
      expect(Date.parse(entry.at)).toBeGreaterThan(Date.parse(runtime.startedAt) - 60_000)
    }
    expect(entries.at(-1)).toMatchObject({ target: onboarded.tenantId, details: { name: 'Second partner' } })
    expect(JSON.stringify(entries)).not.toMatch(/scrypt|hmac-sha256/)

    const all = await adminJson(['list-log', '--limit', '100'])
    expect(all.entries.slice(0, entries.length)).toEqual(entries)
    // npm start's own seeding of the demo tenant is in it too, by npm start.
    expect(all.entries.at(-1)).toMatchObject({
      action: 'create-tenant',
      target: DEMO_TENANT,
      actor: `npm start (${OPERATOR})`,
    })
    const text = await admin(['list-log', '--tenant', onboarded.tenantId, '--limit', '2'])
    expect(text.stdout).toMatch(/^WHEN +WHO +WHAT +TARGET +DETAILS\n/)
    expect(text.stdout).toContain('Older entries: list-log --before ')
  })
})

describe('npm run admin on a deployed stage', () => {
  let sts: Server
  let stsUrl: string
  const ARN = 'arn:aws:sts::123456789012:assumed-role/PartnerOps/alice'
  const credentials = { accessKeyId: 'AKIDADMINTEST', secretAccessKey: 'admin-test-secret', sessionToken: 'session' }

  beforeAll(async () => {
    // STS's GetCallerIdentity, answering only a request signed with the shell's credentials.
    sts = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () => {
        const date = String(request.headers['x-amz-date'])
        const signed = signV4(
          {
            method: 'POST',
            url: new URL(`http://${request.headers.host}${request.url}`),
            headers: { 'content-type': String(request.headers['content-type']) },
            body,
          },
          credentials,
          {
            region: 'eu-central-1',
            service: 'sts',
            now: new Date(
              `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
            ),
          },
        )
        const ok =
          body === 'Action=GetCallerIdentity&Version=2011-06-15' &&
          request.headers.authorization === signed.authorization
        response.writeHead(ok ? 200 : 403, { 'content-type': 'text/xml' })
        response.end(
          ok
            ? `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>${ARN}</Arn><UserId>AROA:alice</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`
            : '<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>',
        )
      })
    })
    await new Promise<void>((listening) => sts.listen(0, '127.0.0.1', listening))
    const address = sts.address()
    stsUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })
  afterAll(() => new Promise<void>((closed) => sts.close(() => closed())))

  /** What `npx sst shell --stage dev` puts in the environment: the linked table, the stage, AWS credentials. */
  const sstShell = (extra: Record<string, string> = {}) =>
    cleanEnv({
      SST_RESOURCE_App: JSON.stringify({ name: 'consent-gateway', stage: 'dev' }),
      SST_RESOURCE_Table: JSON.stringify({ name: runtime.tableName, type: 'sst.aws.Dynamo' }),
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
      // The stage's DynamoDB and STS are this test's (the SDKs' own endpoint variables).
      AWS_ENDPOINT_URL_DYNAMODB: runtime.dynamoEndpoint,
      AWS_ENDPOINT_URL_STS: stsUrl,
      ...extra,
    })

  it('works on the linked table and records the AWS caller identity, through npm run admin', async () => {
    // From the repository, as the README says (`npx sst shell --stage <name> -- npm run -s admin -- ...`), with no
    // npm start runtime file in reach.
    const run = await runProcess(
      'npm',
      ['run', '-s', 'admin', '--', 'create-tenant', '--name', 'Onboarded on AWS', '--json', '--actor', 'Alice Martin'],
      {
        cwd: ROOT,
        env: sstShell(),
      },
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const tenant = JSON.parse(run.stdout)
    const { entries } = await adminJson(['list-log', '--tenant', tenant.tenantId])
    expect(entries).toEqual([
      expect.objectContaining({ action: 'create-tenant', actor: `${ARN} as "Alice Martin"`, target: tenant.tenantId }),
    ])

    // STS out of reach: the change is made, and the entry says whose word the identity is.
    const offline = await admin(['create-tenant', '--name', 'Offline', '--json'], {
      env: sstShell({ AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9' }),
    })
    expect(offline.code).toBe(0)
    const logged = await adminJson(['list-log', '--tenant', JSON.parse(offline.stdout).tenantId])
    expect(logged.entries[0].actor).toMatch(new RegExp(`^${OPERATOR} \\(AWS identity unavailable: .+\\)$`))

    // A table that is not there: exit 1, said plainly.
    const missing = await admin(['list-tenants'], {
      env: sstShell({ SST_RESOURCE_Table: JSON.stringify({ name: 'no-such-table' }) }),
    })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(
      /^admin: The table does not exist \(stage dev, table no-such-table in eu-central-1\)\n$/,
    )
  })
})

describe('npm run admin with nothing running', () => {
  it('says so with exit code 1, before and after npm start stops', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'admin-cli-nothing-'))
    await symlink(join(ROOT, 'node_modules'), join(elsewhere, 'node_modules'))
    const none = await admin(['list-tenants'], { cwd: elsewhere })
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(
      /^admin: Nothing to administer: npm start is not running here .* npx sst shell --stage <name>/,
    )

    // A stopped npm start takes its runtime file with it.
    const pid = runtime.pid
    child.kill('SIGTERM')
    await eventually(async () => child.exitCode !== null, 30_000)
    expect(existsSync(join(workDir, '.data', 'runtime.json'))).toBe(false)
    const stopped = await admin(['list-tenants'])
    expect(stopped.code).toBe(1)
    expect(stopped.stderr).toMatch(/Nothing to administer/)

    // A file naming a live process whose DynamoDB Local is gone: the store does not answer, said plainly, no stack.
    await writeFile(join(workDir, '.data', 'runtime.json'), JSON.stringify({ ...runtime, pid: process.pid }))
    const unreachable = await admin(['list-tenants'])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toBe(
      `admin: The store does not answer (npm start (pid ${process.pid}, in memory)): is npm start still running? (connection_refused)\n`,
    )

    // One killed without a chance to clean up leaves a stale file: named as such.
    await writeFile(join(workDir, '.data', 'runtime.json'), JSON.stringify({ ...runtime, pid }))
    const stale = await admin(['list-tenants'])
    expect(stale.code).toBe(1)
    expect(stale.stderr).toMatch(
      new RegExp(`npm start is not running: .*runtime\\.json is left from pid ${pid}, which has ended`),
    )
  }, 60_000)
})
