// e2e: the access matrix. Every root field of the built schema (a field added without a row here fails the test)
// under every kind of credential test/support/credentials.ts mints, over real HTTP: graphql-http for queries and
// mutations, graphql-sse for subscriptions. Each cell is run on the caller's own consent and on another tenant's (and,
// with an end user's token, another user's), and the foreign one must answer exactly like a missing id. The observed
// matrix is asserted whole against the expected one, printed, and written to test-results/access-matrix.md.
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { GraphQLObjectType } from 'graphql'
import { createClient as createHttpClient } from 'graphql-http'
import { createClient as createSseClient } from 'graphql-sse'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { schema } from '../../schema/index.ts'
import { checkTrustedDocument } from '../../schema/trusted-documents.ts'
import { createTenantAdmin } from '../../composition/tenant-admin.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import {
  basicHeader,
  CREDENTIAL_KINDS,
  everyCredential,
  setClientDisabled,
  type CredentialKind,
} from '../support/credentials.ts'
import { execute, startStack, type Credentials, type Stack } from '../support/stack.ts'

/** Short, so a disabled client's open subscription is seen ending within the test. */
const RECHECK_MS = 500
const REPORT = resolve(import.meta.dirname, '../../test-results/access-matrix.md')

type Operation = 'query' | 'mutation' | 'subscription'
/** Who may use a field: any valid caller, callers that may write (consents:write), or partner credentials only. */
type Access = 'read' | 'write' | 'partner'
/** What a row's variables name: one of the caller's own consents, or one of their history events. */
type TargetKind = 'consent' | 'event'

interface Row {
  readonly operation: Operation
  readonly access: Access
  /** One named operation, with variables only: the same document for every caller (a registered one, for apps). */
  readonly document: string
  /** The row names a consent (or event) by id: run on the caller's own, another's, and a missing one. */
  readonly target?: TargetKind
  /** The row's variables for `id` (or with no target, at all). */
  readonly variables?: (id: string) => Record<string, unknown>
  /** Which of the caller's own consents the row works on: `writes` for rows that change it. */
  readonly own?: 'reads' | 'writes'
  /** A list: its answer must be non-empty and hold only what the caller may see. */
  readonly list?: (data: any) => readonly { consentId: string; userId?: string }[]
  /** The row mints a token: a disabled client's still-valid bearer token may not (the table is asked). */
  readonly mints?: boolean
}

const CONSENT_ERROR = `... on Error { code message }`
const byId = (id: string) => ({ id })

/**
 * One row per root field (`Type.field`), and rows for the tenant-wide fields nested in a consent. Every document is a
 * named operation with variables only, so the whole set is one trusted-documents manifest (MATRIX_DOCUMENTS).
 */
