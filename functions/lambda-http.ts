// HTTP over Lambda, for the one app (http/app.ts): API Gateway and Function URL events as fetch Requests (payload 2.0
// from Function URLs and HTTP APIs, payload 1.0 from REST APIs), and the app's Responses back, either written to a
// response stream as they are produced (Function URLs and REST APIs in streaming mode: SSE leaves event by event, with
// back-pressure) or returned as one result (HTTP APIs, which cannot stream). Cookies in and out included.
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda'
import type { HttpBindings } from '../http/env.ts'
import { withLambdaContext } from '../runtime/logging.ts'

/** A Function URL or HTTP API event (payload 2.0), or a REST API one (payload 1.0). */
export type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent

/** What the adapter serves: the app's `fetch`. */
export interface FetchApp {
  fetch(request: Request, bindings: HttpBindings): Response | Promise<Response>
}

export const isPayloadV1 = (event: HttpEvent): event is APIGatewayProxyEvent => 'httpMethod' in event

/** Decodes the event body exactly as the client sent it (signatures are checked over these bytes). */
export function eventBody(event: HttpEvent): Buffer | null {
  if (event.body === undefined || event.body === null) return null
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
}

/** The request line and headers of a payload 2.0 event: `rawPath` + `rawQueryString`, cookies from `event.cookies`. */
function partsOfV2(event: APIGatewayProxyEventV2): { method: string; target: string; headers: Headers } {
  const headers = new Headers()
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value)
  // Function URLs and HTTP APIs move cookies out of the headers into their own list.
  if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '))
  const query = event.rawQueryString ? `?${event.rawQueryString}` : ''
  return { method: event.requestContext.http.method, target: `${event.rawPath}${query}`, headers }
}

/**
 * The request line and headers of a payload 1.0 event. A REST API gives no raw query string: the parameters are
 * encoded again from their decoded values. Repeated headers and parameters come from the multi-value maps.
 */
function partsOfV1(event: APIGatewayProxyEvent): { method: string; target: string; headers: Headers } {
  const headers = new Headers()
  const multi = event.multiValueHeaders ?? {}
  for (const [name, values] of Object.entries(multi)) {
    if (!values?.length) continue
    headers.set(name, values.join(name.toLowerCase() === 'cookie' ? '; ' : ', '))
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && !headers.has(name)) headers.set(name, value)
  }
  const query = new URLSearchParams()
  const multiQuery = event.multiValueQueryStringParameters
  if (multiQuery) {
    for (const [name, values] of Object.entries(multiQuery)) for (const value of values ?? []) query.append(name, value)
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) query.append(name, value)
    }
  }
  const search = query.size ? `?${query.toString()}` : ''
  return { method: event.httpMethod, target: `${event.path}${search}`, headers }
}

/**
 * The request the event describes. Its `Content-Length` is the body's actual length, whatever the client declared:
 * the platform has the whole body already, and the app bounds bodies by it.
 */
export function toRequest(event: HttpEvent, body: Buffer | null, signal: AbortSignal): Request {
  const { method, target, headers } = isPayloadV1(event) ? partsOfV1(event) : partsOfV2(event)
  const host = event.requestContext.domainName || headers.get('host') || 'lambda.local'
  const withBody = method !== 'GET' && method !== 'HEAD'
  if (withBody) headers.set('content-length', String(body?.length ?? 0))
  return new Request(`https://${host}${target}`, {
    method,
    headers,
    ...(body && withBody ? { body: new Uint8Array(body) } : {}),
    signal,
  })
}

/** The caller's address as API Gateway or the Function URL saw it (never a header's claim). */
export const sourceIpOf = (event: HttpEvent): string =>
  isPayloadV1(event) ? event.requestContext.identity.sourceIp : event.requestContext.http.sourceIp

/**
 * An abort signal that fires `marginMs` before the invocation runs out of time, so streams end cleanly before Lambda
 * cuts them; the returned deadline is when that happens (epoch ms).
 */
