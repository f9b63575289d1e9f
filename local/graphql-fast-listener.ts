// The GraphQL fast path below the HTTP app: node:http's request listener answers the common GraphQL request (a POST of
// JSON to /graphql that the server's fast path takes, schema/fast-path.ts) from the IncomingMessage and ServerResponse
// themselves, with no fetch Request or Response and no pass through Hono, doing what the app's middleware does for it
// through the same functions (the request id and its scope, CORS, the declared length). Anything it does not take goes
// to the app untouched; a request it reads and then declines goes with its body and what the fast path decided.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { declaredLengthFault } from '../http/body-limit.ts'
import type { CrossOriginRequest, GraphQLCors, HeaderFields } from '../http/cors.ts'
import type { HostDeclined } from '../http/env.ts'
import { requestIdFor } from '../http/request-scope.ts'
import type { Logger } from '../runtime/logging.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'
import type { FastPath } from '../schema/fast-path.ts'
import { GRAPHQL_PATH } from '../service/public-paths.ts'

/** What the listener tells the app of a request it hands on, beyond the request itself. */
export interface Handed {
  /** The id it gave the request, so what it logged and what the app answers carry the same one. */
  readonly requestId: string
  /** Absent: handed on before its body was read. */
  readonly declined?: HostDeclined
}

/** The app's own listener (@hono/node-server's), told what this one handed on with the request. */
export type AppListener = (request: IncomingMessage, response: ServerResponse, handed?: Handed) => void

export interface GraphQLFastListenerOptions {
  readonly fastPath: FastPath
  /** The app's GraphQL CORS (http/cors.ts `graphqlCors`, with the app's own options). */
  readonly cors: GraphQLCors
  /** The app's limit on a GraphQL body (HttpAppOptions.maxGraphQLBodyBytes). */
  readonly maxBodyBytes: number
  readonly logger: Logger
}

/**
 * A Host that @hono/node-server makes a URL of as it is (its own test): one it would parse or refuse goes to the app,
 * so only the app judges an unusual one.
 */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/

/**
 * The listener: answers what the fast path takes, hands the rest to `app`. Only a request the app would take to
 * GraphQL's route as it is: exactly `POST /graphql`, a plain Host, a declared length within the limit (anything else
 * the app refuses itself, 411 or 413), and headers the fast path takes (JSON in, an Accept it answers).
 */
export function graphqlFastListener(options: GraphQLFastListenerOptions) {
  const { fastPath, cors, maxBodyBytes, logger } = options
  return (request: IncomingMessage, response: ServerResponse, app: AppListener): void => {
    const headers = request.headers
    const host = headers.host
    const mediaType =
      request.method === 'POST' &&
      request.url === GRAPHQL_PATH &&
      host !== undefined &&
      PLAIN_HOST.test(host) &&
      declaredLengthFault(headers['content-length'], maxBodyBytes) === null
        ? fastPath.mediaType(headers['content-type'] ?? null, headers.accept ?? null)
        : null
    if (mediaType === null || host === undefined) return app(request, response)
    const given = headers['x-request-id']
    const requestId = requestIdFor(typeof given === 'string' ? given : null, undefined)
    void runInRequestScope({ requestId }, () =>
      answer(request, response, app, { fastPath, cors, mediaType, requestId, host }).catch((error: unknown) => {
        // The fast path answers its own failures (masked, as yoga does); this is a defect: logged, never shown.
        logger.error('GraphQL fast path failed', { error, requestId })
        response.destroy()
      }),
    )
  }
}

interface Taken {
  readonly fastPath: FastPath
  readonly cors: GraphQLCors
  readonly mediaType: string
  readonly requestId: string
  readonly host: string
}

async function answer(request: IncomingMessage, response: ServerResponse, app: AppListener, taken: Taken) {
  const body = await readBody(request)
  // The client went away before its body was whole: there is no one to answer.
  if (body === null) return void response.destroy()
  const origin = request.headers.origin ?? null
  const crossOrigin = taken.cors.crossOrigin(origin, `http://${taken.host}${GRAPHQL_PATH}`)
  const clientAddress = request.socket.remoteAddress
  // Assigned, not spread (as http/graphql.ts makes it).
  const serverContext: { clientAddress?: string; webOrigin?: CrossOriginRequest['check'] } = {}
  if (clientAddress !== undefined) serverContext.clientAddress = clientAddress
  if (crossOrigin) serverContext.webOrigin = crossOrigin.check
  const outcome = await taken.fastPath.answer(
    {
      mediaType: taken.mediaType,
      body,
      authorization: request.headers.authorization ?? null,
      signals: new ResponseSignal(response),
    },
    serverContext,
  )
  if (!('status' in outcome)) {
    // The app reads the body from here (@hono/node-server's own hand-over for a body read before it).
    ;(request as IncomingMessage & { rawBody?: Buffer }).rawBody = body
    return app(request, response, { requestId: taken.requestId, declined: { declined: outcome, crossOrigin } })
  }
  const fields = outcome.headers
  await taken.cors.decorate(new RecordFields(fields), outcome.status, crossOrigin)
  fields['x-request-id'] = taken.requestId
  fields['content-length'] = String(Buffer.byteLength(outcome.body))
  response.writeHead(outcome.status, fields)
  response.end(outcome.body)
}

/** The whole body, or null when the request ended before it did (the client went away). */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)))
    // After 'end' this settles nothing; before it, the request was cut short.
    request.once('close', () => resolve(null))
    request.once('error', () => resolve(null))
  })
}

/** A request's AbortSignal, made when a resolver asks: it aborts when the client goes away before its answer. */
class ResponseSignal {
  #controller: AbortController | undefined

  constructor(private readonly response: ServerResponse) {}

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal
    const controller = (this.#controller = new AbortController())
    const response = this.response
    if (response.destroyed && !response.writableFinished) controller.abort()
    else
      response.once('close', () => {
        if (!response.writableFinished) controller.abort()
      })
    return controller.signal
  }
}

/** A record of lower-case header names, as CORS reads and adds fields. */
class RecordFields implements HeaderFields {
  constructor(private readonly fields: Record<string, string>) {}
  get(name: string): string | null {
    return this.fields[name] ?? null
  }
  set(name: string, value: string): void {
    this.fields[name] = value
  }
}