const ROWS: Record<string, Row> = {
  'Query.consent': {
    operation: 'query',
    access: 'read',
    target: 'consent',
    document: `query MatrixConsent($id: ID!) { consent(id: $id) { __typename ... on Consent { id userId } ${CONSENT_ERROR} } }`,
    variables: byId,
  },
  'Query.consentEvents': {
    operation: 'query',
    access: 'partner',
    document: `query MatrixConsentEvents { consentEvents(first: 100) { edges { node { id consent { id userId } } } } }`,
    list: (data) =>
      data.consentEvents.edges.map((edge: any) => ({
        consentId: edge.node.consent.id,
        userId: edge.node.consent.userId,
      })),
  },
  'Query.consents': {
    operation: 'query',
    access: 'read',
    document: `query MatrixConsents { consents(first: 100) { edges { node { id userId } } } }`,
    list: (data) => data.consents.edges.map((edge: any) => ({ consentId: edge.node.id, userId: edge.node.userId })),
  },
  'Query.node': {
    operation: 'query',
    access: 'read',
    target: 'event',
    document: `query MatrixNode($id: ID!) { node(id: $id) { __typename id ... on ConsentEvent { consent { id } } } }`,
    variables: byId,
  },
  'Query.nodes': {
    operation: 'query',
    access: 'read',
    target: 'consent',
    document: `query MatrixNodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
    variables: (id) => ({ ids: [id] }),
  },
  'Query.providers': {
    operation: 'query',
    access: 'read',
    document: `query MatrixProviders { providers { provider } }`,
  },
  'Query.webhookSettings': {
    operation: 'query',
    access: 'partner',
    document: `query MatrixWebhookSettings { webhookSettings { defaultUrl signingSecrets { secret } } }`,
  },
  'Consent.webhookDeliveries': {
    operation: 'query',
    access: 'partner',
    target: 'consent',
    document: `query MatrixWebhookDeliveries($id: ID!) { consent(id: $id) { __typename ... on Consent { webhookDeliveries { sequence } } ${CONSENT_ERROR} } }`,
    variables: byId,
  },
  'Mutation.createConsent': {
    operation: 'mutation',
    access: 'write',
    document: `mutation MatrixCreateConsent($input: CreateConsentInput!) { createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { id userId } } ${CONSENT_ERROR} } }`,
    variables: () => ({ input: { provider: 'FINQWARE', institutionId: 'bt_ro', region: 'EEA', userId: 'user-1' } }),
  },
  'Mutation.createUserToken': {
    operation: 'mutation',
    access: 'partner',
    mints: true,
    document: `mutation MatrixCreateUserToken($userId: String!) { createUserToken(userId: $userId, scopes: [CONSENTS_READ]) { __typename ... on CreateUserTokenPayload { userId } ${CONSENT_ERROR} } }`,
    variables: () => ({ userId: 'matrix-minted' }),
  },
  'Mutation.deleteConsent': {
    operation: 'mutation',
    access: 'write',
    target: 'consent',
    own: 'writes',
    document: `mutation MatrixDeleteConsent($id: ID!) { deleteConsent(id: $id) { __typename ${CONSENT_ERROR} } }`,
    variables: byId,
  },
  'Mutation.reauthorizeConsent': {
    operation: 'mutation',
    access: 'write',
    target: 'consent',
    own: 'writes',
    document: `mutation MatrixReauthorizeConsent($id: ID!) { reauthorizeConsent(id: $id) { __typename ${CONSENT_ERROR} } }`,
    variables: byId,
  },
  'Mutation.reconfirmConsent': {
    operation: 'mutation',
    access: 'write',
    target: 'consent',
    own: 'writes',
    document: `mutation MatrixReconfirmConsent($id: ID!, $at: DateTime!) { reconfirmConsent(id: $id, confirmedAt: $at) { __typename ${CONSENT_ERROR} } }`,
    variables: (id) => ({ id, at: '2020-01-01T00:00:00Z' }),
  },
  'Mutation.refreshConsent': {
    operation: 'mutation',
    access: 'write',
    target: 'consent',
    own: 'writes',
    document: `mutation MatrixRefreshConsent($id: ID!) { refreshConsent(id: $id) { __typename ${CONSENT_ERROR} } }`,
    variables: byId,
  },
  'Mutation.replayWebhookDelivery': {
    operation: 'mutation',
    access: 'partner',
    target: 'consent',
    own: 'writes',
    document: `mutation MatrixReplayWebhookDelivery($id: ID!) { replayWebhookDelivery(consentId: $id, sequence: 1) { __typename ${CONSENT_ERROR} } }`,
    variables: byId,
  },
  'Mutation.revokeConsent': {
    operation: 'mutation',
    access: 'write',
    target: 'consent',
    own: 'writes',
    document: `mutation MatrixRevokeConsent($id: ID!) { revokeConsent(id: $id) { __typename ${CONSENT_ERROR} } }`,
    variables: byId,
  },
  'Mutation.revokeUserTokens': {
    operation: 'mutation',
    access: 'partner',
    // A user nobody holds a token of: the matrix's own tokens must stay valid.
    document: `mutation MatrixRevokeUserTokens($userId: String!) { revokeUserTokens(userId: $userId) { __typename ${CONSENT_ERROR} } }`,
    variables: () => ({ userId: 'matrix-bystander' }),
  },
  'Mutation.rotateWebhookSigningSecret': {
    operation: 'mutation',
    access: 'partner',
    document: `mutation MatrixRotateWebhookSigningSecret { rotateWebhookSigningSecret { settings { defaultUrl } } }`,
  },
  'Mutation.setWebhookEndpoint': {
    operation: 'mutation',
    access: 'partner',
    document: `mutation MatrixSetWebhookEndpoint($url: String) { setWebhookEndpoint(url: $url) { __typename ${CONSENT_ERROR} } }`,
    variables: () => ({ url: null }),
  },
  'Subscription.consentEvents': {
    operation: 'subscription',
    access: 'partner',
    document: `subscription MatrixConsentFeed { consentEvents { cursor event { consent { id userId } } } }`,
    list: (data) => [
      { consentId: data.consentEvents.event.consent.id, userId: data.consentEvents.event.consent.userId },
    ],
  },
  'Subscription.consentUpdated': {
    operation: 'subscription',
    access: 'read',
    target: 'consent',
    document: `subscription MatrixConsentUpdated($id: ID!) { consentUpdated(id: $id) { id userId } }`,
    variables: byId,
  },
}

/** A row's operation name: its document's id in the trusted-documents manifest. */
const documentNameOf = (row: Row): string => /(?:query|mutation|subscription) (\w+)/.exec(row.document)?.[1] ?? ''

/** The trusted-documents manifest of the matrix: operation name -> document. */
const MATRIX_DOCUMENTS: Record<string, string> = Object.fromEntries(
  Object.values(ROWS).map((row) => [documentNameOf(row), row.document]),
)

const USER_KINDS: readonly CredentialKind[] = ['userRead', 'userWrite']
const PARTNER_KINDS: readonly CredentialKind[] = ['basic', 'partnerBearer', 'disabledClientBearer']

/** The field a row's answer is under: the root field (the nested rows read theirs under `consent`). */
const fieldOf = (name: string) => (name.startsWith('Consent.') ? 'consent' : (name.split('.')[1] as string))

interface Result {
  readonly data?: any
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[]
}

/** What came back over HTTP: the status of the answer, and its results (one, or a stream's). */
interface Answer {
  readonly status: number
  readonly results: readonly Result[]
}

let stack: Stack
let credentials: Record<CredentialKind, string>
/** Tenant A's user-1: a consent the reads look at, another the changes work on, and a history event. */
const own = { reads: '', writes: '', event: '' }
/** The types the fields' `ok` answers were, by row: a change's own result or a typed refusal of its business rules. */
const answered = new Map<string, Set<string>>()
/** Another user's consent and event in tenant A; tenant B's user-1's. */
const otherUser = { consent: '', event: '' }
const otherTenant = { consent: '', event: '' }

const CREATE = `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { id events { edges { node { id } } } } } } }`

async function createConsent(credentials: Credentials, userId: string): Promise<{ consent: string; event: string }> {
  const result = await execute(stack.client(credentials), CREATE, {
    input: { provider: 'FINQWARE', institutionId: 'bt_ro', userId, region: 'EEA' },
  })
  const consent = result.data?.createConsent.consent
  if (!consent) throw new Error(`createConsent: ${JSON.stringify(result)}`)
  return { consent: consent.id as string, event: consent.events.edges[0].node.id as string }
}

beforeAll(async () => {
  stack = await startStack({ authCacheTtlMs: RECHECK_MS, subscriptionMaxSeconds: 60 })
  const reads = await createConsent(stack.tenantA, 'user-1')
  Object.assign(own, { reads: reads.consent, event: reads.event })
  own.writes = (await createConsent(stack.tenantA, 'user-1')).consent
  Object.assign(otherUser, await createConsent(stack.tenantA, 'user-2'))
  Object.assign(otherTenant, await createConsent(stack.tenantB, 'user-1'))
  credentials = await everyCredential(stack, stack.tenantA, 'user-1')
  // Every matrix document is one an app could register: the tenant's manifest holds them all.
  const admin = createTenantAdmin(stack.table.db, stack.table.tableName, { checkDocument: checkTrustedDocument })
  await admin.registerDocuments(
    { tenantId: stack.tenantA.tenantId, manifest: JSON.stringify(MATRIX_DOCUMENTS) },
    'access-matrix',
  )
  // The feed shows an event once it is 5 s old: wait until tenant A's are there, so the feed rows have data to show.
  await vi.waitFor(
    async () => {
      const feed = await execute(stack.client(stack.tenantA), ROWS['Query.consentEvents']?.document ?? '')
      expect(feed.data?.consentEvents.edges.length).toBeGreaterThanOrEqual(3)
    },
    { timeout: 20_000, interval: 250 },
  )
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

/** The Basic credentials of a new client of tenant A, disabled. */
async function disabledClientBasic(n: number): Promise<string> {
  const client = {
    tenantId: stack.tenantA.tenantId,
    clientId: `client-alpha-disabled-${n}`,
    clientSecret: `secret-alpha-disabled-${n}-0123456789`,
  }
  await provisionApiClient(stack.gateway.access, { ...client, tenantName: 'Alpha' }, new Date())
  await setClientDisabled(stack, client.clientId, true)
  return basicHeader(client)
}

/**
 * The request a caller sends for a row: the one place that says how a document travels. Apps with end-user tokens run
 * registered documents; MATRIX_DOCUMENTS is registered for tenant A, under each operation's name.
 */
function requestParams(kind: CredentialKind, row: Row, variables: Record<string, unknown>) {
  if (PARTNER_KINDS.includes(kind) || kind === 'disabledClientBasic') return { query: row.document, variables }
  // Every other kind is an end user's token (good or forged): it sends the registered document's id, never its text.
  // graphql-http's and graphql-sse's request type names `query`; the server takes `documentId` in its place.
  return { documentId: documentNameOf(row), variables } as unknown as { query: string; variables: typeof variables }
}

/** A fetch that records the status of each answer, for the transports' clients. */
function recordingFetch(statuses: number[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init)
    statuses.push(response.status)
    return response
  }
}

/** A query or mutation with graphql-http; a non-2xx answer's body is still its GraphQL result. */
function overHttp(kind: CredentialKind, row: Row, variables: Record<string, unknown>): Promise<Answer> {
  const statuses: number[] = []
  const client = createHttpClient({
    url: stack.graphqlUrl,
    headers: { authorization: credentials[kind] },
    fetchFn: recordingFetch(statuses),
  })
  return new Promise((done, fail) => {
    let result: Result | undefined
    client.subscribe(requestParams(kind, row, variables), {
      next: (value) => (result = value as Result),
      error: (error) => {
        const response = (error as { response?: Response } | undefined)?.response
        if (response instanceof Response) {
          response.json().then((body) => done({ status: response.status, results: [body as Result] }), fail)
        } else fail(error instanceof Error ? error : new Error(JSON.stringify(error)))
      },
      complete: () => done({ status: statuses[0] ?? 0, results: result ? [result] : [] }),
    })
  })
}

/**
 * A subscription with graphql-sse: its results until it ends, or only the first when `untilEnd` is false (a stream
 * that goes on is then closed by us). A refused request is its status and body.
 */
function overSse(kind: CredentialKind, row: Row, variables: Record<string, unknown>, untilEnd: boolean) {
  const statuses: number[] = []
  const client = createSseClient({
    url: stack.graphqlUrl,
    singleConnection: false,
    retryAttempts: 0,
    headers: { authorization: credentials[kind] },
    fetchFn: recordingFetch(statuses),
  })
  const results: Result[] = []
  return new Promise<Answer>((done, fail) => {
    const stop = client.subscribe(requestParams(kind, row, variables), {
      next: (value) => {
        results.push(value)
        if (!untilEnd) {
          stop()
          done({ status: statuses[0] ?? 0, results })
        }
      },
      error: (error) => {
        const response = (error as { response?: Response } | undefined)?.response
        if (response instanceof Response) {
          response.json().then((body) => done({ status: response.status, results: [body as Result] }), fail)
        } else fail(error instanceof Error ? error : new Error(String(error)))
      },
      complete: () => done({ status: statuses[0] ?? 0, results }),
    })
  }).finally(() => client.dispose())
}

const codesOf = (result: Result | undefined) => (result?.errors ?? []).map((error) => error.extensions?.code)
const NOT_FOUND = new Set(['CONSENT_NOT_FOUND', 'CONSENT_EVENT_NOT_FOUND'])

/**
 * What one result says: UNAUTHORIZED (and the HTTP status it came with), FORBIDDEN, NOT_FOUND (a typed
 * ConsentNotFoundError, or a null node with CONSENT(_EVENT)_NOT_FOUND), ok (the field answered), or what else it was.
 */
function outcomeOf(name: string, status: number, result: Result | undefined): string {
  const codes = codesOf(result)
  const value = result?.data?.[fieldOf(name)]
  if (codes.length === 1 && codes[0] === 'UNAUTHORIZED') return status === 200 ? 'UNAUTHORIZED' : `${status}`
  if (codes.length === 1 && codes[0] === 'FORBIDDEN') return status === 200 ? 'FORBIDDEN' : `FORBIDDEN ${status}`
  if (codes.length > 0 && codes.every((code) => NOT_FOUND.has(String(code)))) return 'NOT_FOUND'
  if (codes.length === 0 && value?.__typename === 'ConsentNotFoundError') return 'NOT_FOUND'
  if (codes.length === 0 && status === 200 && value !== null && value !== undefined) return 'ok'
  return `unexpected ${status} ${JSON.stringify(result)}`
}

/** A result with the asked id and the per-request ids taken out: what must not differ between two ids. */
const shapeOf = (answer: Answer, id: string) =>
  JSON.stringify(answer, (key, value: unknown) =>
    key === 'requestId' || key === 'errorId' ? undefined : value,
  ).replaceAll(id, '<id>')

const missing = (target: TargetKind) => (target === 'consent' ? `consent_${ulid()}` : `cevt_${ulid()}`)

/** What a caller may see: its tenant's consents, or with an end user's token that user's. */
const mayList = (kind: CredentialKind, item: { consentId: string; userId?: string }) =>
  USER_KINDS.includes(kind)
    ? item.userId === 'user-1' && item.consentId !== otherTenant.consent
    : item.consentId !== otherTenant.consent

/** Runs one cell: the row under one credential, on each target it has; says what was seen, as a label. */
async function runCell(name: string, row: Row, kind: CredentialKind): Promise<string> {
  const streamsUntilEnd = kind === 'disabledClientBearer'
  const send = (variables: Record<string, unknown>) =>
    row.operation === 'subscription' ? overSse(kind, row, variables, streamsUntilEnd) : overHttp(kind, row, variables)
  const ownId = row.target === 'event' ? own.event : own[row.own ?? 'reads']
  const answer = await send(row.variables?.(ownId) ?? {})
  const first = answer.results[0]
  let label = outcomeOf(name, answer.status, first)
  const typename = first?.data?.[fieldOf(name)]?.__typename
  if (label === 'ok' && typeof typename === 'string')
    answered.set(name, (answered.get(name) ?? new Set()).add(typename))

  if (label === 'ok' && row.list) {
    const items = answer.results.flatMap((result) => (result.data ? row.list?.(result.data) : []) ?? [])
    const strays = items.filter((item) => !mayList(kind, item))
    label = items.length === 0 ? 'ok, but empty' : strays.length ? `LEAK ${JSON.stringify(strays)}` : 'ok'
  }
  if (row.operation === 'subscription' && streamsUntilEnd && (label === 'ok' || label === 'UNAUTHORIZED')) {
    // A subscription checks its credential as it opens and once per cache period: a disabled client's stream ends
    // with UNAUTHORIZED, at once or after the first items (whichever of the check and the first read comes first).
    const last = answer.results.at(-1)
    const before = answer.results.slice(0, -1).map((result) => outcomeOf(name, answer.status, result))
    label =
      codesOf(last).join() === 'UNAUTHORIZED' && before.every((outcome) => outcome === 'ok')
        ? 'ends UNAUTHORIZED'
        : `unexpected stream ${JSON.stringify(answer)}`
  }
  // A refused credential runs nothing, whatever id it names; the rest must not tell another's id from a missing one.
  if (row.target && label !== '401' && label !== 'ends UNAUTHORIZED') {
    // Another tenant's id (with an end user's token, another user's too) answers exactly like a missing one.
    const foreign =
      row.target === 'event'
        ? [otherTenant.event, ...(USER_KINDS.includes(kind) ? [otherUser.event] : [])]
        : [otherTenant.consent, ...(USER_KINDS.includes(kind) ? [otherUser.consent] : [])]
    const foreignOutcomes = new Set<string>()
    for (const id of foreign) {
      const absent = missing(row.target)
      const [seen, none] = [await send(row.variables?.(id) ?? {}), await send(row.variables?.(absent) ?? {})]
      if (shapeOf(seen, id) !== shapeOf(none, absent)) {
        return `LEAK: ${id} answers ${shapeOf(seen, id)}, a missing id ${shapeOf(none, absent)}`
      }
      foreignOutcomes.add(outcomeOf(name, seen.status, seen.results[0]))
    }
    if (label === 'ok') label = `ok / ${[...foreignOutcomes].join(', ')}`
  }
  return label
}

/** The outcome the matrix expects of a row under a credential. */
function expected(row: Row, kind: CredentialKind): string {
  const refused = !PARTNER_KINDS.includes(kind) && !USER_KINDS.includes(kind)
  if (refused) return '401'
  const allowed =
    PARTNER_KINDS.includes(kind) || row.access === 'read' || (row.access === 'write' && kind === 'userWrite')
  if (!allowed) return 'FORBIDDEN'
  // A disabled client's token is verified from its signature alone (no table read) until it expires; an open
  // subscription re-checks the client and ends, and minting a token that would outlive it asks the table.
  if (kind === 'disabledClientBearer' && row.operation === 'subscription') return 'ends UNAUTHORIZED'
  if (kind === 'disabledClientBearer' && row.mints) return 'UNAUTHORIZED'
  return row.target ? 'ok / NOT_FOUND' : 'ok'
}

const HEADINGS: Record<CredentialKind, string> = {
  basic: 'Basic',
  partnerBearer: 'partner bearer',
  userRead: 'user read',
  userWrite: 'user write',
  expired: 'expired',
  tamperedSignature: 'tampered signature',
  wrongAudience: 'wrong audience',
  revokedUser: 'revoked user',
  disabledClientBasic: 'disabled client Basic',
  disabledClientBearer: 'disabled client bearer',
}

function markdown(matrix: Record<string, Record<CredentialKind, string>>): string {
  const header = ['field', ...CREDENTIAL_KINDS.map((kind) => HEADINGS[kind])]
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...Object.entries(matrix).map(
      ([name, cells]) => `| ${[name, ...CREDENTIAL_KINDS.map((k) => cells[k])].join(' | ')} |`,
    ),
  ]
  return [
    '# Access matrix',
    '',
    'Every root field (and the tenant-wide fields nested in a consent) under every kind of credential, over HTTP',
    '(graphql-http; subscriptions over SSE with graphql-sse), as test/e2e/access-matrix.test.ts observed it.',
    '',
    '- `ok`: answered (a list: non-empty, only what the caller may see: its tenant, or with a user token its user).',
    "- `ok / NOT_FOUND`: the own consent (or event) answered; another tenant's (with a user token also another",
    "  user's) answered NOT_FOUND, byte for byte like a missing id.",
    '- `FORBIDDEN`: valid credentials that may not use the field (a user token on tenant-wide fields; a read-only',
    '  user token on changes). `401`: HTTP 401 UNAUTHORIZED, nothing run.',
    "- `ends UNAUTHORIZED`: a disabled client's token, verified without a table read, is answered until it expires;",
    '  a subscription checks the client as it opens (and once per cache period) and its stream ends with UNAUTHORIZED.',
    "- Each row's disabled-client Basic cell uses a client of its own, so the failure limiter (10 failures per client",
    '  id) does not answer 429 first.',
    '',
    ...lines,
    '',
    'What the `ok` cells answered, by field (a change may answer a typed rule of its own, e.g. a consent already',
    'revoked; never a refusal of the caller):',
    '',
    ...[...answered].map(([name, types]) => `- ${name}: ${[...types].sort().join(', ')}`),
    '',
  ].join('\n')
}

/** Every field of the built schema's root types, as `Type.field`. */
function rootFields(): string[] {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
  return roots
    .filter((type): type is GraphQLObjectType => type !== null && type !== undefined)
    .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`))
}