export function invocationDeadline(
  context: Context,
  marginMs: number,
): { signal: AbortSignal; deadline: number; clear: () => void } {
  const controller = new AbortController()
  const remaining = Math.max(0, context.getRemainingTimeInMillis() - marginMs)
  const timer = setTimeout(() => controller.abort(new Error('invocation deadline')), remaining)
  return { signal: controller.signal, deadline: Date.now() + remaining, clear: () => clearTimeout(timer) }
}

/** Response headers for Lambda's metadata: `Set-Cookie` goes in `cookies`, one entry per cookie. */
function splitCookies(response: Response): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  return { headers, cookies: response.headers.getSetCookie() }
}

/**
 * Writes `response` to the Lambda response stream, chunk by chunk as the body produces them. The metadata prelude is
 * the same for a Function URL and a REST API in streaming mode.
 */
export async function streamResponse(response: Response, responseStream: awslambda.HttpResponseStream): Promise<void> {
  const { headers, cookies } = splitCookies(response)
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: response.status,
    headers,
    ...(cookies.length ? { cookies } : {}),
  })
  if (response.body) {
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      // Wait for the stream to drain rather than buffer an unbounded SSE backlog in memory.
      if (!stream.write(value)) await new Promise((resolve) => stream.once('drain', resolve))
    }
  }
  await new Promise<void>((resolve) => stream.end(resolve))
}

/** Content types whose bodies go back as text; anything else is base64, so bytes arrive as they were. */
const TEXT = /^(text\/|application\/([\w.+-]+\+)?(json|xml|javascript|x-www-form-urlencoded))/

/** `response` as one result: payload 2.0 for a 2.0 event (cookies in `cookies`), 1.0 for a REST API's. */
export async function bufferedResult(
  response: Response,
  event: HttpEvent,
): Promise<APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult> {
  const bytes = Buffer.from(await response.arrayBuffer())
  const { headers, cookies } = splitCookies(response)
  const text = bytes.length === 0 || TEXT.test(headers['content-type'] ?? '')
  const body = bytes.toString(text ? 'utf8' : 'base64')
  const common = { statusCode: response.status, headers, body, isBase64Encoded: !text }
  if (isPayloadV1(event))
    return { ...common, ...(cookies.length ? { multiValueHeaders: { 'set-cookie': cookies } } : {}) }
  return { ...common, ...(cookies.length ? { cookies } : {}) }
}

export interface HandlerOptions {
  /**
   * Requests end this long before the invocation would be cut (their abort signal fires, subscriptions complete), so
   * the last event and the close reach the client.
   * @default 1_500
   */
  readonly deadlineMarginMs?: number
}

const DEFAULT_DEADLINE_MARGIN_MS = 1_500

/** What the app learns from the platform: the caller's address, the invocation's id and when it ends. */
const bindingsOf = (event: HttpEvent, context: Context, deadline: number): HttpBindings => ({
  clientAddress: sourceIpOf(event),
  platformRequestId: context.awsRequestId,
  deadline,
})

/** Runs `write` on the app's answer to `event`; the deadline's timer is cleared however it ends. */
async function serve<T>(
  app: FetchApp,
  event: HttpEvent,
  context: Context,
  options: HandlerOptions,
  write: (response: Response) => Promise<T>,
): Promise<T> {
  const margin = options.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS
  const { signal, deadline, clear } = invocationDeadline(context, margin)
  try {
    const request = toRequest(event, eventBody(event), signal)
    return await write(await app.fetch(request, bindingsOf(event, context, deadline)))
  } finally {
    clear()
  }
}

/** A streaming handler (`awslambda.streamifyResponse`): for a Function URL or a REST API in streaming mode. */
export function streamingHandler(app: FetchApp, options: HandlerOptions = {}) {
  return awslambda.streamifyResponse((event: HttpEvent, responseStream, context) =>
    withLambdaContext((request: HttpEvent, invocation: Context) =>
      serve(app, request, invocation, options, (response) => streamResponse(response, responseStream)),
    )(event, context),
  )
}

/** A handler returning one result: for an HTTP API (or a REST API without streaming). */
export function bufferedHandler(app: FetchApp, options: HandlerOptions = {}) {
  return withLambdaContext((event: HttpEvent, context: Context) =>
    serve(app, event, context, options, (response) => bufferedResult(response, event)),
  )
}
