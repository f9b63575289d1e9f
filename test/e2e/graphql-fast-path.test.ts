// e2e: the GraphQL fast path (schema/fast-path.ts) answers exactly as yoga's pipeline does. Two servers over one
// gateway, one with the fast path and one without, get the same requests in the same order (success, variables, wrong
// variables, unknown field, invalid query, a query over the depth limit, a masked internal error, no credential, a
// forged bearer token, pages of a registered, another tenant's and an unregistered origin, the server's own origin,
// another tenant's consent, an end user's token and a revoked one, a tenant over its rate limit, a mutation, a body
// opening with a byte order mark, eight Accept values) and must give the same status, headers and bytes (the random
// error ids aside). The requests the fast path should answer itself are checked to have never reached yoga. Over raw
// sockets, the same bytes for what a client can get wrong on the wire: a body split across packets, one over the
// limit, a repeated Authorization header, and a declared length shorter than the body.
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGatewayHttpServer, type GatewayHttpServer } from '../../local/http-server.ts'
import { oauthEndpoints } from '../../http/oauth.ts'
import { CompiledQueries } from '../../schema/compiled-queries.ts'
import { fastPathOf, rememberFastPath } from '../../schema/fast-path.ts'
import { createGraphQLServer, graphQLServicesOf, type GraphQLServer } from '../../schema/server.ts'
import type { GraphQLServices } from '../../schema/context.ts'
import { TenantRateLimiter } from '../../service/rate-limiter.ts'
import { createTenantAdmin } from '../../composition/tenant-admin.ts'
import { revokeUserTokens, tamperedSignature, userToken } from '../support/credentials.ts'
import { execute, startStack, type Credentials, type Stack } from '../support/stack.ts'

let stack: Stack
let consentA: string
let consentB: string
/** A consent id whose read fails inside the store, as an unexpected error. */
let brokenConsent: string
let endUserToken: string
let revokedToken: string

interface Served {
  readonly http: GatewayHttpServer
  /** Requests that reached yoga. */
  yogaCalls: number
}
let fast: Served
let plain: Served
/** Yoga alone, every document interpreted by its executor: what a compiled document's answers must equal. */
let interpreted: Served

/** The limits the servers apply: tenant B's bucket holds 3 requests and never refills (the clock stands still). */
const limiter = (stackOf: Stack) =>
  new TenantRateLimiter(
    async (tenantId) =>
      tenantId === stackOf.tenantB.tenantId
        ? { rate: 0.001, burst: 3, quotaPerDay: 1_000 }
        : { rate: 1_000, burst: 1_000, quotaPerDay: 1_000_000 },
    {},
    () => Date.parse('2026-12-06T09:00:00Z'),
  )

/** The gateway's services, with their own rate limiter, and one consent whose read throws (a masked internal error). */
function servicesOf(stackOf: Stack): GraphQLServices {
  const services = graphQLServicesOf(stackOf.gateway)
  const consents = new Proxy(services.consents, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (property !== 'get' || typeof value !== 'function') return value
      return (caller: unknown, id: string) => {
        if (id === brokenConsent.replace(/^consent_/, '')) throw new TypeError('store exploded: secretHash at x.ts:1')
        return (value as (...args: unknown[]) => unknown).call(target, caller, id)
      }
    },
  })
  return { ...services, consents, rateLimits: limiter(stackOf) }
}

async function serve(graphqlFastPath: boolean, compiledQueries: CompiledQueries | false): Promise<Served> {
  const yoga = createGraphQLServer({
    services: servicesOf(stack),
    authenticator: stack.gateway.authenticator,
    logger: stack.gateway.logger,
    compiledQueries,
  })
  // The server as the route sees it, counting what reaches yoga; its fast path is the server's own.
  const counted = Object.create(yoga, {
    fetch: {
      value: (...args: Parameters<GraphQLServer['fetch']>) => {
        served.yogaCalls += 1
        return yoga.fetch(...args)
      },
    },
  }) as GraphQLServer
  const fastPath = fastPathOf(yoga)
  if (fastPath) rememberFastPath(counted, fastPath)
  const http = await startGatewayHttpServer(stack.gateway, counted, {
    ...oauthEndpoints({
      clients: stack.gateway.apiClients,
      tokens: stack.gateway.tokens,
      logger: stack.gateway.logger,
    }),
    graphqlFastPath,
  })
  const served: Served = { http, yogaCalls: 0 }
  return served
}

