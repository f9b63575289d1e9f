// Minimal HTTP plumbing for sandboxes: a node:http server on 127.0.0.1, body reading with a limit, responses, a router.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Bodies past this size are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024

/** The request body was larger than the limit; the sandbox answers 413 in its provider's error shape. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError'
  constructor(readonly limitBytes: number) {
    super(`request body is larger than ${limitBytes} bytes`)
  }
}

/** The request body was not valid JSON; the sandbox answers 400 in its provider's error shape. */
export class MalformedJsonError extends Error {
  override readonly name = 'MalformedJsonError'
  constructor(options: { cause: unknown }) {
    super('request body is not valid JSON', options)
  }
}

export interface SandboxRequest {
  readonly method: string
  readonly url: URL
  readonly headers: IncomingHttpHeaders
  /** Path parameters matched by the route pattern, URI-decoded. */
  readonly params: Readonly<Record<string, string>>
  readonly raw: IncomingMessage
}

export type RouteHandler = (request: SandboxRequest, response: ServerResponse) => Promise<void> | void
export type ErrorHandler = (error: unknown, request: SandboxRequest, response: ServerResponse) => void

export interface RunningServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly port: number
  /** Stops listening and closes every connection, idle keep-alive sockets included. */
  close(): Promise<void>
}

/** Where a sandbox listens, and the host its URLs (bank pages, links) name. */
export interface ListenOptions {
  /** @default 0 (a free port) */
  port?: number
  /** The address to listen on; `0.0.0.0` lets other machines of the network in. @default '127.0.0.1' */
  host?: string
  /** The host its URLs name, for browsers elsewhere to reach it. @default the listening host */
  publicHost?: string
}

/** Listens on 127.0.0.1 unless told otherwise (`port` 0 picks a free port). */
export async function startHttpServer(
  listener: (raw: IncomingMessage, response: ServerResponse) => void,
  options: ListenOptions = {},
): Promise<RunningServer> {
  const server = createServer(listener)
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const publicHost = options.publicHost ?? host
  return {
    url: `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}

/**
 * Reads the whole body as UTF-8. Past `limitBytes` it keeps draining (so the client can read the answer) but throws
 * {@link BodyTooLargeError} at the end.
 */
export async function readBody(raw: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size <= limitBytes) chunks.push(chunk)
  }
  if (size > limitBytes) throw new BodyTooLargeError(limitBytes)
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads and parses a JSON body; an empty body parses as `undefined`. */
export async function readJsonBody(raw: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readBody(raw, limitBytes)
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    throw new MalformedJsonError({ cause })
  }
}

/** Reads an `application/x-www-form-urlencoded` body, as a browser form post sends it. */
export async function readFormBody(raw: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(raw, limitBytes))
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  response.end(text)
}

export function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  })
  response.end(html)
}

/** 303 See Other: after a form post the browser follows with a GET. */
export function sendRedirect(response: ServerResponse, location: string, status = 303): void {
  response.writeHead(status, { location, 'content-length': 0, 'cache-control': 'no-store' })
  response.end()
}

/**
 * Matches a path against a pattern such as `/link/:webId`; returns the decoded params, or null when it does not
 * match (a malformed escape in a param does not match either).
 */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const expected = pattern.split('/')
  const actual = path.split('/')
  if (expected.length !== actual.length) return null
  const params: Record<string, string> = {}
  for (const [index, part] of expected.entries()) {
    const segment = actual[index] ?? ''
    if (part.startsWith(':')) {
      if (segment === '') return null
      try {
        params[part.slice(1)] = decodeURIComponent(segment)
      } catch {
        return null
      }
    } else if (part !== segment) {
      return null
    }
  }
  return params
}

interface Route {
  method: string
  pattern: string
  handler: RouteHandler
}

export interface RouterOptions {
  /** Answers requests no route matches (wrong method included). */
  notFound: RouteHandler
  /** Answers when a handler throws; the server never crashes on a bad request. */
  onError: ErrorHandler
}

/** Method + path pattern routing, first match wins. */
export class Router {
  readonly #routes: Route[] = []
  readonly #options: RouterOptions

  constructor(options: RouterOptions) {
    this.#options = options
  }

  on(method: string, pattern: string, handler: RouteHandler): this {
    this.#routes.push({ method: method.toUpperCase(), pattern, handler })
    return this
  }

  /** The `node:http` request listener. */
  readonly listener = (raw: IncomingMessage, response: ServerResponse): void => {
    void this.#dispatch(raw, response)
  }

  async #dispatch(raw: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = requestUrl(raw.url)
    const method = (raw.method ?? 'GET').toUpperCase()
    let request: SandboxRequest = { method, url, headers: raw.headers, params: {}, raw }
    try {
      for (const route of this.#routes) {
        if (route.method !== method) continue
        const params = matchPath(route.pattern, url.pathname)
        if (params === null) continue
        request = { ...request, params }
        await route.handler(request, response)
        return
      }
      await this.#options.notFound(request, response)
    } catch (error) {
      if (response.headersSent) {
        response.destroy()
        return
      }
      try {
        this.#options.onError(error, request, response)
      } catch {
        response.destroy()
      }
    }
  }
}

/** Parses the request target as a path on this server, never letting `//host/...` switch hosts. */
function requestUrl(target: string | undefined): URL {
  const base = 'http://127.0.0.1'
  try {
    return target?.startsWith('/') ? new URL(base + target) : new URL(target ?? '/', base)
  } catch {
    return new URL('/', base)
  }
}
