// e2e: two tenants onboarded through administration, on `npm start -- --in-memory` as a partner runs it. The real
// `npm run admin` (child processes, `--json`) creates a second tenant and its client, a second client for the demo
// tenant, and registers both tenants' documents; then every credential of each tenant (each client's Basic and bearer
// token, an end user's read and write tokens) probes every root field that reads or names data for the other
// tenant's consents, events, webhook settings and deliveries. Probes and leaks are counted and printed; leaks are 0.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createClient as createSseClient } from 'graphql-sse'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import type { LocalRuntime } from '../../local/runtime-file.ts'
import { eventually } from '../support/stack.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const DEMO = { clientId: 'e2e-isolation-demo', clientSecret: 'e2e-isolation-demo-secret-0123456789' }
/** How long to wait for what happens over the network or in the feed (events show once 5 s old). */
const WAIT = { timeout: 30_000, interval: 250 }

let dataDir: string
let child: ChildProcess
let output = ''
let graphqlUrl: string
let base: string
let receiver: Server
let receiverUrl: string

/** The environment without anything that would point the tool elsewhere than this npm start. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env)) {
    if (/^(SST_|AWS_)|^TABLE_NAME$|^DYNAMODB_ENDPOINT$/.test(name)) delete env[name]
  }
  return { ...env, ...extra }
}

/** `npm run admin -- <args> --json` against this npm start (its data directory): the parsed output. */
function admin(args: string[]): Promise<any> {
  return new Promise((done, fail) => {
    const run = spawn('npm', ['run', '--silent', 'admin', '--', '--data-dir', dataDir, ...args, '--json'], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    run.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    run.once('error', fail)
    run.once('close', (code) => {
      if (code !== 0) fail(new Error(`npm run admin -- ${args.join(' ')}: exit ${code}\n${stderr}`))
      else done(JSON.parse(stdout))
    })
  })
}

/** A caller of a tenant: how it authenticates, and whether it is a partner or an end user's token. */
interface Caller {
  readonly name: string
  readonly authorization: string
  readonly user: boolean
}

/** What a tenant is made of, once set up: its callers and everything of it another tenant must never see. */
interface Tenant {
  readonly name: string
  tenantId: string
  clients: { clientId: string; clientSecret: string }[]
  callers: Caller[]
  /** Public consent ids, user-1's first; the last one is created after the other tenant's. */
  consents: string[]
  events: string[]
  /** Strings only this tenant's data holds: ids, provider ids, webhook URL path, signing secrets. */
  markers: Set<string>
}

const tenants: Record<'A' | 'B', Tenant> = {
  A: { name: 'A', tenantId: '', clients: [], callers: [], consents: [], events: [], markers: new Set() },
  B: { name: 'B', tenantId: '', clients: [], callers: [], consents: [], events: [], markers: new Set() },
}

/** Every operation the probes send, named: one manifest both tenants register for their apps. */
const DOCUMENTS = {
  IsoConsent: `query IsoConsent($id: ID!) { consent(id: $id) { __typename ... on Consent { id userId providerConsentId events { edges { node { id initiator } } } } ... on Error { code message } } }`,
  IsoNode: `query IsoNode($id: ID!) { node(id: $id) { __typename id ... on Consent { userId } ... on ConsentEvent { consent { id } } } }`,
  IsoNodes: `query IsoNodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
  IsoConsents: `query IsoConsents($filter: ConsentFilter) { consents(first: 100, filter: $filter) { edges { node { id userId providerConsentId } } } }`,
  IsoConsentEvents: `query IsoConsentEvents { consentEvents(first: 100) { edges { node { id initiator consent { id } } } } }`,
  IsoWebhookSettings: `query IsoWebhookSettings { webhookSettings { defaultUrl signingSecrets { secret } } }`,
  IsoWebhookDeliveries: `query IsoWebhookDeliveries($id: ID!) { consent(id: $id) { __typename ... on Consent { webhookDeliveries { eventId payload lastAttempt { url } } } ... on Error { code } } }`,
  IsoRefresh: `mutation IsoRefresh($id: ID!) { refreshConsent(id: $id) { __typename ... on Error { code message } } }`,
  IsoRevoke: `mutation IsoRevoke($id: ID!) { revokeConsent(id: $id) { __typename ... on Error { code message } } }`,
  IsoDelete: `mutation IsoDelete($id: ID!) { deleteConsent(id: $id) { __typename ... on Error { code message } } }`,
  IsoReauthorize: `mutation IsoReauthorize($id: ID!) { reauthorizeConsent(id: $id) { __typename ... on Error { code message } } }`,
  IsoReconfirm: `mutation IsoReconfirm($id: ID!) { reconfirmConsent(id: $id, confirmedAt: "2020-01-01T00:00:00Z") { __typename ... on Error { code message } } }`,
  IsoReplay: `mutation IsoReplay($id: ID!) { replayWebhookDelivery(consentId: $id, sequence: 1) { __typename ... on Error { code message } } }`,
  IsoCreate: `mutation IsoCreate($input: CreateConsentInput!) { createConsent(input: $input) { __typename ... on CreateConsentPayload { replayed consent { id userId events { edges { node { id } } } } } ... on Error { code message } } }`,
  IsoMint: `mutation IsoMint($ids: [ID!]) { createUserToken(userId: "user-1", scopes: [CONSENTS_READ], consentIds: $ids) { __typename ... on CreateUserTokenPayload { accessToken } ... on Error { code message } } }`,
  IsoSetWebhook: `mutation IsoSetWebhook($url: String) { setWebhookEndpoint(url: $url) { __typename ... on SetWebhookEndpointPayload { settings { signingSecrets { secret } } } ... on Error { code message } } }`,
  IsoFeed: `subscription IsoFeed { consentEvents { cursor event { id initiator consent { id } } } }`,
  IsoUpdated: `subscription IsoUpdated($id: ID!) { consentUpdated(id: $id) { id userId status } }`,
} as const
type DocumentName = keyof typeof DOCUMENTS

/**
 * The request body a caller sends: the one place that says how a document travels. End users' apps run registered
 * documents; both tenants registered DOCUMENTS (with `npm run admin -- register-documents`), under these names.
 */
function requestBody(caller: Caller, name: DocumentName, variables: Record<string, unknown>) {
  // graphql-sse's request type names `query`; the server takes `documentId` in its place.
  type Body = { query: string; variables: Record<string, unknown> }
  return caller.user ? ({ documentId: name, variables } as unknown as Body) : { query: DOCUMENTS[name], variables }
}

interface Answer {
  readonly status: number
  readonly body: any
}

async function call(caller: Caller, name: DocumentName, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { authorization: caller.authorization, 'content-type': 'application/json' },
    body: JSON.stringify(requestBody(caller, name, variables)),
  })
  return { status: response.status, body: await response.json() }
}

/** A subscription over SSE (graphql-sse): its results until it ends or `enough` says so. */
function stream(
  caller: Caller,
  name: DocumentName,
  variables: Record<string, unknown>,
  enough: (results: any[]) => boolean = () => false,
): Promise<Answer> {
  let status = 0
  const client = createSseClient({
    url: graphqlUrl,
    singleConnection: false,
    retryAttempts: 0,
    headers: { authorization: caller.authorization },
    fetchFn: async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init)
      status = response.status
      return response
    },
  })
  const results: any[] = []
  return new Promise<Answer>((done, fail) => {
    const stop = client.subscribe(requestBody(caller, name, variables), {
      next: (value) => {
        results.push(value)
        if (enough(results)) {
          stop()
          done({ status, body: results })
        }
      },
      error: (error) => {
        const response = (error as { response?: Response } | undefined)?.response
        if (response instanceof Response) response.json().then((body) => done({ status, body }), fail)
        else fail(error instanceof Error ? error : new Error(String(error)))
      },
      complete: () => done({ status, body: results }),
    })
  }).finally(() => client.dispose())
}

const partnerOf = (tenant: Tenant) => tenant.callers[0] as Caller

async function createConsent(tenant: Tenant, userId: string, idempotencyKey?: string): Promise<void> {
  const { body } = await call(partnerOf(tenant), 'IsoCreate', {
    input: { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA', userId, idempotencyKey },
  })
  const consent = body.data?.createConsent.consent
  if (!consent) throw new Error(`createConsent: ${JSON.stringify(body)}`)
  tenant.consents.push(consent.id)
  tenant.events.push(...consent.events.edges.map((edge: any) => edge.node.id as string))
}

async function basicToken(client: { clientId: string; clientSecret: string }): Promise<string> {
  const response = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
  })
  const body = (await response.json()) as { access_token?: string }
  if (!body.access_token) throw new Error(`token endpoint: ${response.status} ${JSON.stringify(body)}`)
  return body.access_token
}

async function userTokenOf(client: { clientId: string; clientSecret: string }, scope: string): Promise<string> {
  const response = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'user-1',
      subject_token_type: 'urn:consent-gateway:params:oauth:token-type:user-id',
      scope,
    }).toString(),
  })
  const body = (await response.json()) as { access_token?: string }
  if (!body.access_token) throw new Error(`token exchange: ${response.status} ${JSON.stringify(body)}`)
  return body.access_token
}

/** Every caller of a tenant: each client's Basic and bearer, and user-1's read and read-write tokens. */
async function callersOf(tenant: Tenant): Promise<Caller[]> {
  const callers: Caller[] = []
  for (const [index, client] of tenant.clients.entries()) {
    const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`
    callers.push({ name: `client ${index + 1} Basic`, authorization: basic, user: false })
    callers.push({
      name: `client ${index + 1} bearer`,
      authorization: `Bearer ${await basicToken(client)}`,
      user: false,
    })
  }
  const first = tenant.clients[0] as { clientId: string; clientSecret: string }
  callers.push({ name: 'user read', authorization: `Bearer ${await userTokenOf(first, 'consents:read')}`, user: true })
  callers.push({
    name: 'user write',
    authorization: `Bearer ${await userTokenOf(first, 'consents:read consents:write')}`,
    user: true,
  })
  return callers
}

