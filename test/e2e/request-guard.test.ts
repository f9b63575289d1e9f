// e2e: what stops a request before GraphQL runs. Repeated wrong secrets are limited per client id and per source
// address (429 RATE_LIMITED with Retry-After) while a verified client keeps working; on Lambda the source is the
// event's sourceIp, never a header. Whatever fails on the way answers typed JSON, never @whatwg-node/server's stack
// page. Malformed GET parameters are a 400 BAD_REQUEST, not an internal error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGatewayHttpServer, type GatewayHttpServer } from '../../local/http-server.ts'
import { createGraphQLServer, graphQLServicesOf } from '../../schema/server.ts'
import type { ApiClientAuthenticator } from '../../service/authentication.ts'
// @ts-expect-error plain JavaScript without types: the stand-in Lambda runtime
import { eventOf, installAwslambda, invoke } from '../../scripts/lambda-runtime.mjs'
import { startStack, type Stack } from '../support/stack.ts'

let stack: Stack
let lambdaGraphql: unknown

const INTERNAL = /\bat\s+\S+\s*\(|node_modules|\.ts:\d|secretHash|TypeError/

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`

function post(authorization: string, query = '{ __typename }', extraHeaders: Record<string, string> = {}) {
  const body = JSON.stringify({ query })
  return {
    method: 'POST',
    headers: {
      authorization,
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      'content-length': String(Buffer.byteLength(body)),
      ...extraHeaders,
    },
    body,
  }
}

async function overHttp(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init)
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() }
}

async function overLambda(request: {
  method: string
  headers: Record<string, string>
  body: string
  sourceIp: string
}): Promise<Answer> {
  let status = 0
  let headers: Record<string, string> = {}
  const chunks: Buffer[] = []
  await invoke(
    lambdaGraphql,
    eventOf({
      method: request.method,
      path: '/graphql',
      headers: request.headers,
      body: Buffer.from(request.body),
      remoteAddress: request.sourceIp,
    }),
    10_000,
    {
      onHead: (code: number, head: Record<string, string>) => {
        status = code
        headers = head
      },
      onChunk: (bytes: Buffer) => chunks.push(bytes),
    },
  )
  return { status, headers, body: Buffer.concat(chunks).toString('utf8') }
}

const codeOf = (answer: Answer) =>
  (JSON.parse(answer.body) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code

beforeAll(async () => {
  stack = await startStack()
  Object.assign(process.env, {
    TABLE_NAME: stack.table.tableName,
    DYNAMODB_ENDPOINT: stack.table.endpoint,
    PUBLIC_BASE_URL: 'http://127.0.0.1:1',
    CURSOR_SECRET: 'test-cursor-secret-0123456789abcdef',
    USER_REFERENCE_KEY: 'test-user-reference-key-0123456789abcdef',
  })
  installAwslambda()
  lambdaGraphql = (await import('../../functions/graphql.ts')).handler
})

afterAll(async () => {
  await stack?.close()
})

describe('nothing reaches the HTTP library default error page', () => {
  it('answers a failure inside authentication as a masked INTERNAL_SERVER_ERROR, over node:http and fetch', async () => {
    const broken = {
      authenticate: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'secretHash') at /srv/authentication.ts:93")
      },
    } as unknown as ApiClientAuthenticator
    const logged: Record<string, unknown>[] = []
    const logger = {
      ...stack.gateway.logger,
      error: (_message: string, extra?: Record<string, unknown>) => logged.push(extra ?? {}),
    }
    const yoga = createGraphQLServer({ services: graphQLServicesOf(stack.gateway), authenticator: broken, logger })
    const http: GatewayHttpServer = await startGatewayHttpServer(stack.gateway, yoga)
    try {
      const request = post(stack.authorization(stack.tenantA))
      const viaFetch = await yoga.fetch(`http://gateway.test/graphql`, request)
      for (const answer of [
        await overHttp(`${http.url}/graphql`, request),
        { status: viaFetch.status, headers: Object.fromEntries(viaFetch.headers), body: await viaFetch.text() },
      ]) {
        expect(answer.status).toBe(500)
        expect(answer.headers['content-type']).toMatch(/json/)
        expect(answer.body).not.toMatch(INTERNAL)
        const error = (JSON.parse(answer.body) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]
        expect(error?.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', errorId: expect.any(String) })
        // The error itself is in the log, under the id the client was given.
        expect(logged.find((line) => line.errorId === error?.extensions.errorId)?.error).toBeInstanceOf(TypeError)
      }
    } finally {
      await http.close()
    }
  })
})

