// The token and key endpoints (http/oauth.ts) on the node:http server, until the one HTTP app serves every route:
// each request adapted to a fetch Request (the socket's address kept for the failure limits) and the answer written
// back.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { createJwksHandler, createTokenHandler, JWKS_PATH, TOKEN_PATH, type FetchHandler } from '../http/oauth.ts'
import type { Gateway } from '../service/gateway.ts'
import type { ExtraRoutes } from './http-server.ts'

/** `/oauth/token` and `/.well-known/jwks.json` for the gateway's clients and keys. */
export function oauthRoutes(gateway: Gateway): ExtraRoutes {
  const handlers = new Map<string, FetchHandler>([
    [TOKEN_PATH, createTokenHandler({ clients: gateway.apiClients, tokens: gateway.tokens, logger: gateway.logger })],
    [JWKS_PATH, createJwksHandler(gateway.tokens)],
  ])
  return async (request, response) => {
    const handler = handlers.get((request.url ?? '/').split('?')[0] ?? '/')
    if (!handler) return false
    const answer = await handler(toRequest(request), { clientAddress: request.socket.remoteAddress ?? null })
    await writeResponse(answer, response)
    return true
  }
}

/** Routes tried in order until one answers. */
export const firstOf =
  (...routes: ExtraRoutes[]): ExtraRoutes =>
  async (request, response) => {
    for (const route of routes) if (await route(request, response)) return true
    return false
  }

function toRequest(request: IncomingMessage): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value)
  }
  const method = request.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  return new Request(new URL(request.url ?? '/', 'http://gateway.local'), {
    method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(request) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  })
}

async function writeResponse(answer: Response, response: ServerResponse): Promise<void> {
  const body = Buffer.from(await answer.arrayBuffer())
  const headers: Record<string, string> = {}
  answer.headers.forEach((value, name) => (headers[name] = value))
  response.writeHead(answer.status, { ...headers, 'content-length': String(body.length) })
  response.end(body)
}