beforeAll(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), 'admin-isolation-')), '.data')
  // Where both tenants' webhooks go (each to a path of its own), answered 204.
  receiver = createServer((request, response) => {
    request.resume()
    request.on('end', () => response.writeHead(204).end())
  })
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done))
  receiverUrl = `http://localhost:${(receiver.address() as AddressInfo).port}`

  const port = await freePort()
  child = spawn('npm', ['start', '--', '--in-memory', '--data-dir', dataDir], {
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
  await eventually(async () => output.includes('Ctrl-C stops everything'), 90_000)
  const runtime = JSON.parse(await readFile(join(dataDir, 'runtime.json'), 'utf8')) as LocalRuntime
  graphqlUrl = runtime.graphqlUrl
  base = new URL(graphqlUrl).origin

  // Administration: tenant A is the demo tenant npm start seeded, with a second client; tenant B is new.
  const { tenants: listed } = await admin(['list-tenants'])
  expect(listed).toHaveLength(1)
  tenants.A.tenantId = listed[0].tenantId
  tenants.A.clients.push(DEMO)
  const secondA = await admin(['create-client', '--tenant', tenants.A.tenantId, '--name', 'second backend'])
  tenants.A.clients.push({ clientId: secondA.clientId, clientSecret: secondA.clientSecret })
  const b = await admin(['create-tenant', '--name', 'Tenant B'])
  tenants.B.tenantId = b.tenantId
  const clientB = await admin(['create-client', '--tenant', b.tenantId, '--name', 'backend'])
  tenants.B.clients.push({ clientId: clientB.clientId, clientSecret: clientB.clientSecret })
  const manifest = join(dataDir, '..', 'documents.json')
  await writeFile(manifest, JSON.stringify(DOCUMENTS))
  for (const tenant of [tenants.A, tenants.B]) {
    await admin(['register-documents', '--tenant', tenant.tenantId, manifest])
    tenant.callers = await callersOf(tenant)
    tenant.markers.add(tenant.tenantId)
    for (const client of tenant.clients) tenant.markers.add(client.clientId)
  }

  // Data: each tenant's webhook endpoint (so deliveries exist) and consents, users named alike in both; A's last
  // consent comes after all of B's, so a feed that reaches it has passed every event of B's, had it leaked them.
  for (const tenant of [tenants.A, tenants.B]) {
    const set = await call(partnerOf(tenant), 'IsoSetWebhook', {
      url: `${receiverUrl}/hooks/tenant-${tenant.name.toLowerCase()}-${ulid()}`,
    })
    const payload = set.body.data.setWebhookEndpoint
    expect(payload.__typename).toBe('SetWebhookEndpointPayload')
    for (const { secret } of payload.settings.signingSecrets) tenant.markers.add(secret)
  }
  await createConsent(tenants.A, 'user-1', 'same-key')
  await createConsent(tenants.A, 'user-2')
  await createConsent(tenants.B, 'user-1', 'same-key')
  await createConsent(tenants.B, 'user-2')
  await createConsent(tenants.A, 'user-1')
  for (const tenant of [tenants.A, tenants.B]) {
    const settings = await call(partnerOf(tenant), 'IsoWebhookSettings')
    tenant.markers.add(new URL(settings.body.data.webhookSettings.defaultUrl).pathname)
    for (const id of tenant.consents) {
      const { body } = await call(partnerOf(tenant), 'IsoConsent', { id })
      tenant.markers.add(id)
      tenant.markers.add(body.data.consent.providerConsentId)
    }
    for (const id of tenant.events) tenant.markers.add(id)
  }
  // Each tenant's deliveries exist and the feed has reached its last consent before the probes start.
  for (const tenant of [tenants.A, tenants.B]) {
    await vi.waitFor(async () => {
      const deliveries = await call(partnerOf(tenant), 'IsoWebhookDeliveries', { id: tenant.consents[0] })
      expect(deliveries.body.data.consent.webhookDeliveries.length).toBeGreaterThan(0)
      const feed = await call(partnerOf(tenant), 'IsoConsentEvents')
      const seen = feed.body.data.consentEvents.edges.map((edge: any) => edge.node.consent.id)
      expect(seen).toContain(tenant.consents.at(-1))
    }, WAIT)
  }
}, 180_000)

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((done) => child.once('exit', done))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((done) => setTimeout(done, 20_000))])
    if (child.exitCode === null) child.kill('SIGKILL')
  }
  receiver?.close()
  if (dataDir) await rm(join(dataDir, '..'), { recursive: true, force: true })
})

