// e2e: the one HTTP application (http/app.ts) over the real gateway (DynamoDB Local, the sandboxes), its route table
// asked on every host that serves it: in process (`app.request`), and through the Lambda adapter with a Function URL /
// HTTP API event (payload 2.0) and a REST API event (payload 1.0), streaming and as one result. Every route answers the
// same everywhere; unknown paths are 404 and known paths asked with another method 405, as JSON problems; an SSE
// subscription streams event by event through a REST API event; and what a subscription answers mid-stream still
// carries its request id.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { bufferedHandler, streamingHandler } from '../../functions/lambda-http.ts'
import { createHttpApp } from '../../http/app.ts'
import type { HttpApp } from '../../http/env.ts'
import { oauthEndpoints } from '../../http/oauth.ts'
import { localRoutes } from '../../local/local-routes.ts'
import { OffsetClock } from '../../local/offset-clock.ts'
import { createGraphQLServer, graphQLServicesOf } from '../../schema/server.ts'
import { provisionApiClient } from '../../service/tenants.ts'
// @ts-expect-error plain JavaScript without types: the stand-in Lambda runtime
import { eventOf, eventOfV1, installAwslambda, invoke } from '../../scripts/lambda-runtime.mjs'
import { decideAtBank, eventually, execute, startStack, type Credentials, type Stack } from '../support/stack.ts'

const PARTNER_ORIGIN = 'https://app.partner.example'
const CACHE_TTL_MS = 300

let stack: Stack
let app: HttpApp

beforeAll(async () => {
  installAwslambda()
  stack = await startStack({ authCacheTtlMs: CACHE_TTL_MS })
  const graphql = createGraphQLServer({
    services: graphQLServicesOf(stack.gateway),
    authenticator: stack.gateway.authenticator,
    logger: stack.gateway.logger,
  })
  app = createHttpApp(
    {
      gateway: stack.gateway,
      graphql,
      // The real endpoints over the stack's clients and signing keys, as npm start and the public-API function mount them.
      ...oauthEndpoints({
        clients: stack.gateway.apiClients,
        tokens: stack.gateway.tokens,
        logger: stack.gateway.logger,
      }),
      extraRoutes: localRoutes({
        clock: OffsetClock.load(null),
        controlSecret: 'control-secret-of-this-test',
        sandboxes: [],
        sweepNow: async () => undefined,
        runJobsNow: () => undefined,
      }),
    },
    { corsAllowedOrigins: [PARTNER_ORIGIN] },
  )
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

interface Ask {
  readonly method: string
  readonly path: string
  readonly query?: string
  readonly headers?: Record<string, string>
  readonly body?: string
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** `ask` in process: the Request a client would send (a body with its declared length, as every HTTP client sends). */
async function inProcess(ask: Ask): Promise<Answer> {
  const headers = {
    ...ask.headers,
    ...(ask.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(ask.body)) }),
  }
  const url = `http://gateway.test${ask.path}${ask.query ? `?${ask.query}` : ''}`
  const response = await app.request(url, {
    method: ask.method,
    headers,
    ...(ask.body === undefined ? {} : { body: ask.body }),
  })
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() }
}

/** `ask` as a Lambda event of `payload`, through the streaming or the one-result handler. */
function overLambda(payload: '1.0' | '2.0', mode: 'streaming' | 'buffered') {
  return async (ask: Ask): Promise<Answer> => {
    const handler = mode === 'streaming' ? streamingHandler(app) : bufferedHandler(app)
    const event = (payload === '1.0' ? eventOfV1 : eventOf)({
      method: ask.method,
      path: ask.path,
      query: ask.query ?? '',
      headers: { host: 'gateway.lambda.test', ...ask.headers },
      body: ask.body === undefined ? null : Buffer.from(ask.body),
    })
    let status = 0
    let headers: Record<string, string> = {}
    const chunks: Buffer[] = []
    await invoke(handler, event, 20_000, {
      onHead: (code: number, head: Record<string, string>) => {
        status = code
        headers = Object.fromEntries(Object.entries(head).map(([name, value]) => [name.toLowerCase(), value]))
      },
      onChunk: (bytes: Buffer) => chunks.push(bytes),
    })
    return { status, headers, body: Buffer.concat(chunks).toString('utf8') }
  }
}

