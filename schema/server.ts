// The GraphQL server (graphql-yoga): authentication before execution, query limits (graphql-armor), one error
// masking point, request ids, and SSE subscriptions. Transport-free: node:http and Lambda adapt to `yoga.fetch`
// (and echo the request id in `x-request-id` themselves).
import { randomUUID } from 'node:crypto'
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor'
import { GraphQLError } from 'graphql'
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga'
import { ERROR_CATALOGUE, isConsentGatewayError, UnauthorizedError, type ErrorCode } from '../domain/errors.ts'
import type { Logger } from '../providers/adapter.ts'
import type { ApiClientAuthenticator, Principal } from '../service/authentication.ts'
import { currentRequestId } from '../service/logging.ts'
import type { GraphQLContext, GraphQLServices } from './context.ts'
import { schema } from './index.ts'

export interface GraphQLServerOptions {
  readonly services: GraphQLServices
  readonly authenticator: ApiClientAuthenticator
  readonly logger: Logger
  /**
   * Serve GraphiQL on GET /graphql. Local mode pre-fills it with these request headers (the demo credentials).
   * @default false
   */
  readonly graphiql?: false | { readonly defaultHeaders?: Record<string, string> }
  /**
   * Largest request body accepted, in bytes.
   * @default 65_536
   */
  readonly maxBodyBytes?: number
  /** @default '/graphql' */
  readonly endpoint?: string
}

export type GraphQLServer = YogaServerInstance<Record<string, never>, GraphQLContext>

/** Armor limits: generous for real clients (the deepest useful query is about 8 levels), cheap to reject abuse. */
const ARMOR = {
  maxDepth: { n: 12, ignoreIntrospection: true },
  maxAliases: { n: 15 },
  maxDirectives: { n: 20 },
  maxTokens: { n: 2_000 },
  costLimit: { maxCost: 5_000, ignoreIntrospection: true },
  blockFieldSuggestion: { enabled: true },
} as const

const errorId = () => randomUUID()

/** A GraphQL-over-HTTP error response, for requests stopped before execution (401, 413). */
function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body = { errors: [{ message, extensions: { code, requestId: currentRequestId(), errorId: errorId() } }] }
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/graphql-response+json; charset=utf-8', ...headers },
  })
}

const isGraphiQLPageRequest = (request: Request) =>
  request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')

/** Authenticates every GraphQL request before parsing; 401 (and nothing executed) without valid credentials. */
function useApiClientAuthentication(
  authenticator: ApiClientAuthenticator,
  principals: WeakMap<Request, Principal>,
): Plugin {
  return {
    async onRequest(payload) {
      const { request } = payload
      if (request.method === 'OPTIONS' || isGraphiQLPageRequest(request)) return
      try {
        principals.set(request, await authenticator.authenticate(request.headers.get('authorization')))
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error
        payload.endResponse(
          errorResponse(401, 'UNAUTHORIZED', error.message, {
            'www-authenticate': 'Basic realm="consent-gateway", charset="UTF-8"',
          }),
        )
      }
    },
  }
}

/** Refuses bodies over the limit from their declared length (node:http also counts streamed bytes). */
function useBodyLimit(maxBodyBytes: number): Plugin {
  return {
    onRequest(payload) {
      const declared = Number(payload.request.headers.get('content-length') ?? 0)
      if (declared > maxBodyBytes) {
        payload.endResponse(errorResponse(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBodyBytes} bytes`))
      }
    },
  }
}

/**
 * The one masking point: every error leaving the server carries `extensions.code`, `requestId` and `errorId`.
 * Domain errors keep their message and code; GraphQL's own (syntax, validation, limits) keep their message;
 * anything else is logged with its errorId and shown as INTERNAL_SERVER_ERROR.
 */
export function maskError(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const requestId = currentRequestId()
    const id = errorId()
    const graphQLError = error instanceof GraphQLError ? error : null
    const location = graphQLError
      ? {
          nodes: graphQLError.nodes,
          source: graphQLError.source,
          positions: graphQLError.positions,
          path: graphQLError.path,
        }
      : {}

    // Resolvers' errors can arrive wrapped in more than one GraphQLError: find what was thrown.
    let original: unknown = error
    while (original instanceof GraphQLError && original.originalError) original = original.originalError
    if (isConsentGatewayError(original)) {
      return new GraphQLError(original.message, {
        ...location,
        originalError: original,
        extensions: { code: original.code, retryable: original.retryable, requestId, errorId: id },
      })
    }
    // graphql-js and yoga's own errors (syntax, validation, armor limits, bad requests) have no original error.
    if (graphQLError && !graphQLError.originalError) {
      const code =
        graphQLError.extensions.code ??
        (/^Syntax Error/.test(graphQLError.message) ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED')
      return new GraphQLError(graphQLError.message, {
        ...location,
        extensions: { ...graphQLError.extensions, code, requestId, errorId: id },
      })
    }
    logger.error('unexpected error', { errorId: id, error: original instanceof Error ? original : String(original) })
    return new GraphQLError(message, {
      ...location,
      extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode, requestId, errorId: id },
    })
  }
}

export function createGraphQLServer(options: GraphQLServerOptions): GraphQLServer {
  const principals = new WeakMap<Request, Principal>()
  const graphiql = options.graphiql
  return createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: options.endpoint ?? '/graphql',
    landingPage: false,
    graphiql: graphiql
      ? {
          title: 'consent-gateway',
          ...(graphiql.defaultHeaders ? { headers: JSON.stringify(graphiql.defaultHeaders, null, 2) } : {}),
          shouldPersistHeaders: false,
        }
      : false,
    logging: false,
    maskedErrors: { maskError: maskError(options.logger), errorMessage: 'Unexpected error.' },
    plugins: [
      useBodyLimit(options.maxBodyBytes ?? 65_536),
      useApiClientAuthentication(options.authenticator, principals),
      EnvelopArmorPlugin(ARMOR),
    ],
    context: ({ request }) => ({
      principal: principals.get(request) ?? null,
      requestId: currentRequestId() ?? randomUUID(),
      signal: request.signal,
      services: options.services,
    }),
  })
}

/** The HTTP status a domain error code maps to, for transports that answer outside GraphQL. */
export const httpStatusOf = (code: ErrorCode): number => ERROR_CATALOGUE[code].httpStatus