/** A probe's answer with the id it asked about and the per-request ids taken out. */
const shapeOf = (answer: Answer, id: string) =>
  JSON.stringify(answer, (key, value: unknown) =>
    key === 'requestId' || key === 'errorId' ? undefined : value,
  ).replaceAll(id, '<id>')

/** Counts probes and leaks of one viewer tenant against the other (the owner of what must stay hidden). */
class Probing {
  probes = 0
  readonly leaks: string[] = []

  constructor(
    private readonly owner: Tenant,
    private readonly viewer: Tenant,
  ) {}

  /** One probe: a leak when the answer holds anything of the owner's (the asked id aside) or fails otherwise. */
  check(label: string, answer: Answer, askedId = '', ok: (answer: Answer) => boolean = () => true): void {
    this.probes++
    const text = askedId ? shapeOf(answer, askedId) : JSON.stringify(answer)
    const found = [...this.owner.markers].filter((marker) => text.includes(marker))
    if (found.length || answer.status >= 500 || !ok(answer)) {
      this.leaks.push(`${label}: ${found.length ? `holds ${found.join(', ')}: ` : ''}${text.slice(0, 400)}`)
    }
  }

  /** A probe naming the owner's id: it must answer exactly as the same probe naming a missing id. */
  async likeMissing(label: string, probe: (id: string) => Promise<Answer>, id: string, missing: string) {
    const [seen, absent] = [await probe(id), await probe(missing)]
    this.check(label, seen, id, () => shapeOf(seen, id) === shapeOf(absent, missing))
  }

