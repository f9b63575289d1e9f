// HTTP over Lambda: Function URL / HTTP API (payload 2.0) events as fetch Requests, and fetch Responses written to a
// response stream as they are produced (SSE arrives event by event), cookies in and out included.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'

/** The largest body a request may carry (Lambda's own limit is 6 MB); larger ones get 413 before GraphQL runs. */
export const MAX_BODY_BYTES = 65_536

/** Decodes the event body exactly as the client sent it (signatures are checked over these bytes). */
export function eventBody(event: APIGatewayProxyEventV2): Buffer | null {
  if (event.body === undefined || event.body === null) return null
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
}

/** Header names in lower case; Lambda joins repeated headers with commas already. */
export function eventHeaders(event: APIGatewayProxyEventV2): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value
  return headers
}

/** The request the event describes: URL from `rawPath` + `rawQueryString`, cookies from `event.cookies`. */
export function toRequest(event: APIGatewayProxyEventV2, body: Buffer | null, signal: AbortSignal): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(eventHeaders(event))) if (value !== undefined) headers.set(name, value)
  // Function URLs move cookies out of the headers into their own list.
  if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '))
  const host = event.requestContext.domainName || headers.get('host') || 'lambda.local'
  const query = event.rawQueryString ? `?${event.rawQueryString}` : ''
  const method = event.requestContext.http.method
  return new Request(`https://${host}${event.rawPath}${query}`, {
    method,
    headers,
    ...(body && method !== 'GET' && method !== 'HEAD' ? { body: new Uint8Array(body) } : {}),
    signal,
  })
}

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

/** Writes `response` to the Lambda response stream, chunk by chunk as the body produces them. */
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

/** A plain (non-streaming) result for HTTP API routes. */
export function plainResult(
  statusCode: number,
  headers: Readonly<Record<string, string>>,
  body: string,
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...headers }, body }
}