const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) { ... on CreateConsentPayload { consent { id } } ... on Error { code message } }
}`

async function createConsent(credentials: Credentials): Promise<string> {
  const result = await execute(stack.client(credentials), CREATE, {
    input: { provider: 'FINQWARE', institutionId: 'bt_ro', userId: 'user-1', region: 'EEA' },
  })
  const id = result.data?.createConsent.consent?.id as string | undefined
  if (!id) throw new Error(`createConsent: ${JSON.stringify(result)}`)
  return id
}

/** Pages of tenant A's and tenant B's registered origins. */
const A_ORIGIN = 'https://a.example'
const B_ORIGIN = 'https://b.example'

beforeAll(async () => {
  stack = await startStack()
  const admin = createTenantAdmin(stack.table.db, stack.table.tableName)
  await admin.setOrigins({ tenantId: stack.tenantA.tenantId, origins: [A_ORIGIN] }, 'test-suite')
  await admin.setOrigins({ tenantId: stack.tenantB.tenantId, origins: [B_ORIGIN] }, 'test-suite')
  consentA = await createConsent(stack.tenantA)
  consentB = await createConsent(stack.tenantB)
  brokenConsent = await createConsent(stack.tenantA)
  endUserToken = await userToken(stack, stack.tenantA, { userId: 'user-1' })
  revokedToken = await userToken(stack, stack.tenantA, { userId: 'user-2' })
  await revokeUserTokens(stack, stack.tenantA, 'user-2')
  // Both compile a document on its first run, with the compiler loaded beforehand: the second request of each
  // document finds it compiled, which the fast path needs.
  const compiled = async () => {
    const documents = new CompiledQueries({ compileAfterRuns: 1 })
    await documents.load()
    return documents
  }
  fast = await serve(true, await compiled())
  plain = await serve(false, await compiled())
  interpreted = await serve(false, false)
  // A stack, three consents and two end-user tokens: more than the default hook time on a busy machine.
}, 120_000)
afterAll(async () => {
  await fast?.http.close()
  await plain?.http.close()
  await interpreted?.http.close()
  await stack?.close()
})

const BY_ID = `query ($id: ID!) { consent(id: $id) { __typename ... on Consent { id status provider createdAt } ... on Error { code message } } }`
const literal = (id: string) =>
  `{ consent(id: "${id}") { __typename ... on Consent { id status } ... on Error { code } } }`
/** Deeper than the depth limit (12), through the consent's events and back. */
const TOO_DEEP = `{ consents(first: 1) { edges { node { events(first: 1) { edges { node { consent { events(first: 1) {
  edges { node { consent { events(first: 1) { edges { node { id } } } } } } } } } } } } } } }`

interface Case {
  readonly name: string
  readonly authorization?: string | undefined
  readonly body: unknown
  /** A page's origin (a cross-origin request); `self`: the server's own. */
  readonly origin?: string
  /** The Accept header; null for none. */
  readonly accept?: string | null
  /** Text before the body's JSON (a byte order mark). */
  readonly prefix?: string
  /** Whether the fast path answers it without yoga (once the document has run through yoga). */
  readonly fastAnswers: boolean
}

const cases = (): Case[] => {
  const a = stack.authorization(stack.tenantA)
  const b = stack.authorization(stack.tenantB)
  return [
    { name: 'success, no variables', authorization: a, body: { query: literal(consentA) }, fastAnswers: true },
    {
      name: 'with variables',
      authorization: a,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: true,
    },
    {
      name: 'under application/json',
      authorization: a,
      body: { query: BY_ID, variables: { id: consentA } },
      accept: 'application/json',
      fastAnswers: true,
    },
    // yoga's choice of media type, whatever the client accepts.
    ...(
      [
        [null, true],
        ['*/*', true],
        ['application/*', true],
        ['multipart/mixed, application/json', true],
        ['application/graphql-response+json;q=0.9, application/json', true],
        ['text/event-stream', false],
        ['application/json; charset=iso-8859-1', false],
        ['text/html', false],
      ] as const
    ).map(([accept, fastAnswers]) => ({
      name: `Accept: ${accept ?? '(none)'}`,
      authorization: a,
      body: { query: BY_ID, variables: { id: consentA } },
      accept,
      fastAnswers,
    })),
    {
      name: 'a body opening with a byte order mark',
      authorization: a,
      prefix: '\uFEFF',
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: true,
    },
    {
      name: 'wrong variables',
      authorization: a,
      body: { query: BY_ID, variables: { id: { no: 1 } } },
      fastAnswers: true,
    },
    {
      name: 'wrong variables under application/json',
      authorization: a,
      body: { query: BY_ID, variables: {} },
      accept: 'application/json',
      fastAnswers: true,
    },
    { name: 'unknown field', authorization: a, body: { query: '{ consent(id: "x") { nope } }' }, fastAnswers: false },
    { name: 'validation error', authorization: a, body: { query: '{ consent { __typename } }' }, fastAnswers: false },
    { name: 'too deep', authorization: a, body: { query: TOO_DEEP }, fastAnswers: false },
    {
      name: 'masked internal error',
      authorization: a,
      body: { query: BY_ID, variables: { id: brokenConsent } },
      fastAnswers: true,
    },
    { name: 'no credential', body: { query: BY_ID, variables: { id: consentA } }, fastAnswers: false },
    {
      name: 'forged bearer',
      authorization: `Bearer ${tamperedSignature(endUserToken)}`,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: false,
    },
    {
      name: 'wrong Basic secret',
      authorization: `Basic ${Buffer.from(`${stack.tenantA.clientId}:not-the-secret`).toString('base64')}`,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: false,
    },
    {
      name: 'a page of an origin no tenant registered',
      authorization: a,
      origin: 'https://elsewhere.example',
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: false,
    },
    {
      name: "a page of its tenant's registered origin",
      authorization: a,
      origin: A_ORIGIN,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: true,
    },
    {
      name: "a page of another tenant's origin",
      authorization: a,
      origin: B_ORIGIN,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: false,
    },
    {
      name: "a page of its tenant's origin, no credential",
      origin: A_ORIGIN,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: false,
    },
    {
      name: 'the GraphiQL page of the server itself',
      authorization: a,
      origin: 'self',
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: true,
    },
    {
      name: "another tenant's consent",
      authorization: a,
      body: { query: BY_ID, variables: { id: consentB } },
      fastAnswers: true,
    },
    {
      name: "an end user's token sending text, from its tenant's page",
      authorization: `Bearer ${endUserToken}`,
      origin: A_ORIGIN,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: false,
    },
    {
      name: "an end user's token sending text",
      authorization: `Bearer ${endUserToken}`,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: false,
    },
    {
      name: 'a revoked end-user token',
      authorization: `Bearer ${revokedToken}`,
      body: { query: BY_ID, variables: { id: consentA } },
      fastAnswers: false,
    },
    {
      name: 'mutation',
      authorization: a,
      body: {
        query:
          'mutation { revokeUserTokens(userId: "user-9") { __typename ... on RevokeUserTokensPayload { userId } } }',
      },
      fastAnswers: true,
    },
    {
      name: 'unexpected parameter',
      authorization: a,
      body: { query: BY_ID, variables: { id: consentA }, extra: 1 },
      fastAnswers: false,
    },
    // Tenant B's bucket: 3 requests, then 429 on each server alike (each counted once, fast path or not).
    ...[1, 2, 3, 4].map((n) => ({
      name: `tenant B, request ${n}`,
      authorization: b,
      body: { query: BY_ID, variables: { id: consentB } },
      fastAnswers: n === 1,
    })),
  ]
}

/** Headers a client or a cache acts on. */
const RELEVANT = [
  'content-type',
  'content-length',
  'cache-control',
  'vary',
  'www-authenticate',
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
  'x-request-id',
  'access-control-allow-origin',
  'access-control-expose-headers',
]

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | null>
  readonly body: string
}

async function send(server: Served, request: Case, requestId: string): Promise<Answer> {
  const response = await fetch(`${server.http.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(request.accept === null
        ? {}
        : { accept: request.accept ?? 'application/graphql-response+json, application/json' }),
      'x-request-id': requestId,
      ...(request.authorization ? { authorization: request.authorization } : {}),
      ...(request.origin ? { origin: request.origin === 'self' ? server.http.url : request.origin } : {}),
    },
    body: (request.prefix ?? '') + JSON.stringify(request.body),
  })
  const body = (await response.text()).replace(/"errorId":"[0-9a-f-]{36}"/g, '"errorId":"<random>"')
  return {
    status: response.status,
    headers: Object.fromEntries(RELEVANT.map((h) => [h, response.headers.get(h)])),
    body,
  }
}