describe('malformed GraphQL parameters', () => {
  const authorized = () => ({
    authorization: stack.authorization(stack.tenantA),
    accept: 'application/graphql-response+json',
  })

  it.each([
    ['variables that are not JSON', 'query=%7B__typename%7D&variables=%7Bbad'],
    ['extensions that are not JSON', 'query=%7B__typename%7D&extensions=not-json'],
  ])('answers a GET with %s with 400 BAD_REQUEST', async (_name, query) => {
    const answer = await overHttp(`${stack.graphqlUrl}?${query}`, { headers: authorized() })
    expect(answer.status).toBe(400)
    expect(codeOf(answer)).toBe('BAD_REQUEST')
    expect(answer.body).not.toMatch(/Unexpected token|JSON\.parse|INTERNAL/)
  })

  it.each([
    ['trailing garbage', '{"query":"{ __typename }"} x'],
    ['a comment', '// hi\n{"query":"{ __typename }"}'],
    ['nothing', ''],
  ])('answers a JSON POST with %s with 400 BAD_REQUEST and none of the JSON parser text', async (_name, body) => {
    // 400 under either media type: the body is not a GraphQL-over-HTTP request at all.
    for (const accept of ['application/graphql-response+json', 'application/json']) {
      const answer = await overHttp(stack.graphqlUrl, {
        method: 'POST',
        headers: {
          ...authorized(),
          accept,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
        body,
      })
      expect(answer.status).toBe(400)
      expect(codeOf(answer)).toBe('BAD_REQUEST')
      expect(answer.body).not.toMatch(/originalError|SyntaxError|Unexpected|position \d|is not valid JSON/)
    }
  })

  it('answers a form POST with variables that are not JSON with 400 BAD_REQUEST', async () => {
    const body = 'query=%7B__typename%7D&variables=%7Bbad'
    const answer = await overHttp(stack.graphqlUrl, {
      method: 'POST',
      headers: {
        ...authorized(),
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(body.length),
      },
      body,
    })
    expect(answer.status).toBe(400)
    expect(codeOf(answer)).toBe('BAD_REQUEST')
  })
})

describe('failed authentication attempts are limited', () => {
  it('per client id over node:http: 429 RATE_LIMITED with Retry-After, while the verified client keeps working', async () => {
    const { tenantA } = stack
    expect((await overHttp(stack.graphqlUrl, post(stack.authorization(tenantA)))).status).toBe(200)
    const statuses: number[] = []
    let limited: Answer | undefined
    for (let i = 0; i < 40 && !limited; i++) {
      const answer = await overHttp(stack.graphqlUrl, post(basic(tenantA.clientId, `wrong-${i}-0123456789abcdef`)))
      statuses.push(answer.status)
      if (answer.status === 429) limited = answer
    }
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThan(0)
    expect(limited).toBeDefined()
    const answer = limited as Answer
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    const error = (JSON.parse(answer.body) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]
    expect(error?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryable: true })
    expect(error?.extensions?.retryAfterSeconds).toBe(Number(answer.headers['retry-after']))
    // The legitimate client, from the same address, is not locked out.
    expect((await overHttp(stack.graphqlUrl, post(stack.authorization(tenantA)))).status).toBe(200)
  })

  it('per source address on Lambda, from the event sourceIp and never from X-Forwarded-For', async () => {
    // Every attempt claims another address in X-Forwarded-For: were it believed, no bucket would ever run dry.
    const attacker = '198.51.100.23'
    let limited: Answer | undefined
    for (let i = 0; i < 60 && !limited; i++) {
      const answer = await overLambda({
        ...post(basic(`guess-${i}`, 'wrong-0123456789abcdef'), '{ __typename }', { 'x-forwarded-for': `192.0.2.${i}` }),
        sourceIp: attacker,
      })
      if (answer.status === 429) limited = answer
      else expect(answer.status).toBe(401)
    }
    expect(limited && codeOf(limited)).toBe('RATE_LIMITED')
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // Another address is not limited by the attacker's failures.
    const other = await overLambda({ ...post(basic('guess-other', 'wrong-0123456789abcdef')), sourceIp: '192.0.2.99' })
    expect(other.status).toBe(401)
  })
})