  /** Whether a viewer's answer lists only the viewer's own consents (and is an answer at all). */
  ownOnly = (ids: readonly string[]) => ids.every((id) => this.viewer.consents.includes(id))
}

const codes = (answer: Answer) =>
  (Array.isArray(answer.body) ? answer.body : [answer.body]).flatMap((result: any) =>
    (result.errors ?? []).map((error: any) => error.extensions?.code),
  )

async function probeEverything(viewer: Tenant, owner: Tenant): Promise<Probing> {
  const probing = new Probing(owner, viewer)
  const missingConsent = () => `consent_${ulid()}`
  const missingEvent = () => `cevt_${ulid()}`
  // The feed has reached the viewer's last consent of the setup, made after all of the owner's (later ones, made by
  // the probes, are not 5 s old yet).
  const last = viewer.consents.at(-1)
  for (const caller of viewer.callers) {
    const as = (name: string) => `${viewer.name} ${caller.name} ${name}`
    // Reads naming the owner's consents and events.
    for (const id of owner.consents) {
      await probing.likeMissing(
        as(`consent(${id})`),
        (x) => call(caller, 'IsoConsent', { id: x }),
        id,
        missingConsent(),
      )
      await probing.likeMissing(as(`node(${id})`), (x) => call(caller, 'IsoNode', { id: x }), id, missingConsent())
      await probing.likeMissing(as(`nodes(${id})`), (x) => call(caller, 'IsoNodes', { ids: [x] }), id, missingConsent())
      await probing.likeMissing(
        as(`webhookDeliveries(${id})`),
        (x) => call(caller, 'IsoWebhookDeliveries', { id: x }),
        id,
        missingConsent(),
      )
      await probing.likeMissing(
        as(`consentUpdated(${id})`),
        (x) => stream(caller, 'IsoUpdated', { id: x }),
        id,
        missingConsent(),
      )
    }
    for (const id of owner.events) {
      await probing.likeMissing(as(`node(${id})`), (x) => call(caller, 'IsoNode', { id: x }), id, missingEvent())
    }
    // Lists: the viewer's own only, however filtered.
    for (const filter of [null, { userId: 'user-1' }, { userId: 'user-2' }]) {
      const answer = await call(caller, 'IsoConsents', { filter })
      probing.check(as(`consents(${JSON.stringify(filter)})`), answer, '', (a) => {
        const ids = a.body.data.consents.edges.map((edge: any) => edge.node.id)
        // Unfiltered, a caller sees something of its own: an empty list would prove nothing.
        return probing.ownOnly(ids) && (filter !== null || ids.length > 0)
      })
    }
    // The viewer's own consents, their history and deliveries hold nothing of the owner's.
    for (const id of viewer.consents) {
      const own = await call(caller, 'IsoConsent', { id })
      probing.check(as(`own consent(${id})`), own)
      probing.check(as(`own webhookDeliveries(${id})`), await call(caller, 'IsoWebhookDeliveries', { id }))
      probing.check(
        as(`own consentUpdated(${id})`),
        await stream(caller, 'IsoUpdated', { id }, (results) => results.length > 0),
      )
    }
    // Tenant-wide reads: the feed (query and live), webhook settings. An end user's token is refused them.
    const refusedToUsers = (answer: Answer) => !caller.user || codes(answer).join() === 'FORBIDDEN'
    const feed = await call(caller, 'IsoConsentEvents')
    probing.check(
      as('consentEvents'),
      feed,
      '',
      (a) =>
        refusedToUsers(a) &&
        (caller.user || probing.ownOnly(a.body.data.consentEvents.edges.map((edge: any) => edge.node.consent.id))) &&
        (caller.user || a.body.data.consentEvents.edges.some((edge: any) => edge.node.consent.id === last)),
    )
    const live = await stream(caller, 'IsoFeed', {}, (results) =>
      results.some((result) => result.data?.consentEvents.event.consent.id === last),
    )
    probing.check(
      as('subscription consentEvents'),
      live,
      '',
      (a) =>
        refusedToUsers(a) &&
        (caller.user || probing.ownOnly(a.body.map((result: any) => result.data.consentEvents.event.consent.id))) &&
        (caller.user || a.body.some((result: any) => result.data.consentEvents.event.consent.id === last)),
    )
    probing.check(as('webhookSettings'), await call(caller, 'IsoWebhookSettings'), '', refusedToUsers)
    // Changes naming the owner's consents: exactly like a missing one (a read-only token: FORBIDDEN for both).
    for (const id of owner.consents) {
      for (const name of [
        'IsoRefresh',
        'IsoRevoke',
        'IsoDelete',
        'IsoReauthorize',
        'IsoReconfirm',
        'IsoReplay',
      ] as const) {
        await probing.likeMissing(as(`${name}(${id})`), (x) => call(caller, name, { id: x }), id, missingConsent())
      }
    }
    // The owner used idempotency key "same-key" for its user-1: the viewer's same key and input is its own consent.
    if (!caller.name.includes('read')) {
      const created = await call(caller, 'IsoCreate', {
        input: {
          provider: 'FINQWARE',
          institutionId: 'bt_ro',
          region: 'EEA',
          userId: 'user-1',
          idempotencyKey: 'same-key',
        },
      })
      probing.check(
        as('createConsent(same-key)'),
        created,
        '',
        (a) => a.body.data.createConsent.__typename === 'CreateConsentPayload',
      )
      const id = created.body.data?.createConsent.consent?.id as string | undefined
      if (id && !viewer.consents.includes(id)) viewer.consents.push(id)
    }
    // A partner minting a token restricted to the owner's consent: refused, or a token that sees nothing of it.
    if (!caller.user) {
      const id = owner.consents[0] as string
      const minted = await call(caller, 'IsoMint', { ids: [id] })
      probing.check(as(`createUserToken(consentIds: ${id})`), minted, id)
      const token = minted.body.data?.createUserToken.accessToken as string | undefined
      if (token) {
        const restricted: Caller = { name: 'restricted', authorization: `Bearer ${token}`, user: true }
        await probing.likeMissing(
          as(`restricted token consent(${id})`),
          (x) => call(restricted, 'IsoConsent', { id: x }),
          id,
          missingConsent(),
        )
      }
    }
  }
  return probing
}