describe('the GraphQL fast path', () => {
  it('answers every request with the same status, headers and bytes as yoga, and answers the common ones itself', async () => {
    // Act: each request twice to each server, in the same order (the first run through yoga prepares its document)
    const answers: { name: string; first: Answer[]; second: Answer[]; yogaCalls: number }[] = []
    const servers = [fast, plain, interpreted]
    for (const [index, request] of cases().entries()) {
      const first: Answer[] = []
      for (const server of servers) first.push(await send(server, request, `r${index}-1`))
      const before = fast.yogaCalls
      const second: Answer[] = []
      for (const server of servers) second.push(await send(server, request, `r${index}-2`))
      answers.push({ name: request.name, first, second, yogaCalls: fast.yogaCalls - before })
    }

    // Assert: the fast path as yoga, and compiled documents as interpreted ones
    for (const { name, first, second } of answers) {
      expect(first[0], `${name} (first, fast path)`).toEqual(first[2])
      expect(first[1], `${name} (first, compiled)`).toEqual(first[2])
      expect(second[0], `${name} (second, fast path)`).toEqual(second[2])
      expect(second[1], `${name} (second, compiled)`).toEqual(second[2])
    }
    const answeredByFastPath = answers.filter((answer) => answer.yogaCalls === 0).map((answer) => answer.name)
    const fastCases = cases()
      .filter((c) => c.fastAnswers)
      .map((c) => c.name)
    expect(answeredByFastPath).toEqual(fastCases)
    // What the cases stand for.
    const byName = new Map(answers.map((answer) => [answer.name, answer.second[0]]))
    expect(byName.get('with variables')?.status).toBe(200)
    expect(byName.get('with variables')?.body).toContain(`"id":"${consentA}"`)
    expect(byName.get('with variables')?.body).toContain('"cost":{"requested"')
    expect(byName.get('with variables')?.headers.ratelimit).toBeTruthy()
    expect(byName.get('wrong variables')?.status).toBe(400)
    expect(byName.get('wrong variables under application/json')?.status).toBe(200)
    expect(byName.get('masked internal error')?.body).toContain('"code":"INTERNAL_SERVER_ERROR"')
    expect(byName.get('masked internal error')?.body).not.toMatch(/exploded|secretHash|x\.ts/)
    expect(byName.get('no credential')?.status).toBe(401)
    expect(byName.get('forged bearer')?.status).toBe(401)
    expect(byName.get('a page of an origin no tenant registered')?.status).toBe(403)
    expect(byName.get("another tenant's consent")?.body).toContain('CONSENT_NOT_FOUND')
    expect(byName.get("another tenant's consent")?.body).not.toContain('"__typename":"Consent"')
    expect(byName.get("an end user's token sending text")?.status).toBe(403)
    expect(byName.get('a revoked end-user token')?.status).toBe(401)
    expect(byName.get('tenant B, request 1')?.status).toBe(200)
    expect(byName.get('tenant B, request 2')?.status).toBe(429)
    expect(byName.get('mutation')?.body).toContain('"userId":"user-9"')
    const pageA = byName.get("a page of its tenant's registered origin")
    expect(pageA?.status).toBe(200)
    expect(pageA?.headers['access-control-allow-origin']).toBe(A_ORIGIN)
    expect(pageA?.headers.vary).toContain('Origin')
    expect(byName.get("a page of another tenant's origin")?.status).toBe(403)
    expect(byName.get("a page of another tenant's origin")?.headers['access-control-allow-origin']).toBeNull()
    expect(byName.get("a page of its tenant's origin, no credential")?.headers['access-control-allow-origin']).toBe(
      A_ORIGIN,
    )
    expect(byName.get("an end user's token sending text, from its tenant's page")?.status).toBe(403)
    expect(byName.get('the GraphiQL page of the server itself')?.headers['access-control-allow-origin']).toBeNull()
    expect(byName.get('with variables')?.headers['x-request-id']).toBe(`r${1}-2`)
  })
})

