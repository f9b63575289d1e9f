// A stand-in for the Lambda Node.js runtime, enough to run the built function bundles on this machine: the
// `awslambda` global (streamifyResponse, HttpResponseStream with the runtime's prelude format) and an HTTP front that
// turns each request into a Function URL / HTTP API (payload 2.0) event, or with `--payload 1.0` a REST API one, as
// AWS would. Plain JavaScript on purpose: the benchmarks time a fresh `node` process importing a bundle, with no
// TypeScript loader in the way.
//
//   node scripts/lambda-runtime.mjs --port 0 --timeout-ms 30000 --route 'POST /graphql=dist/functions/graphql/index.mjs'
//   node scripts/lambda-runtime.mjs --payload 1.0 --route '* /*=dist/functions/graphql/index.mjs'
//   node scripts/lambda-runtime.mjs --once --bundle dist/functions/graphql/index.mjs --request '{"method":"POST",...}'
//   node scripts/lambda-runtime.mjs --event '{"Records":[...]}' --bundle dist/functions/outbox-relay/index.mjs
//     (any other event source: a schedule, a table stream; prints the handler's result as JSON)
//   node scripts/lambda-runtime.mjs --function ws-message=dist/functions/ws-message/index.mjs --function ...
//     (Lambda's Invoke API, `POST /2015-03-31/functions/<name>/invocations` with the event as the body, for a caller
//     that hands functions events of its own making: the WebSocket API's stand-in, test/support/ws-api-gateway.ts)
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const STREAMING = Symbol.for('consent-gateway.lambda-runtime.streaming')
/** The runtime separates the JSON metadata prelude from the body with eight NUL bytes. */
const PRELUDE_END = Buffer.alloc(8)

/** Defines `globalThis.awslambda` the way the Lambda runtime does, before a bundle is imported. */
export function installAwslambda() {
  class HttpResponseStream {
    static from(stream, metadata) {
      stream.writePrelude(metadata)
      return stream
    }
  }
  globalThis.awslambda = {
    streamifyResponse(handler) {
      handler[STREAMING] = true
      return handler
    },
    HttpResponseStream,
  }
}

