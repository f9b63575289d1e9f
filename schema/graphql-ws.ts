// GraphQL over WebSocket (the graphql-ws protocol, `graphql-transport-ws`), over the same GraphQL server as HTTP: the
// caller authenticates once, with the `connection_init` payload (`authorization`, `Authorization` or
// `headers.Authorization`: Basic, a partner's bearer token or an end user's token), through the same authenticator and
// failure limits; each operation (subscriptions, and queries and mutations too) then runs through `executeForCaller`,
// past the same trusted-document rules, query limits and error masking as a POST. The connection lives no longer than
// its credential: it is checked again whenever its trust runs out, and the socket closes when it no longer holds.
// Transport-free: the host (local/graphql-ws-server.ts) hands over sockets and their messages.
import { randomUUID } from 'node:crypto'
import { GraphQLError, parse, type ExecutionArgs, type ExecutionResult } from 'graphql'
import { CloseCode, makeServer, type Context, type Server } from 'graphql-ws'
import { isAsyncIterable } from 'graphql-yoga'
import {
  InvalidTokenError,
  isConsentGatewayError,
  OriginNotAllowedError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  type ErrorCode,
} from '../domain/errors.ts'
import { watchCredential } from '../service/credential-lapse.ts'
import type { Authenticator, Principal } from '../service/principal.ts'
import { formatError, formatResult } from './formatted-result.ts'
import { schema } from './index.ts'
import type { WebOriginCheck } from './request-guard.ts'
import { executeForCaller, type CallerOperation } from './caller-operations.ts'
import { decorateResult } from './error-masking.ts'
import type { GraphQLServer } from './server.ts'
import type { Logger } from '../runtime/logging.ts'

/**
 * The close codes a client may see beyond the protocol's own (4400 bad message, 4406 subprotocol, 4408 no
 * `connection_init` in time, 4409 duplicate operation id, 4429 a second `connection_init`) and WebSocket's (1009 a
 * message over the size limit, 1001 the server going away). docs/errors.md lists them.
 */
export const WS_CLOSE = {
  /** No credential in `connection_init`. Fatal for graphql-ws clients: they do not retry. */
  UNAUTHORIZED: CloseCode.Unauthorized,
  /**
   * A credential that does not hold (a wrong secret, a bad or expired token, a disabled client), a page's origin the
   * tenant did not register, or a credential that lapsed while connected. graphql-ws clients retry: with a fresh token
   * from their `connectionParams` function, that succeeds.
   */
  FORBIDDEN: CloseCode.Forbidden,
  /** Too many failed attempts from the address or for the client: the reason says when to try again. */
  RATE_LIMITED: 4429,
  /** The credential could not be checked (the store unavailable): retry later. */
  SERVICE_UNAVAILABLE: 4503,
  /** Anything unexpected (logged with an errorId, never shown). */
  INTERNAL: CloseCode.InternalServerError,
} as const

export interface GraphQLWsLimits {
  /**
   * Operations one connection may run at once; one more is refused with an `error` message (BAD_REQUEST), and the
   * connection goes on.
   * @default 20
   */
  readonly maxOperationsPerConnection: number
  /**
   * How long a new connection may take to send `connection_init` before it is closed (4408).
   * @default 3_000
   */
  readonly connectionInitTimeoutMs: number
}

export const GRAPHQL_WS_DEFAULTS: GraphQLWsLimits = {
  maxOperationsPerConnection: 20,
  connectionInitTimeoutMs: 3_000,
}

/** What the host tells the protocol about one connection. */
export interface ConnectionInfo {
  readonly connectionId: string
  /** The socket's address (the failure limits count by it). */
  readonly clientAddress?: string | undefined
  /** A page's connection (a cross-origin `Origin`): checked against the caller's tenant once authenticated. */
  readonly webOrigin: WebOriginCheck | null
  /** Closes the socket (the protocol's own `close` is for its own codes). */
  close(code: number, reason: string): void
}

/** A connection's state, beside graphql-ws's own context. */
interface ConnectionState extends ConnectionInfo {
  principal?: Principal
  stopWatching?: () => void
  readonly operations: Map<string, AbortController>
}

type WsContext = Context<Record<string, unknown> | undefined, ConnectionState>