const HOSTS: [string, (ask: Ask) => Promise<Answer>][] = [
  ['in process', inProcess],
  ['Lambda 2.0 streaming', overLambda('2.0', 'streaming')],
  ['Lambda 2.0 one result', overLambda('2.0', 'buffered')],
  ['Lambda 1.0 streaming', overLambda('1.0', 'streaming')],
  ['Lambda 1.0 one result', overLambda('1.0', 'buffered')],
]

const json = (answer: Answer) => JSON.parse(answer.body) as Record<string, any>
const auth = (credentials: Credentials = stack.tenantA) => ({ authorization: stack.authorization(credentials) })
const gqlPost = (
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Ask => ({
  method: 'POST',
  path: '/graphql',
  headers: { ...auth(), 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
  body: JSON.stringify({ query, variables }),
})

/** Every route, what it must answer, and how to tell. */
const ROUTES: [string, () => Ask, (answer: Answer) => void][] = [
  [
    'POST /graphql runs a query',
    () => gqlPost('{ providers { provider } }'),
    (answer) => {
      expect(answer.status).toBe(200)
      expect(answer.headers['content-type']).toMatch(/application\/graphql-response\+json/)
      expect(json(answer).data.providers.map((p: { provider: string }) => p.provider)).toContain('FINQWARE')
    },
  ],
  [
    'GET /graphql runs a query',
    () => ({ method: 'GET', path: '/graphql', query: 'query=%7B__typename%7D', headers: auth() }),
    (answer) => {
      expect(answer.status).toBe(200)
      expect(json(answer)).toEqual({
        data: { __typename: 'Query' },
        extensions: { cost: { requested: 1, limit: 5000 } },
      })
    },
  ],
  [
    "OPTIONS /graphql answers a configured origin's preflight",
    () => ({
      method: 'OPTIONS',
      path: '/graphql',
      headers: { origin: PARTNER_ORIGIN, 'access-control-request-method': 'POST' },
    }),
    (answer) => {
      expect(answer.status).toBe(204)
      expect(answer.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN)
      expect(answer.headers['access-control-allow-credentials']).toBeUndefined()
      expect(answer.headers.vary).toMatch(/origin/i)
    },
  ],
  [
    'POST /webhooks/finqware refuses an unsigned notification',
    () => ({ method: 'POST', path: '/webhooks/finqware', headers: { 'content-type': 'application/json' }, body: '{}' }),
    (answer) => {
      expect(answer.status).toBe(401)
      expect(json(answer)).toMatchObject({ error: 'unauthenticated' })
    },
  ],
  [
    'POST /webhooks/worldline/notification/status (below the provider path) refuses a missing token',
    () => ({
      method: 'POST',
      path: '/webhooks/worldline/notification/status',
      headers: { 'content-type': 'application/json' },
      body: '{"ConsentId":"x","ConsentStatus":"valid"}',
    }),
    (answer) => {
      expect(answer.status).toBe(401)
      expect(json(answer)).toMatchObject({ error: 'unauthenticated' })
    },
  ],
  [
    'GET /callbacks/yapily/<link> answers a link we did not sign with its page',
    () => ({ method: 'GET', path: '/callbacks/yapily/Zm9yZ2Vk.AAAAAAAAAAAAAAAAAAAAAA', query: 'consent=stolen' }),
    (answer) => {
      expect(answer.status).toBe(404)
      expect(answer.headers['content-type']).toMatch(/text\/html/)
      expect(answer.headers['referrer-policy']).toBe('no-referrer')
      expect(answer.body).toContain('Link not recognised')
    },
  ],
  [
    'POST /oauth/token reaches its handler with the body as sent',
    () => ({
      method: 'POST',
      path: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${stack.tenantA.clientId}:${stack.tenantA.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    }),
    (answer) => {
      // A token for tenant A's client: the form and the credentials reached the endpoint as sent.
      expect(answer.status).toBe(200)
      expect(answer.headers['cache-control']).toBe('no-store')
      expect(json(answer)).toMatchObject({ token_type: 'Bearer', scope: 'partner', access_token: expect.any(String) })
    },
  ],
  [
    'GET /.well-known/jwks.json reaches its handler',
    () => ({ method: 'GET', path: '/.well-known/jwks.json' }),
    (answer) => {
      expect(answer.status).toBe(200)
      expect(json(answer)).toEqual(stack.gateway.tokens.jwks())
    },
  ],
  [
    'GET /healthz says the store answers',
    () => ({ method: 'GET', path: '/healthz' }),
    (answer) => {
      expect(answer.status).toBe(200)
      expect(json(answer)).toEqual({ status: 'ok', store: 'ok' })
      expect(answer.headers['cache-control']).toBe('no-store')
    },
  ],
  [
    'GET /local/done (an extra route) shows what came back',
    () => ({ method: 'GET', path: '/local/done', query: 'status=ACTIVE' }),
    (answer) => {
      expect(answer.status).toBe(200)
      expect(answer.body).toContain('ACTIVE')
    },
  ],
]

/** Paths nobody serves, and served paths asked with a method they do not take. */
const REFUSALS: [string, Ask, number, string | null][] = [
  ['an unknown path', { method: 'GET', path: '/nope' }, 404, null],
  ['a path only like /healthz', { method: 'GET', path: '/healthz/' }, 404, null],
  ['an unknown provider', { method: 'POST', path: '/webhooks/nope', body: '{}' }, 404, null],
  ['GET on a webhook', { method: 'GET', path: '/webhooks/finqware' }, 405, 'POST'],
  ['POST on a callback', { method: 'POST', path: '/callbacks/yapily/abc', body: '' }, 405, 'GET'],
  ['DELETE on /healthz', { method: 'DELETE', path: '/healthz' }, 405, 'GET, HEAD'],
  ['GET on the token endpoint', { method: 'GET', path: '/oauth/token' }, 405, 'POST'],
  ['POST on the key set', { method: 'POST', path: '/.well-known/jwks.json', body: '' }, 405, 'GET, HEAD'],
]

describe.each(HOSTS)('the route table %s', (_host, ask) => {
  it.each(ROUTES)('%s', async (_name, request, check) => {
    check(await ask(request()))
  })

  it.each(REFUSALS)('answers %s with a JSON problem', async (_name, request, status, allow) => {
    const answer = await ask({ ...request, headers: { 'x-request-id': 'refusal-1' } })

    expect(answer.status).toBe(status)
    expect(answer.headers['content-type']).toMatch(/application\/json/)
    // The token endpoint answers in RFC 6749 §5.2's shape, like everything else it says.
    const error =
      status === 404 ? 'not_found' : request.path === '/oauth/token' ? 'invalid_request' : 'method_not_allowed'
    expect(json(answer)).toMatchObject({ error, requestId: 'refusal-1' })
    expect(answer.headers.allow ?? null).toBe(allow)
  })

  it('answers another method on /graphql as GraphQL over HTTP does: 405 with a code', async () => {
    const answer = await ask({ ...gqlPost('{ __typename }'), method: 'PUT' })

    expect(answer.status).toBe(405)
    expect(json(answer).errors[0].extensions.code).toBe('BAD_REQUEST')
  })

  it('refuses a GraphQL body over 64 kB with 413 before GraphQL runs', async () => {
    const answer = await ask(gqlPost(`{ __typename } # ${'x'.repeat(70_000)}`))

    expect(answer.status).toBe(413)
    expect(json(answer).errors[0].extensions).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
  })

  it('echoes a sane request id on every answer, and replaces any other', async () => {
    const kept = await ask(gqlPost('{ __typename }', {}, { 'x-request-id': 'client-id-1' }))
    const replaced = await ask({ method: 'GET', path: '/healthz', headers: { 'x-request-id': 'bad id with spaces' } })

    expect(kept.headers['x-request-id']).toBe('client-id-1')
    expect(replaced.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,64}$/)
    expect(replaced.headers['x-request-id']).not.toBe('bad id with spaces')
  })

  it('lets a HEAD of a callback link complete nothing', async () => {
    const answer = await ask({ method: 'HEAD', path: '/callbacks/yapily/Zm9yZ2Vk.AAAAAAAAAAAAAAAAAAAAAA' })

    expect(answer.status).toBe(405)
    expect(answer.headers.allow).toBe('GET')
  })
})

describe('an app without the optional handlers', () => {
  it('does not serve GraphQL, the token endpoint or the key set (a function without them)', async () => {
    const bare = createHttpApp({ gateway: stack.gateway })
    for (const [method, path] of [
      ['POST', '/graphql'],
      ['POST', '/oauth/token'],
      ['GET', '/.well-known/jwks.json'],
      ['GET', '/local/done'],
    ] as const) {
      const answer = await bare.request(path, { method, headers: { 'content-length': '0' } })
      expect(answer.status, path).toBe(404)
    }
    expect((await bare.request('/healthz')).status).toBe(200)
  })
})

describe('the declared length', () => {
  it('is required of a GraphQL POST (411), which only a client that streams its body leaves out', async () => {
    const answer = await app.request('/graphql', {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    })

    expect(answer.status).toBe(411)
    expect((await answer.json()).errors[0].extensions.code).toBe('BAD_REQUEST')
  })
})

/** A Finqware consent taken to ACTIVE, for subscriptions to watch. */
async function activeConsent(credentials: Credentials): Promise<string> {
  const client = stack.client(credentials)
  const created = await execute(
    client,
    `mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "http-app", region: EEA}) {
      ... on CreateConsentPayload { consent { id authorizationUrl } } } }`,
  )
  const consent = created.data?.createConsent.consent as { id: string; authorizationUrl: string }
  await decideAtBank(consent.authorizationUrl, 'approve')
  await eventually(async () => {
    const read = await execute(client, `{ consent(id: "${consent.id}") { ... on Consent { status } } }`)
    return read.data?.consent.status === 'ACTIVE'
  })
  return consent.id
}

describe('a subscription through a REST API event (payload 1.0) in streaming mode', () => {
  it('streams event by event: the current state first, then the change, then the end', async () => {
    // Prepare: an ACTIVE consent
    const id = await activeConsent(stack.tenantA)
    const event = eventOfV1({
      method: 'POST',
      path: '/graphql',
      headers: {
        host: 'api.rest.test',
        ...auth(),
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      body: Buffer.from(JSON.stringify({ query: `subscription { consentUpdated(id: "${id}") { status } }` })),
    })
    let head: { status: number; type: string } | null = null
    const chunks: string[] = []
    const revoked: Promise<unknown>[] = []

    // Act: subscribe; only once the first event has arrived, revoke the consent
    await invoke(streamingHandler(app), event, 20_000, {
      onHead: (status: number, headers: Record<string, string>) =>
        (head = { status, type: headers['content-type'] ?? '' }),
      onChunk: (bytes: Buffer) => {
        chunks.push(bytes.toString('utf8'))
        if (revoked.length === 0 && chunks.join('').includes('"status":"ACTIVE"')) {
          revoked.push(execute(stack.client(stack.tenantA), `mutation { revokeConsent(id: "${id}") { __typename } }`))
        }
      },
    })
    await Promise.all(revoked)

    // Assess: the stream began before the change existed, carried it, and completed by itself
    expect(head).toEqual({ status: 200, type: expect.stringMatching(/text\/event-stream/) })
    const firstActive = chunks.findIndex((chunk) => chunk.includes('"status":"ACTIVE"'))
    const firstRevoked = chunks.findIndex((chunk) => chunk.includes('"status":"REVOKED"'))
    expect(firstActive).toBeGreaterThanOrEqual(0)
    expect(firstRevoked).toBeGreaterThan(firstActive)
    expect(chunks.join('')).toMatch(/event: complete/)
  })
})

describe('a subscription answering mid-stream', () => {
  it('still carries the request id it was opened with (the stream is read in its request scope)', async () => {
    // Prepare: a client of its own, a consent, and a subscription opened with a request id of ours
    const own: Credentials = {
      tenantId: stack.tenantA.tenantId,
      clientId: 'client-alpha-scope',
      clientSecret: 'secret-alpha-scope-0123456789',
    }
    await provisionApiClient(stack.gateway.access, { ...own, tenantName: 'Alpha' }, new Date())
    const id = await activeConsent(own)
    const response = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: {
        authorization: stack.authorization(own),
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'x-request-id': 'sse-scope-1',
      },
      body: JSON.stringify({ query: `subscription { consentUpdated(id: "${id}") { status } }` }),
    })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    const readSome = async () => {
      const { done, value } = await reader.read()
      if (!done) text += new TextDecoder().decode(value)
      return done
    }
    await vi.waitFor(async () => {
      await readSome()
      expect(text).toContain('"status":"ACTIVE"')
    })

    // Act: disable the client, so the stream's next re-check ends it with an error
    const record = await stack.gateway.access.getApiClient(own.clientId)
    await stack.gateway.access.putApiClient({ ...(record as NonNullable<typeof record>), disabled: true })
    while (!(await readSome()));

    // Assess: the error event names the subscription's request
    const errorEvent = text
      .split('\n')
      .filter((line) => line.startsWith('data:') && line.includes('"errors"'))
      .map((line) => JSON.parse(line.slice(5)) as { errors: { extensions: Record<string, unknown> }[] })[0]
    expect(errorEvent?.errors[0]?.extensions).toMatchObject({ code: 'UNAUTHORIZED', requestId: 'sse-scope-1' })
  })
})