/** The stream a streaming handler writes to: prelude, then body bytes, passed on as they come. */
class ResponseStream extends Writable {
  #prelude = null
  constructor(onChunk) {
    super()
    this.onChunk = onChunk
  }
  writePrelude(metadata) {
    this.#prelude = metadata
    this.onChunk(Buffer.concat([Buffer.from(JSON.stringify(metadata)), PRELUDE_END]))
  }
  setContentType(type) {
    if (!this.#prelude) this.writePrelude({ statusCode: 200, headers: { 'content-type': type } })
  }
  _write(chunk, _encoding, callback) {
    if (!this.#prelude) this.writePrelude({ statusCode: 200, headers: {} })
    this.onChunk(Buffer.from(chunk))
    callback()
  }
}

const TEXT_TYPES = /^(application\/(json|graphql|graphql-response\+json|x-www-form-urlencoded)|text\/)/

/** A payload 2.0 event for an HTTP request, as a Function URL or HTTP API delivers it. */
export function eventOf({ method, path, query = '', headers = {}, body = null, remoteAddress = '127.0.0.1' }) {
  const lower = {}
  const cookies = []
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const joined = Array.isArray(value) ? value.join(',') : String(value)
    if (name.toLowerCase() === 'cookie') cookies.push(...joined.split(/;\s*/).filter(Boolean))
    else lower[name.toLowerCase()] = joined
  }
  const text = body !== null && TEXT_TYPES.test(lower['content-type'] ?? '')
  const now = new Date()
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    ...(cookies.length ? { cookies } : {}),
    headers: lower,
    queryStringParameters: query ? Object.fromEntries(new URLSearchParams(query)) : undefined,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: lower.host ?? 'lambda.local',
      domainPrefix: 'local',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: remoteAddress, userAgent: lower['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body === null ? {} : { body: text ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !text }),
  }
}

/**
 * A payload 1.0 event for an HTTP request, as a REST API's Lambda proxy integration delivers it: headers as sent
 * (single- and multi-value maps), the query decoded into parameter maps (no raw query string), cookies in the
 * headers, the stage left out of `path`.
 */
export function eventOfV1({ method, path, query = '', headers = {}, body = null, remoteAddress = '127.0.0.1' }) {
  const single = {}
  const multi = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const values = Array.isArray(value) ? value.map(String) : [String(value)]
    single[name] = values.at(-1)
    multi[name] = values
  }
  const params = new URLSearchParams(query)
  const singleQuery = {}
  const multiQuery = {}
  for (const [name, value] of params) {
    singleQuery[name] = value
    ;(multiQuery[name] ??= []).push(value)
  }
  const lower = Object.fromEntries(Object.entries(single).map(([name, value]) => [name.toLowerCase(), value]))
  const text = body !== null && TEXT_TYPES.test(lower['content-type'] ?? '')
  const now = new Date()
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers: single,
    multiValueHeaders: multi,
    queryStringParameters: params.size ? singleQuery : null,
    multiValueQueryStringParameters: params.size ? multiQuery : null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: lower.host ?? 'lambda.local',
      domainPrefix: 'local',
      httpMethod: method,
      identity: { sourceIp: remoteAddress, userAgent: lower['user-agent'] ?? null },
      path: `/stage${path}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: now.getTime(),
      resourcePath: '/{proxy+}',
      stage: 'stage',
    },
    body: body === null ? null : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body !== null && !text,
  }
}

function contextOf(timeoutMs) {
  const deadline = Date.now() + timeoutMs
  return {
    awsRequestId: randomUUID(),
    functionName: 'local',
    memoryLimitInMB: '1024',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
}

/**
 * Invokes `handler` with `event`; `onHead(statusCode, headers, cookies)` then `onChunk(bytes)` as a streaming handler
 * writes, or once for a buffered one; resolves when the response ended.
 */
export async function invoke(handler, event, timeoutMs, { onHead, onChunk }) {
  const context = contextOf(timeoutMs)
  if (handler[STREAMING]) {
    let buffered = Buffer.alloc(0)
    let headSent = false
    const stream = new ResponseStream((bytes) => {
      if (headSent) return onChunk(bytes)
      buffered = Buffer.concat([buffered, bytes])
      const end = buffered.indexOf(PRELUDE_END)
      if (end < 0) return
      const metadata = JSON.parse(buffered.subarray(0, end).toString('utf8'))
      headSent = true
      onHead(metadata.statusCode ?? 200, metadata.headers ?? {}, metadata.cookies ?? [])
      const rest = buffered.subarray(end + PRELUDE_END.length)
      if (rest.length) onChunk(rest)
    })
    const finished = new Promise((resolve) => stream.on('finish', resolve))
    await handler(event, stream, context)
    await finished
    return
  }
  const result = await handler(event, context)
  const body =
    result?.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8')
  // Payload 1.0 results carry cookies as multi-value Set-Cookie headers.
  const cookies = result?.cookies ?? result?.multiValueHeaders?.['set-cookie'] ?? []
  onHead(result?.statusCode ?? 200, result?.headers ?? {}, cookies)
  onChunk(body)
}

async function load(bundle) {
  return (await import(pathToFileURL(bundle).href)).handler
}

/** `METHOD /path-prefix*=bundle` routes, first match wins (`*` matches the rest of the path). */
function parseRoute(spec) {
  const [selector, bundle] = spec.split('=')
  const [method, pattern] = selector.split(' ')
  const prefix = pattern.endsWith('*') ? pattern.slice(0, -1) : null
  return { method, matches: (path) => (prefix === null ? path === pattern : path.startsWith(prefix)), bundle }
}

async function serve({ port, timeoutMs, routes, payload }) {
  const eventFor = payload === '1.0' ? eventOfV1 : eventOf
  installAwslambda()
  const handlers = await Promise.all(routes.map(async (route) => ({ ...route, handler: await load(route.bundle) })))
  const server = createServer((request, response) => {
    const chunks = []
    request.on('data', (chunk) => chunks.push(chunk))
    request.on('end', () => {
      const [path, query = ''] = (request.url ?? '/').split('?')
      const route = handlers.find((r) => (r.method === '*' || r.method === request.method) && r.matches(path))
      if (!route) return response.writeHead(404).end()
      const body = chunks.length ? Buffer.concat(chunks) : null
      const event = eventFor({
        method: request.method,
        path,
        query,
        headers: request.headers,
        body,
        remoteAddress: request.socket.remoteAddress,
      })
      invoke(route.handler, event, timeoutMs, {
        onHead: (status, headers, cookies) => {
          response.writeHead(status, { ...headers, ...(cookies.length ? { 'set-cookie': cookies } : {}) })
          response.flushHeaders()
        },
        onChunk: (bytes) => response.write(bytes),
      }).then(
        () => response.end(),
        (error) => {
          console.error('lambda-runtime: invocation failed', error)
          if (!response.headersSent) response.writeHead(502)
          response.end()
        },
      )
    })
  })
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  console.log(`lambda-runtime listening on http://127.0.0.1:${server.address().port}`)
  const stop = () => server.close(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

/**
 * Lambda's Invoke API (RequestResponse) for the named functions, each imported once: the body is the event, the answer
 * the handler's result as JSON (an `x-timeout-ms` header, which Lambda has not, gives one invocation its own limit); a handler that throws answers 200 with `X-Amz-Function-Error: Unhandled` and
 * `{errorType, errorMessage}`, as Lambda does.
 */
async function serveInvocations({ port, timeoutMs, functions }) {
  const handlers = new Map()
  for (const spec of functions) {
    const [name, bundle] = spec.split('=')
    handlers.set(name, await load(bundle))
  }
  const server = createServer((request, response) => {
    const chunks = []
    request.on('data', (chunk) => chunks.push(chunk))
    request.on('end', () => {
      const name = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(request.url ?? '')?.[1]
      const handler = name === undefined ? undefined : handlers.get(decodeURIComponent(name))
      if (request.method !== 'POST' || !handler) return response.writeHead(404).end()
      const answer = (status, body, headers = {}) =>
        response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
      Promise.resolve()
        .then(() => {
          // The caller may give one invocation a time limit of its own (a test running a poller for a few seconds).
          const limit = Number(request.headers['x-timeout-ms'] ?? timeoutMs)
          return handler(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'), contextOf(limit))
        })
        .then(
          (result) => answer(200, result ?? null),
          (error) => {
            console.error('lambda-runtime: invocation failed', error)
            answer(
              200,
              { errorType: error?.name ?? 'Error', errorMessage: String(error?.message ?? error) },
              { 'x-amz-function-error': 'Unhandled' },
            )
          },
        )
    })
  })
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  console.log(`lambda-runtime listening on http://127.0.0.1:${server.address().port}`)
  const stop = () => server.close(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

/** The monotonic clock in microseconds: the one a V8 CPU profile's timestamps count on (Linux, macOS). */
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n)
/** The process's CPU time so far (user + system), microseconds. */
const cpuMicros = () => {
  const { user, system } = process.cpuUsage()
  return user + system
}

/**
 * Imports the bundle, answers one request, prints `{status, body, importMs, totalMs}` as JSON, exits. The line also
 * carries when the import began and ended on the CPU profile's clock (`importSpan`, microseconds) and the process's CPU
 * time at the import's start and end and after the answer (`cpuAt`, microseconds), so a profile taken with
 * `node --cpu-prof` can be cut into its phases and each phase weighed by the CPU it really took (bench/cold-profile.ts).
 */
async function once({ bundle, request, timeoutMs }) {
  const started = performance.now()
  const importStarted = monotonicMicros()
  const cpuAt = [cpuMicros()]
  installAwslambda()
  const handler = await load(bundle)
  const importMs = performance.now() - started
  const importSpan = [importStarted, monotonicMicros()]
  cpuAt.push(cpuMicros())
  let status = 0
  const body = []
  await invoke(
    handler,
    eventOf({ ...request, body: request.body === undefined ? null : Buffer.from(request.body) }),
    timeoutMs,
    {
      onHead: (code) => (status = code),
      onChunk: (bytes) => body.push(bytes),
    },
  )
  console.log(
    JSON.stringify({
      status,
      body: Buffer.concat(body).toString('utf8'),
      importMs,
      totalMs: performance.now() - started,
      importSpan,
      cpuAt: [...cpuAt, cpuMicros()],
    }),
  )
  process.exit(0)
}

/** Imports the bundle, invokes it once with `event` (a schedule's, a stream's...), prints its result as JSON, exits. */
async function invokeWithEvent({ bundle, event, timeoutMs }) {
  const handler = await load(bundle)
  const result = await handler(event, contextOf(timeoutMs))
  console.log(JSON.stringify({ result: result ?? null }))
  process.exit(0)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'timeout-ms': { type: 'string', default: '30000' },
      route: { type: 'string', multiple: true, default: [] },
      once: { type: 'boolean', default: false },
      bundle: { type: 'string' },
      request: { type: 'string' },
      event: { type: 'string' },
      payload: { type: 'string', default: '2.0' },
      function: { type: 'string', multiple: true, default: [] },
    },
  })
  const timeoutMs = Number(values['timeout-ms'])
  if (values.event !== undefined)
    await invokeWithEvent({ bundle: values.bundle, event: JSON.parse(values.event), timeoutMs })
  else if (values.function.length)
    await serveInvocations({ port: Number(values.port), timeoutMs, functions: values.function })
  else if (values.once) await once({ bundle: values.bundle, request: JSON.parse(values.request ?? '{}'), timeoutMs })
  else {
    await serve({ port: Number(values.port), timeoutMs, routes: values.route.map(parseRoute), payload: values.payload })
  }
}