/** What `onSubscribe` prepared: the result the operation already has (executeForCaller ran it). */
interface Prepared {
  readonly result: ExecutionResult | AsyncIterable<ExecutionResult>
}

/** graphql-ws executes a document itself; ours ran in `executeForCaller`, and this stands in for it. */
const PREPARED_DOCUMENT = parse('{ __typename }')

/** A close reason fits in 123 bytes. */
const reason = (text: string): string => {
  const bytes = Buffer.from(text, 'utf8')
  return bytes.length <= 123
    ? text
    : `${bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD$/, '')}...`
}

/**
 * The credential a `connection_init` payload carries: `authorization` as graphql-ws clients are usually set up,
 * `Authorization`, or `headers.Authorization` (Apollo Kotlin, urql, GraphiQL's headers).
 */
export function authorizationOf(payload: Record<string, unknown> | undefined): string | null {
  if (!payload) return null
  for (const value of [payload.authorization, payload.Authorization]) if (typeof value === 'string') return value
  const headers = payload.headers
  if (headers && typeof headers === 'object') {
    const { Authorization, authorization } = headers as Record<string, unknown>
    for (const value of [Authorization, authorization]) if (typeof value === 'string') return value
  }
  return null
}

/** The close code and reason for an authentication that failed. */
export function closeFor(error: unknown): { code: number; reason: string } | null {
  if (error instanceof OriginNotAllowedError)
    return { code: WS_CLOSE.FORBIDDEN, reason: reason(`Forbidden: ${error.message}`) }
  if (error instanceof UnauthorizedError || error instanceof InvalidTokenError)
    return { code: WS_CLOSE.FORBIDDEN, reason: reason(`Forbidden: ${error.message}`) }
  if (error instanceof RateLimitedError)
    return { code: WS_CLOSE.RATE_LIMITED, reason: reason(`Rate limited: retry in ${error.retryAfterSeconds} s`) }
  if (error instanceof ServiceUnavailableError)
    return {
      code: WS_CLOSE.SERVICE_UNAVAILABLE,
      reason: reason(`Service unavailable: retry in ${error.retryAfterSeconds} s`),
    }
  if (isConsentGatewayError(error)) return { code: WS_CLOSE.FORBIDDEN, reason: reason(`Forbidden: ${error.message}`) }
  return null
}

/** The answer to one operation more than a connection may run: an `error` message; the connection goes on. */
export const tooManyOperations = (max: number) =>
  decorateResult({
    errors: [
      new GraphQLError(
        `This connection already runs ${max} operations, the most one connection may: complete one first.`,
        { extensions: { code: 'BAD_REQUEST' satisfies ErrorCode } },
      ),
    ],
  }).errors

/** Messages only a server sends: a client that sends one breaks the protocol. */
const SERVER_MESSAGES = new Set(['connection_ack', 'next', 'error'])

/**
 * A client message as the protocol takes it. A subscribe for a registered document may come without `query` (Apollo
 * Kotlin's and others' persisted queries; the protocol wants a string): it gets an empty one, which the server reads as
 * "by its id". A message no client may send is refused here (null), as a bad message; anything else that does not
 * parse is left to the protocol, which refuses it (4400).
 */
export function clientMessage(data: string): string | null {
  let message: unknown
  try {
    message = JSON.parse(data)
  } catch {
    return data
  }
  if (!message || typeof message !== 'object') return data
  const { type, payload } = message as { type?: unknown; payload?: unknown }
  if (typeof type === 'string' && SERVER_MESSAGES.has(type)) return null
  if (type === 'subscribe' && payload && typeof payload === 'object' && !Array.isArray(payload)) {
    const query = (payload as { query?: unknown }).query
    if (query === undefined || query === null) return JSON.stringify({ ...message, payload: { ...payload, query: '' } })
  }
  return data
}

export interface GraphQLWsDeps {
  readonly graphql: GraphQLServer
  readonly authenticator: Authenticator
  readonly logger: Logger
}

