// offline: Lambda events (payload 2.0 and 1.0) as fetch Requests, and fetch Responses on the response stream or as one
// result (cookies, base64, deadlines, what the app is told of the caller).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import {
  bufferedHandler,
  bufferedResult,
  eventBody,
  invocationDeadline,
  sourceIpOf,
  streamingHandler,
  streamResponse,
  toRequest,
  type FetchApp,
  type HttpEvent,
} from '../../functions/lambda-http.ts'
import type { HttpBindings } from '../../http/env.ts'
// @ts-expect-error plain JavaScript without types: the stand-in runtime the bundle tests use too
import { eventOf, eventOfV1, installAwslambda, invoke } from '../../scripts/lambda-runtime.mjs'

const request = (overrides: Record<string, unknown>) => ({
  method: 'POST',
  path: '/graphql',
  query: 'a=1&b=2',
  headers: { host: 'abc.lambda-url.eu-west-1.on.aws' },
  ...overrides,
})
const event = (overrides: Record<string, unknown>) => eventOf(request(overrides)) as APIGatewayProxyEventV2
const eventV1 = (overrides: Record<string, unknown>) => eventOfV1(request(overrides)) as HttpEvent
const signal = () => new AbortController().signal

let previous: unknown
beforeAll(() => {
  previous = (globalThis as { awslambda?: unknown }).awslambda
  installAwslambda()
})
afterAll(() => {
  ;(globalThis as { awslambda?: unknown }).awslambda = previous
})

describe('events as requests', () => {
  it('builds the URL from rawPath and rawQueryString, keeping method and headers', () => {
    const request = toRequest(
      event({ headers: { host: 'abc.lambda-url.eu-west-1.on.aws', 'X-Request-Id': 'r1' } }),
      null,
      signal(),
    )
    expect(request.url).toBe('https://abc.lambda-url.eu-west-1.on.aws/graphql?a=1&b=2')
    expect(request.method).toBe('POST')
    expect(request.headers.get('x-request-id')).toBe('r1')
  })

  it('gives the cookies Function URLs move into event.cookies back to the request', () => {
    const lambdaEvent = event({ headers: { host: 'h', cookie: 'a=1; b=2' } })
    expect(lambdaEvent.cookies).toEqual(['a=1', 'b=2'])
    expect(toRequest(lambdaEvent, null, signal()).headers.get('cookie')).toBe('a=1; b=2')
  })

  it('decodes base64 bodies to the exact bytes, and keeps text bodies as sent', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252])
    const binary = event({ headers: { host: 'h', 'content-type': 'application/octet-stream' }, body: bytes })
    expect(binary.isBase64Encoded).toBe(true)
    expect(eventBody(binary)).toEqual(bytes)
    const json = event({
      headers: { host: 'h', 'content-type': 'application/json' },
      body: Buffer.from('{"query":"{ a }"}'),
    })
    expect(json.isBase64Encoded).toBe(false)
    expect(await toRequest(json, eventBody(json), signal()).text()).toBe('{"query":"{ a }"}')
  })

  it('fires the abort signal the chosen margin before the invocation runs out of time', async () => {
    const context = { getRemainingTimeInMillis: () => 250 } as Context
    const { signal, deadline, clear } = invocationDeadline(context, 200)
    expect(deadline - Date.now()).toBeLessThanOrEqual(50)
    await new Promise((resolve) => signal.addEventListener('abort', resolve))
    expect(signal.aborted).toBe(true)
    clear()
  })
})

describe('REST API (payload 1.0) events as requests', () => {
  it('builds the URL from the path and the decoded parameters, keeping repeated ones, method and headers', () => {
    const lambdaEvent = eventV1({
      method: 'GET',
      query: 'a=1&a=2&q=%7B%20x%20%7D',
      headers: { Host: 'api.example', 'X-Request-Id': 'r1', Accept: ['text/html', 'application/json'] },
    })

    const built = toRequest(lambdaEvent, null, signal())

    expect(built.url).toBe('https://api.example/graphql?a=1&a=2&q=%7B+x+%7D')
    expect(new URL(built.url).searchParams.get('q')).toBe('{ x }')
    expect(built.method).toBe('GET')
    expect(built.headers.get('x-request-id')).toBe('r1')
    expect(built.headers.get('accept')).toBe('text/html, application/json')
  })

  it('keeps the cookies a REST API leaves in the headers, and the body as sent', async () => {
    const bytes = Buffer.from([0, 1, 2, 250])
    const lambdaEvent = eventV1({
      headers: { host: 'h', cookie: ['a=1', 'b=2'], 'content-type': 'application/octet-stream' },
      body: bytes,
    })

    const built = toRequest(lambdaEvent, eventBody(lambdaEvent), signal())

    expect(built.headers.get('cookie')).toBe('a=1; b=2')
    expect(Buffer.from(await built.arrayBuffer())).toEqual(bytes)
  })

  it('reads the caller from requestContext.identity, and a 2.0 event from requestContext.http', () => {
    expect(sourceIpOf(eventV1({ remoteAddress: '203.0.113.7' }))).toBe('203.0.113.7')
    expect(sourceIpOf(event({ remoteAddress: '203.0.113.8', headers: { 'x-forwarded-for': '10.0.0.1' } }))).toBe(
      '203.0.113.8',
    )
  })
})

