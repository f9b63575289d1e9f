// e2e: the GraphQL fast path (schema/fast-path.ts) answers exactly as yoga's pipeline does. Two servers over one
// gateway, one with the fast path and one without, get the same requests in the same order (success, variables, wrong
// variables, unknown field, invalid query, a query over the depth limit, a masked internal error, no credential, a
// forged bearer token, a page of an unregistered origin, another tenant's consent, an end user's token and a revoked
// one, a tenant over its rate limit, a mutation, eight Accept values) and must give the same status, headers and bytes
// (the random error ids aside). The requests the fast path should answer itself are checked to have never reached yoga.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGatewayHttpServer, type GatewayHttpServer } from '../../local/http-server.ts'
import { oauthEndpoints } from '../../http/oauth.ts'
import { fastPathOf, rememberFastPath } from '../../schema/fast-path.ts'
import { createGraphQLServer, graphQLServicesOf, type GraphQLServer } from '../../schema/server.ts'
import type { GraphQLServices } from '../../schema/context.ts'
import { TenantRateLimiter } from '../../service/rate-limiter.ts'
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

async function serve(graphqlFastPath: boolean): Promise<Served> {
  const yoga = createGraphQLServer({
    services: servicesOf(stack),
    authenticator: stack.gateway.authenticator,
    logger: stack.gateway.logger,
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

beforeAll(async () => {
  stack = await startStack()
  consentA = await createConsent(stack.tenantA)
  consentB = await createConsent(stack.tenantB)
  brokenConsent = await createConsent(stack.tenantA)
  endUserToken = await userToken(stack, stack.tenantA, { userId: 'user-1' })
  revokedToken = await userToken(stack, stack.tenantA, { userId: 'user-2' })
  await revokeUserTokens(stack, stack.tenantA, 'user-2')
  fast = await serve(true)
  plain = await serve(false)
  // A stack, three consents and two end-user tokens: more than the default hook time on a busy machine.
}, 120_000)
afterAll(async () => {
  await fast?.http.close()
  await plain?.http.close()
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
  /** A page's origin (a cross-origin request). */
  readonly origin?: string
  /** The Accept header; null for none. */
  readonly accept?: string | null
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
      name: "another tenant's consent",
      authorization: a,
      body: { query: BY_ID, variables: { id: consentB } },
      fastAnswers: true,
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
      ...(request.origin ? { origin: request.origin } : {}),
    },
    body: JSON.stringify(request.body),
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
    const answers: { name: string; first: [Answer, Answer]; second: [Answer, Answer]; yogaCalls: number }[] = []
    for (const [index, request] of cases().entries()) {
      const first: [Answer, Answer] = [
        await send(fast, request, `r${index}-1`),
        await send(plain, request, `r${index}-1`),
      ]
      const before = fast.yogaCalls
      const second: [Answer, Answer] = [
        await send(fast, request, `r${index}-2`),
        await send(plain, request, `r${index}-2`),
      ]
      answers.push({ name: request.name, first, second, yogaCalls: fast.yogaCalls - before })
    }

    // Assert
    for (const { name, first, second } of answers) {
      expect(first[0], `${name} (first)`).toEqual(first[1])
      expect(second[0], `${name} (second)`).toEqual(second[1])
    }
    const answeredByFastPath = answers.filter((answer) => answer.yogaCalls === 0).map((answer) => answer.name)
    expect(answeredByFastPath).toEqual(
      cases()
        .filter((c) => c.fastAnswers)
        .map((c) => c.name),
    )
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
  })
})
