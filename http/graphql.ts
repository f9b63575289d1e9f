// /graphql: the GraphQL server (schema/server.ts, yoga) answers every method itself (GET, POST; anything else 405 as
// GraphQL over HTTP asks), after the app's CORS and body limits; the common request (a POST of a prepared query or
// mutation) first goes to the server's fast path (schema/fast-path.ts), which answers it or hands it to yoga. Yoga's
// answer is re-made as the platform's own Response: yoga's ponyfill body is a stream that @hono/node-server can only
// read chunk by chunk (it waits a timer tick for a second chunk), where a string body is written at once; a stream
// (SSE, Apollo's multipart subscriptions) is read inside the request's scope, so what a subscription logs or answers
// mid-stream still carries its request id, and is handed on part by part (the Lambda adapter streams it the same way).
// A GET's answer (a registered query, by its documentId) is private to its caller.
import { AsyncResource } from 'node:async_hooks'
import type { FastPath } from '../schema/fast-path.ts'
import type { WebOriginCheck } from '../schema/request-guard.ts'
import type { GraphQLServer } from '../schema/server.ts'
import type { HttpContext } from './env.ts'

/** Statuses whose answer has no body (a Response refuses even an empty one). */
const NO_BODY = new Set([101, 204, 205, 304])

export interface GraphQLRouteOptions {
  /**
   * The server's fast path (schema/fast-path.ts `fastPathOf`), which answers the common request (a POST of a prepared
   * query or mutation) past yoga's pipeline; everything else goes to yoga either way. Handed in by the host rather than
   * looked up here, so an app without GraphQL (functions/public-api.ts) loads no schema/ code.
   * @default null (yoga answers every request)
   */
  readonly fastPath?: FastPath | null
}

export function graphqlRoute(graphql: GraphQLServer, options: GraphQLRouteOptions = {}) {
  const fastPath = options.fastPath ?? null
  return async (c: HttpContext): Promise<Response> => {
    const clientAddress = c.env?.clientAddress
    const webOrigin = c.get('webOrigin')
    // Assigned, not spread: an object literal of spreads costs a microsecond or more on V8 (measured).
    const serverContext: { clientAddress?: string; webOrigin?: WebOriginCheck } = {}
    if (clientAddress !== undefined) serverContext.clientAddress = clientAddress
    if (webOrigin !== undefined) serverContext.webOrigin = webOrigin
    let request = c.req.raw
    if (fastPath) {
      // Its answer is made as the platform's Response from a string already: nothing to re-make.
      const outcome = await fastPath(request, serverContext)
      if ('answer' in outcome) return outcome.answer
      request = outcome.request
    }
    const answer = await graphql.fetch(request, serverContext)
    if (c.req.method === 'GET') privately(answer.headers)
    const init = { status: answer.status, headers: answer.headers }
    if (NO_BODY.has(answer.status)) return new Response(null, init)
    if (isStream(answer.headers.get('content-type')) && answer.body) {
      return new Response(inThisScope(answer.body), init)
    }
    return new Response(await answer.text(), init)
  }
}

/** Answers written as they are produced: SSE and multipart (Apollo's subscriptions, yoga's incremental delivery). */
const isStream = (contentType: string | null): boolean =>
  !!contentType && (contentType.startsWith('text/event-stream') || contentType.startsWith('multipart/mixed'))

/**
 * A GET answer is a function of its URL and its credentials: caches may keep it for this caller only (a browser's,
 * never a shared one), and must key it by Authorization. POST answers are not cached by HTTP caches anyway.
 */
function privately(headers: Headers): void {
  if (!headers.has('cache-control')) headers.set('cache-control', 'private')
  const vary = headers.get('vary')
  if (!vary?.toLowerCase().includes('authorization'))
    headers.set('vary', vary ? `${vary}, Authorization` : 'Authorization')
}

/** `body`, each chunk pulled inside the scope this is called in (the request's), whoever reads it and when. */
function inThisScope(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  const pull = AsyncResource.bind(async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    const { done, value } = await reader.read()
    if (done) controller.close()
    else controller.enqueue(value)
  })
  return new ReadableStream<Uint8Array>({ pull, cancel: (reason) => reader.cancel(reason) })
}