describe('the access matrix', () => {
  it('has a row for every root field of the schema', () => {
    const fields = rootFields()
    const rows = Object.keys(ROWS).filter((name) => !name.startsWith('Consent.'))
    expect(
      fields.filter((field) => !rows.includes(field)),
      'root fields without a matrix row',
    ).toEqual([])
    expect(
      rows.filter((row) => !fields.includes(row)),
      'matrix rows of no root field',
    ).toEqual([])
    expect(fields.length).toBeGreaterThanOrEqual(20)
  })

  it('answers every root field under every kind of credential as expected', async () => {
    // Act
    const observed: Record<string, Record<CredentialKind, string>> = {}
    for (const [name, row] of Object.entries(ROWS)) {
      const cells = {} as Record<CredentialKind, string>
      credentials.disabledClientBasic = await disabledClientBasic(Object.keys(observed).length)
      for (const kind of CREDENTIAL_KINDS) cells[kind] = await runCell(name, row, kind)
      observed[name] = cells
    }
    const table = markdown(observed)
    console.log(table)
    await mkdir(join(REPORT, '..'), { recursive: true })
    await writeFile(REPORT, table)

    // Assess
    const wanted = Object.fromEntries(
      Object.entries(ROWS).map(([name, row]) => [
        name,
        Object.fromEntries(CREDENTIAL_KINDS.map((kind) => [kind, expected(row, kind)])),
      ]),
    )
    expect(observed).toEqual(wanted)
  }, 240_000)
})
