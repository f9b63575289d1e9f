// The common GraphQL request answered without yoga's request pipeline: a POST of JSON that names, by its text, a
// document of one query or mutation that has already run through yoga (so yoga's own plugins parsed it, validated it and
// held it to the query limits, and measured its cost) and that graphql-jit has compiled. Such a request meets the same
// authentication, rate limit and trusted-operation rule, runs the same compiled function with the same context, and its
// answer is masked, decorated and shaped by the same functions yoga's plugins use. Anything else goes to yoga: another
// method, media type or parameter, a document not yet prepared, and any request the rules stop (no or a bad
// credential, over the rate limit, an end user's token). What the fast path already decided goes along (a `Handover`),
// so a credential is checked and a request counted once.
import { randomUUID } from 'node:crypto'
import type { ExecutionResult, GraphQLError } from 'graphql'
import { processRegularResult } from 'graphql-yoga'
import type { Authenticator, Principal } from '../service/principal.ts'
import type { RateLimitDecision } from '../service/rate-limiter.ts'
import { currentRequestId } from '../runtime/request-scope.ts'
import type { CompiledQueries } from './compiled-queries.ts'
import type { GraphQLContext, GraphQLServices } from './context.ts'
import { withCost } from './cost.ts'
import { decorateResult } from './error-masking.ts'
import { rateLimitFields } from './rate-limit.ts'
import { authenticateRequest, type Handover, type TransportContext } from './request-guard.ts'

/** The media type yoga's regular result processor would answer `accept` with; null when it would not answer it. */
export function regularMediaType(accept: string | null): string | null {
  // yoga's order (plugins/result-processor/accept.js): the header's types last first, utf-8 only, and the last match
  // wins; the regular processor comes last of the three, so it answers whenever one of its types matches.
  const asked = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')
  const types: string[] = []
  for (const entry of asked) {
    const [type, ...parameters] = entry.split(';')
    if (type === undefined) continue
    const charset = parameters.find((parameter) => parameter.includes('charset=')) ?? 'charset=utf-8'
    if (charset === 'charset=utf-8') types.push(type)
  }
  let chosen: string | null = null
  for (const type of types.reverse()) {
    const [askedMain, askedSub] = type.split('/')
    for (const offered of REGULAR_MEDIA_TYPES) {
      const [main, sub] = offered.split('/')
      if ((askedMain === '*' || askedMain === main) && (askedSub === '*' || askedSub === sub)) chosen = offered
    }
  }
  return chosen
}

const REGULAR_MEDIA_TYPES = ['application/graphql-response+json', 'application/json'] as const

/** yoga's own test for a JSON body (plugins/request-parser/utils.js): the first listed type, parameters aside. */
function isJson(contentType: string | null): boolean {
  const first = contentType?.split(',')[0]
  return first === 'application/json' || !!first?.startsWith('application/json;')
}

/**
 * `Accept` values remembered with their media type: clients send a handful of them, and working one out costs a few
 * microseconds (about 6 for a two-type value, measured).
 * @default 64
 */
export const ACCEPT_VALUES_MAX = 64
const mediaTypes = new Map<string | null, string | null>()

function mediaTypeOf(accept: string | null): string | null {
  const known = mediaTypes.get(accept)
  if (known !== undefined) return known
  const mediaType = regularMediaType(accept)
  // A client that sends ever-new values starts the list again rather than growing it.
  if (mediaTypes.size >= ACCEPT_VALUES_MAX) mediaTypes.clear()
  mediaTypes.set(accept, mediaType)
  return mediaType
}

interface Params {
  readonly query: string
  readonly variables?: Record<string, unknown> | null
  readonly operationName?: string | null
}

const PARAMETERS = new Set(['query', 'variables', 'operationName'])

/** The body's GraphQL parameters when they are the plain case (query text, variables, operation name), else null. */
function plainParams(text: string): Params | null {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  const { query, variables, operationName } = body as Record<string, unknown>
  for (const key of Object.keys(body)) if (!PARAMETERS.has(key)) return null
  if (typeof query !== 'string') return null
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    return null
  }
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null
  return body as Params
}

/** Either the fast path's answer, or the request to hand to yoga (re-made when the body was read). */
export type FastPathOutcome = { readonly answer: Response } | { readonly request: Request }

export type FastPath = (request: Request, serverContext: TransportContext) => Promise<FastPathOutcome>

export interface FastPathParts {
  readonly authenticator: Authenticator
  readonly services: GraphQLServices
  /** The documents it may answer (CompiledQueries.prepared). */
  readonly compiled: CompiledQueries
  readonly handovers: WeakMap<Request, Handover>
  /** The masking function yoga is given (its `maskedErrors`), applied as yoga applies it to an execution's errors. */
  readonly mask: (error: unknown, message: string) => Error
  readonly errorMessage: string
}

const decoder = new TextDecoder()