/** One answer as it came over the wire: its status line, its header fields (lower-case, sorted, Date aside), body. */
interface WireAnswer {
  readonly statusLine: string
  readonly headers: string[]
  readonly body: string
}

/** The answers in everything a server sent on one connection (each read by its Content-Length). */
function wireAnswers(bytes: Buffer): WireAnswer[] {
  const answers: WireAnswer[] = []
  let rest = bytes
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) throw new Error(`an answer without its blank line: ${rest.toString()}`)
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n')
    const headers = lines
      .map((line) => {
        const colon = line.indexOf(':')
        return `${line.slice(0, colon).toLowerCase()}: ${line.slice(colon + 1).trim()}`
      })
      .filter((line) => !line.startsWith('date:'))
      .sort()
    const length = Number(headers.find((line) => line.startsWith('content-length:'))?.slice(16) ?? 0)
    const body = rest
      .subarray(end + 4, end + 4 + length)
      .toString('utf8')
      .replace(/"errorId":"[0-9a-f-]{36}"/g, '"errorId":"<random>"')
    answers.push({ statusLine, headers, body })
    rest = rest.subarray(end + 4 + length)
  }
  return answers
}

/**
 * Writes `first` on a new connection to `server`, then, once the server has taken the request's head (its `request`
 * event), `then`; returns all the server sent until it closed the connection.
 */
