// offline: Lambda events as fetch Requests and fetch Responses on the response stream (cookies, base64, deadlines).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Context } from 'aws-lambda'
import { eventBody, invocationDeadline, streamResponse, toRequest } from '../../functions/lambda-http.ts'
// @ts-expect-error plain JavaScript without types: the stand-in runtime the bundle tests use too
import { eventOf, installAwslambda, invoke } from '../../scripts/lambda-runtime.mjs'

type LambdaEvent = Parameters<typeof toRequest>[0]
const event = (overrides: Record<string, unknown>) =>
  eventOf({
    method: 'POST',
    path: '/graphql',
    query: 'a=1&b=2',
    headers: { host: 'abc.lambda-url.eu-west-1.on.aws' },
    ...overrides,
  }) as LambdaEvent

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
      new AbortController().signal,
    )
    expect(request.url).toBe('https://abc.lambda-url.eu-west-1.on.aws/graphql?a=1&b=2')
    expect(request.method).toBe('POST')
    expect(request.headers.get('x-request-id')).toBe('r1')
  })

  it('gives the cookies Function URLs move into event.cookies back to the request', () => {
    const lambdaEvent = event({ headers: { host: 'h', cookie: 'a=1; b=2' } })
    expect(lambdaEvent.cookies).toEqual(['a=1', 'b=2'])
    expect(toRequest(lambdaEvent, null, new AbortController().signal).headers.get('cookie')).toBe('a=1; b=2')
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
    expect(await toRequest(json, eventBody(json), new AbortController().signal).text()).toBe('{"query":"{ a }"}')
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