export function createFastPath(parts: FastPathParts): FastPath {
  const { compiled, handovers, services, mask, errorMessage } = parts
  return async (request, serverContext) => {
    if (request.method !== 'POST' || !isJson(request.headers.get('content-type'))) return { request }
    const mediaType = mediaTypeOf(request.headers.get('accept'))
    if (mediaType === null) return { request }
    let bytes: ArrayBuffer
    try {
      bytes = await request.arrayBuffer()
    } catch {
      // The body could not be read (the client went away mid-way): yoga meets the same and answers as it does.
      return { request }
    }
    const params = plainParams(decoder.decode(bytes))
    const document = params && compiled.prepared(params.query)
    if (!params || !document) return handOver(request, bytes, handovers)
    if (params.operationName != null && params.operationName !== document.operationName)
      return handOver(request, bytes, handovers)

    let principal: Principal
    try {
      principal = await authenticateRequest(parts.authenticator, request, serverContext)
    } catch (error) {
      return handOver(request, bytes, handovers, { failed: error })
    }
    const counted = Promise.resolve(services.rateLimits?.take(principal.tenantId) ?? null)
    let decision: RateLimitDecision | null
    try {
      decision = await counted
    } catch {
      return handOver(request, bytes, handovers, { principal, counted })
    }
    // Refusals (over the limit; an end user's token, which may send registered documents only) are yoga's to answer.
    if ((decision && !decision.allowed) || principal.kind !== 'API_CLIENT')
      return handOver(request, bytes, handovers, { principal, counted })

    const context = new FastPathContext(
      serverContext,
      request,
      params,
      principal,
      currentRequestId() ?? randomUUID(),
      services,
    )
    let result: ExecutionResult
    try {
      const executed = await document.compiled.run(undefined, context, params.variables)
      // What useMaskedErrors does once execution is done, and the compiled document's own serialiser, as yoga keeps it.
      result = Object.assign(
        executed.errors == null ? executed : { ...executed, errors: executed.errors.map((e) => mask(e, errorMessage)) },
        { stringify: document.compiled.stringify },
      ) as ExecutionResult
    } catch (error) {
      result = { errors: [mask(error, errorMessage) as GraphQLError] }
    }
    // yoga's result processing, in its plugins' order: the cost (cost.ts), the errors' extensions (error-masking.ts),
    // then its regular processor for status, media type and body.
    const answered = decorateResult(withCost(result, document.cost))
    const shaped = processRegularResult(answered, SHAPE as never, mediaType) as unknown as Shaped
    return {
      answer: new Response(shaped.body, {
        status: shaped.init.status,
        // Object.assign rather than spreads: the same copy, at a tenth of the cost on V8 (measured).
        headers: decision ? Object.assign({}, shaped.init.headers, rateLimitFields(decision)) : shaped.init.headers,
      }),
    }
  }
}

/**
 * The context a fast-path request runs with: what yoga's would hold for it. A class rather than an object literal: a
 * literal that spreads the transport's context and defines a getter costs microseconds each time on V8 (measured).
 */
class FastPathContext implements GraphQLContext, TransportContext {
  declare readonly clientAddress?: string
  declare readonly webOrigin?: TransportContext['webOrigin']

  constructor(
    serverContext: TransportContext,
    readonly request: Request,
    readonly params: Params,
    readonly principal: Principal,
    readonly requestId: string,
    readonly services: GraphQLServices,
  ) {
    // Only the fields the transport gave, as yoga's context has them.
    const own = this as { -readonly [K in 'clientAddress' | 'webOrigin']?: TransportContext[K] }
    if (serverContext.clientAddress !== undefined) own.clientAddress = serverContext.clientAddress
    if (serverContext.webOrigin !== undefined) own.webOrigin = serverContext.webOrigin
  }

  /** Made when a resolver asks: an AbortSignal costs a few microseconds, and most requests never pass theirs on. */
  get signal(): AbortSignal {
    return this.request.signal
  }
}

/** yoga's regular processor's answer, taken apart (SHAPE), so the RateLimit fields join its headers before it is made. */
interface Shaped {
  readonly body: string
  readonly init: { readonly status: number; readonly headers: Record<string, string> }
}

/** A stand-in for the fetch API's Response that keeps what yoga's processor gives it. */
const SHAPE = {
  Response: function (body: string, init: Shaped['init']): Shaped {
    return { body, init }
  },
}

/** The request handed to yoga: made again of the bytes already read, with what the fast path decided. */
function handOver(
  request: Request,
  bytes: ArrayBuffer,
  handovers: WeakMap<Request, Handover>,
  handover?: Handover,
): { request: Request } {
  const again = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: bytes,
    signal: request.signal,
  })
  if (handover) handovers.set(again, handover)
  return { request: again }
}

const FAST_PATHS = new WeakMap<object, FastPath>()

/** Called by createGraphQLServer for each server it makes, so the HTTP route finds the server's fast path. */
export function rememberFastPath(server: object, fastPath: FastPath): void {
  FAST_PATHS.set(server, fastPath)
}

/** The fast path of a server made by createGraphQLServer; null for any other. */
export const fastPathOf = (server: object): FastPath | null => FAST_PATHS.get(server) ?? null