describe('two tenants onboarded with npm run admin on npm start --in-memory', () => {
  it("each tenant's clients and user tokens see none of the other's consents over every root field", async () => {
    // Prepare: what the owner's consents are before the other tenant's probes try to change them
    const ids = { A: [...tenants.A.consents], B: [...tenants.B.consents] }
    const versions = async (tenant: Tenant) =>
      Promise.all(
        ids[tenant.name as 'A' | 'B'].map(async (id) =>
          JSON.stringify((await call(partnerOf(tenant), 'IsoConsent', { id })).body),
        ),
      )
    const before = { A: await versions(tenants.A), B: await versions(tenants.B) }

    // Act
    const aOnB = await probeEverything(tenants.A, tenants.B)
    const bOnA = await probeEverything(tenants.B, tenants.A)

    // Assess
    for (const [label, probing] of [
      ['tenant A (demo, 2 clients) -> tenant B (admin-created)', aOnB],
      ['tenant B (admin-created) -> tenant A (demo)', bOnA],
    ] as const) {
      console.log(`${label}: probes ${probing.probes}, leaks ${probing.leaks.length}`)
      expect(probing.leaks).toEqual([])
      expect(probing.probes).toBeGreaterThan(0)
    }
    console.log(`both directions: probes ${aOnB.probes + bOnA.probes}, leaks ${aOnB.leaks.length + bOnA.leaks.length}`)
    expect({ A: await versions(tenants.A), B: await versions(tenants.B) }).toEqual(before)
  }, 600_000)
})