describe('the body length the app bounds', () => {
  it('is the body as received, whatever the client declared, and 0 for a POST without one', () => {
    const declaredSmall = event({ headers: { host: 'h', 'content-length': '2' }, body: Buffer.from('{"a":1}') })
    expect(toRequest(declaredSmall, eventBody(declaredSmall), signal()).headers.get('content-length')).toBe('7')
    const none = eventV1({ headers: { host: 'h' } })
    expect(toRequest(none, eventBody(none), signal()).headers.get('content-length')).toBe('0')
    const get = event({ method: 'GET', headers: { host: 'h' } })
    expect(toRequest(get, null, signal()).headers.get('content-length')).toBeNull()
  })
})

describe('responses as one result', () => {
  const withCookies = (body: BodyInit | null, type: string | null) => {
    const headers = new Headers(type ? { 'content-type': type } : {})
    headers.append('set-cookie', 'a=1; Path=/')
    headers.append('set-cookie', 'b=2; Path=/')
    return new Response(body, { status: 201, headers })
  }

  it('gives a 2.0 event its cookies in `cookies` and a text body as text', async () => {
    expect(await bufferedResult(withCookies('{"ok":true}', 'application/json'), event({}))).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json' },
      cookies: ['a=1; Path=/', 'b=2; Path=/'],
      body: '{"ok":true}',
      isBase64Encoded: false,
    })
  })

  it('gives a 1.0 event its cookies as multi-value Set-Cookie headers, and bytes as base64', async () => {
    const bytes = Buffer.from([0, 255, 1])
    expect(await bufferedResult(withCookies(bytes, 'application/octet-stream'), eventV1({}))).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/octet-stream' },
      multiValueHeaders: { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] },
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    })
  })
})

describe('the handlers', () => {
  /** An app that answers what it was told: the request line, its body and the bindings. */
  const echo: FetchApp & { seen: HttpBindings[] } = {
    seen: [],
    async fetch(incoming: Request, bindings: HttpBindings) {
      echo.seen.push(bindings)
      const url = new URL(incoming.url)
      return Response.json({ method: incoming.method, path: url.pathname + url.search, body: await incoming.text() })
    },
  }

  it.each([
    ['2.0', eventOf],
    ['1.0', eventOfV1],
  ])(
    'serve a payload %s event, streaming and as one result, telling the app the caller and the deadline',
    async (_v, of) => {
      for (const handler of [streamingHandler(echo), bufferedHandler(echo)]) {
        echo.seen.length = 0
        let head: unknown
        const chunks: Buffer[] = []
        const lambdaEvent = of({
          method: 'POST',
          path: '/echo',
          query: 'x=1',
          headers: { host: 'h', 'content-type': 'application/json' },
          body: Buffer.from('{"a":1}'),
          remoteAddress: '198.51.100.4',
        })
        await invoke(handler, lambdaEvent, 10_000, {
          onHead: (status: number) => (head = status),
          onChunk: (bytes: Buffer) => chunks.push(bytes),
        })

        expect(head).toBe(200)
        expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({
          method: 'POST',
          path: '/echo?x=1',
          body: '{"a":1}',
        })
        expect(echo.seen[0]).toMatchObject({ clientAddress: '198.51.100.4', platformRequestId: expect.any(String) })
        expect(echo.seen[0]?.deadline).toBeGreaterThan(Date.now())
      }
    },
  )
})

describe('responses on the response stream', () => {
  it('sends status and headers as metadata, each Set-Cookie as its own cookie, then the body as it comes', async () => {
    const encoder = new TextEncoder()
    let pull = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pull += 1
        if (pull <= 3) controller.enqueue(encoder.encode(`part${pull};`))
        else controller.close()
      },
    })
    const headers = new Headers({ 'content-type': 'text/event-stream' })
    headers.append('set-cookie', 'a=1; Path=/')
    headers.append('set-cookie', 'b=2; Path=/')
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      await streamResponse(new Response(body, { status: 201, headers }), responseStream)
    })
    const seen: { head?: unknown; chunks: string[] } = { chunks: [] }
    await invoke(handler, event({}), 5_000, {
      onHead: (status: number, head: Record<string, string>, cookies: string[]) =>
        (seen.head = { status, head, cookies }),
      onChunk: (bytes: Buffer) => seen.chunks.push(bytes.toString()),
    })
    expect(seen.head).toEqual({
      status: 201,
      head: { 'content-type': 'text/event-stream' },
      cookies: ['a=1; Path=/', 'b=2; Path=/'],
    })
    expect(seen.chunks).toEqual(['part1;', 'part2;', 'part3;'])
  })
})

describe('bundle integrity', () => {
  it('spots a package bundled as both CommonJS and ES module', async () => {
    const { dualFlavourModules } = await import('../../scripts/build-functions.ts')
    const inputs = [
      'functions/graphql.ts',
      'node_modules/graphql/index.mjs',
      'node_modules/graphql/language/parser.mjs',
      'node_modules/graphql/language/parser.js',
      'node_modules/other/lib/only.js',
    ]
    expect(dualFlavourModules(inputs)).toEqual(['node_modules/graphql/language/parser.js'])
    expect(dualFlavourModules(inputs.filter((path) => !path.endsWith('parser.js')))).toEqual([])
  })
})