/** The graphql-ws server over `deps.graphql`: the host calls `opened(socket, connectionInfo)` for each connection. */
export function graphqlWsServer(deps: GraphQLWsDeps, limits: Partial<GraphQLWsLimits> = {}): Server<ConnectionInfo> {
  const { maxOperationsPerConnection, connectionInitTimeoutMs } = { ...GRAPHQL_WS_DEFAULTS, ...limits }
  const { graphql, authenticator, logger } = deps
  const state = (ctx: WsContext): ConnectionState => ctx.extra

  const fail = (ctx: WsContext, error: unknown): false => {
    const close = closeFor(error)
    if (close) {
      state(ctx).close(close.code, close.reason)
    } else {
      const errorId = randomUUID()
      logger.error('graphql-ws connection failed', { errorId, error, connectionId: state(ctx).connectionId })
      state(ctx).close(WS_CLOSE.INTERNAL, 'Internal server error')
    }
    return false
  }

  const server = makeServer<Record<string, unknown> | undefined, ConnectionState>({
    schema,
    connectionInitWaitTimeout: connectionInitTimeoutMs,
    async onConnect(ctx) {
      const connection = state(ctx)
      const authorization = authorizationOf(ctx.connectionParams)
      if (authorization === null) {
        connection.close(
          WS_CLOSE.UNAUTHORIZED,
          'Unauthorized: send the credentials in connection_init, as {"authorization": "Bearer ..."}',
        )
        return false
      }
      try {
        const principal = await authenticator.authenticate(authorization, { source: connection.clientAddress })
        // A page on another tenant's origin may not use this tenant's credentials.
        if (connection.webOrigin && !(await connection.webOrigin.allows(principal.tenantId))) {
          throw new OriginNotAllowedError(connection.webOrigin.origin)
        }
        connection.principal = principal
        connection.stopWatching = watchCredential(
          () => principal.revalidate(),
          (error) => {
            const close = error instanceof UnauthorizedError ? null : closeFor(error)
            if (close) connection.close(close.code, close.reason)
            else
              connection.close(WS_CLOSE.FORBIDDEN, 'Forbidden: the credentials of this connection are no longer valid')
          },
        )
        return true
      } catch (error) {
        return fail(ctx, error)
      }
    },
    async onSubscribe(ctx, id, payload) {
      const connection = state(ctx)
      const principal = connection.principal
      // graphql-ws closes on a subscribe before the acknowledgement itself (4401); this is belt and braces.
      if (!principal) {
        const error = new GraphQLError('Send connection_init with credentials first.', {
          extensions: { code: 'UNAUTHORIZED' satisfies ErrorCode },
        })
        return decorateResult({ errors: [error] }).errors
      }
      if (connection.operations.size >= maxOperationsPerConnection) return tooManyOperations(maxOperationsPerConnection)
      const abort = new AbortController()
      connection.operations.set(id, abort)
      const { query, operationName, ...rest } = payload as typeof payload & { documentId?: unknown }
      const operation: CallerOperation = {
        principal,
        // The text, or (the protocol requires a string) an empty one for a registered document named by its id.
        params: {
          ...rest,
          ...(query ? { query } : {}),
          ...(typeof operationName === 'string' ? { operationName } : {}),
        } as CallerOperation['params'],
        signal: abort.signal,
        clientAddress: connection.clientAddress,
      }
      const result = await executeForCaller(graphql, operation)
      // The operation never ran (the document refused, invalid, over a limit): the protocol's `error` message.
      if (!isAsyncIterable(result) && !('data' in result) && result.errors?.length) {
        connection.operations.delete(id)
        return [...result.errors]
      }
      const prepared: ExecutionArgs = {
        schema,
        document: PREPARED_DOCUMENT,
        contextValue: { result } satisfies Prepared,
      }
      return prepared
    },
    execute: (args) => (args.contextValue as Prepared).result,
    subscribe: (args) => (args.contextValue as Prepared).result,
    onNext: (_ctx, _id, _payload, _args, result) => formatResult(result),
    onError: (_ctx, _id, _payload, errors) => errors.map(formatError),
    onComplete(ctx, id) {
      const connection = state(ctx)
      connection.operations.get(id)?.abort()
      connection.operations.delete(id)
    },
    onClose(ctx) {
      const connection = state(ctx)
      connection.stopWatching?.()
      for (const abort of connection.operations.values()) abort.abort()
      connection.operations.clear()
    },
  })

  return {
    opened: (socket, info: ConnectionInfo) =>
      server.opened(socket, { ...info, operations: new Map<string, AbortController>() } satisfies ConnectionState),
  }
}