async function overTheWire(server: Served, first: string, then?: string): Promise<Buffer> {
  const { port } = new URL(server.http.url)
  const socket: Socket = connect(Number(port), '127.0.0.1')
  const received: Buffer[] = []
  socket.on('data', (chunk: Buffer) => received.push(chunk))
  // A server that answers before the whole body (413) may close before the rest is written: that is its answer.
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const headTaken = new Promise<void>((resolve) => server.http.server.once('request', () => resolve()))
  socket.write(first)
  if (then !== undefined) {
    await headTaken
    socket.write(then)
  }
  await closed
  return Buffer.concat(received)
}

/** A request's head and body as a client writes them; `declared` the Content-Length it claims. */
function wireRequest(
  body: string,
  options: { declared?: number; authorization?: string; twice?: boolean } = {},
): string {
  return [
    'POST /graphql HTTP/1.1',
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    'Accept: application/graphql-response+json',
    `Content-Length: ${options.declared ?? Buffer.byteLength(body)}`,
    ...(options.authorization ? [`Authorization: ${options.authorization}`] : []),
    // The same credential again: a repeated header reads joined, and so is no credential.
    ...(options.authorization && options.twice ? [`Authorization: ${options.authorization}`] : []),
    'X-Request-Id: on-the-wire',
    'Connection: close',
    '',
    body,
  ].join('\r\n')
}

describe('the GraphQL fast path below the app, on the wire', () => {
  it('answers a body split across packets, one over the limit, a repeated Authorization and a declared length short of the body as the app does', async () => {
    // Arrange: the document prepared on both servers (its first run goes through yoga)
    const body = JSON.stringify({ query: BY_ID, variables: { id: consentA } })
    const authorization = stack.authorization(stack.tenantA)
    for (const server of [fast, plain]) {
      expect(wireAnswers(await overTheWire(server, wireRequest(body, { authorization }))).length).toBe(1)
    }
    const head = wireRequest(body, { authorization })
    const split = head.length - 20

    // Act: each server gets the same bytes
    const exchanges = async (server: Served) => {
      const answers = {
        split: wireAnswers(await overTheWire(server, head.slice(0, split), head.slice(split))),
        tooLarge: wireAnswers(
          await overTheWire(server, wireRequest('', { declared: 65_537, authorization }), '{"query":'),
        ),
        authorizationTwice: wireAnswers(await overTheWire(server, wireRequest(body, { authorization, twice: true }))),
        shortLength: wireAnswers(
          await overTheWire(server, wireRequest(body, { declared: body.length - 3, authorization })),
        ),
      }
      return answers
    }
    const onFast = await exchanges(fast)
    const onPlain = await exchanges(plain)

    // Assert
    expect(onFast).toEqual(onPlain)
    expect(onFast.split).toHaveLength(1)
    expect(onFast.split[0]?.statusLine).toBe('HTTP/1.1 200 OK')
    expect(onFast.split[0]?.body).toContain(`"id":"${consentA}"`)
    expect(onFast.split[0]?.headers).toContain('x-request-id: on-the-wire')
    expect(onFast.tooLarge[0]?.statusLine).toBe('HTTP/1.1 413 Payload Too Large')
    expect(onFast.authorizationTwice[0]?.statusLine).toBe('HTTP/1.1 401 Unauthorized')
    // The three bytes past the declared length are a request node's parser refuses at once, closing the connection
    // before the first request is answered (on both alike).
    expect(onFast.shortLength).toEqual([
      { statusLine: 'HTTP/1.1 400 Bad Request', headers: ['connection: close'], body: '' },
    ])
  })
})
