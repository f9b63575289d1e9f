// graphql-ws (`graphql-transport-ws`) through API Gateway's WebSocket API, the connection side: `$connect`, each
// message of `$default`, `$disconnect`, one Lambda invocation each, with the connection's state in the table
// (service/ws-sessions.ts) and messages posted through the management API (a ConnectionSender). The same rules as
// locally (schema/graphql-ws.ts): `connection_init` authenticates through the same authenticator and failure limits
// and the same origin check; every operation runs through `executeForCaller` (trusted documents, query limits, rate
// limits, masking); 20 operations per connection; a duplicate id, a second `connection_init`, a subscribe before the
// acknowledgement and a malformed or oversize message close the connection. API Gateway cannot send a close code: a
// close is DeleteConnection, and the code and reason a local client would see are logged instead.
//
// A subscription is answered here once, with the current state, and stored; the poller (service/ws-poller.ts) sends
// what follows. It does not start the in-process watcher: it runs through `executeForCaller` with stand-ins for the
// live streams (service/subscription-snapshot.ts), so the resolvers check access exactly as for any subscription, and
// the stand-ins record what it watches. The first answer is posted BEFORE the subscription is stored, so nothing the
// poller sends can overtake it; what changed between that answer's read and the store is read again just after.
import { randomUUID } from 'node:crypto'
import type { ExecutionResult } from 'graphql'
import { CloseCode, validateMessage, type SubscribePayload } from 'graphql-ws'
import { isAsyncIterable } from 'graphql-yoga'
import { OriginNotAllowedError, UnauthorizedError } from '../domain/errors.ts'
import type { ConnectionSender } from '../service/connection-sender.ts'
import { scopeOf, type Authenticator, type Principal } from '../service/principal.ts'
import type { SubscriptionSnapshots, SubscriptionTarget } from '../service/subscription-snapshot.ts'
import {
  acceptConnection,
  type ConnectAnswer,
  type ConnectRequest,
  type WebSocketSessions,
  type WsConnection,
} from '../service/ws-sessions.ts'
import type { GraphQLServices } from './context.ts'
import { formatError, formatResult } from './formatted-result.ts'
import { authorizationOf, clientMessage, closeFor, tooManyOperations, WS_CLOSE } from './graphql-ws.ts'
import type { WebOriginCheck } from './request-guard.ts'
import { executeForCaller, type CallerOperation } from './caller-operations.ts'
import type { GraphQLServer } from './server.ts'
import type { Logger } from '../runtime/logging.ts'

export interface ApiGatewayWsLimits {
  /**
   * Operations one connection may run at once (its stored subscriptions); one more is refused with an `error`
   * message (BAD_REQUEST), and the connection goes on.
   * @default 20
   */
  readonly maxOperationsPerConnection: number
  /**
   * Largest message a client may send, in bytes, as locally; a larger one closes the connection (1009 locally).
   * API Gateway itself cuts frames over 32 KB and messages over 128 KB before they get here.
   * @default 65_536
   */
  readonly maxMessageBytes: number
  /**
   * API Gateway ends every connection this long after it opened: no subscription is stored past it.
   * @default 7_200_000 (2 hours)
   */
  readonly connectionLifetimeMs: number
  /**
   * Longest a subscription runs before it completes (the same setting as over SSE, SUBSCRIPTION_MAX_SECONDS).
   * @default 900_000 (15 minutes)
   */
  readonly subscriptionMaxMs: number
}

export const API_GATEWAY_WS_DEFAULTS: ApiGatewayWsLimits = {
  maxOperationsPerConnection: 20,
  maxMessageBytes: 65_536,
  connectionLifetimeMs: 2 * 3_600_000,
  subscriptionMaxMs: 900_000,
}

/** What `$default` tells the protocol about one message. */
export interface MessageRequest {
  readonly connectionId: string
  /** The message's text; null for a binary message. */
  readonly body: string | null
  /** `requestContext.identity.sourceIp`. */
  readonly clientAddress: string
}

export interface ApiGatewayWsDeps {
  /** The GraphQL server the operations run on (made by createGraphQLServer). */
  readonly graphql: GraphQLServer
  /** The services that server runs with: each subscribe replaces the live streams in a copy of them. */
  readonly services: GraphQLServices
  readonly authenticator: Authenticator
  readonly sessions: WebSocketSessions
  readonly snapshots: SubscriptionSnapshots
  readonly sender: ConnectionSender
  /** The check a page's origin gets once the caller's tenant is known (http/cors.ts's `checkFor`). */
  readonly webOrigin: (origin: string) => WebOriginCheck
  readonly logger: Logger
  /** @default Date.now */
  readonly now?: () => number
}

/** The code and reason of a close; API Gateway cannot send them, so they are logged. */
interface Close {
  readonly code: number
  readonly reason: string
}

const CLOSE = {
  badMessage: { code: CloseCode.BadRequest, reason: 'Invalid message received' },
  tooBig: { code: 1009, reason: 'Message too big' },
  unauthorized: { code: CloseCode.Unauthorized, reason: 'Unauthorized' },
  tooManyInits: { code: CloseCode.TooManyInitialisationRequests, reason: 'Too many initialisation requests' },
  noCredentials: {
    code: WS_CLOSE.UNAUTHORIZED,
    reason: 'Unauthorized: send the credentials in connection_init, as {"authorization": "Bearer ..."}',
  },
  lapsed: { code: WS_CLOSE.FORBIDDEN, reason: 'Forbidden: the credentials of this connection are no longer valid' },
  gone: { code: 4404, reason: 'Unknown connection' },
  internal: { code: WS_CLOSE.INTERNAL, reason: 'Internal server error' },
} as const satisfies Record<string, Close>

type ClientMessage =
  | { readonly type: 'connection_init'; readonly payload?: Record<string, unknown> | null }
  | { readonly type: 'ping' | 'pong'; readonly payload?: Record<string, unknown> | null }
  | { readonly type: 'subscribe'; readonly id: string; readonly payload: SubscribePayload }
  | { readonly type: 'complete'; readonly id: string }

/** The message as the protocol takes it; null when it is not one a client may send. */
function parseClientMessage(body: string): ClientMessage | null {
  const normalized = clientMessage(body)
  if (normalized === null) return null
  try {
    return validateMessage(JSON.parse(normalized)) as ClientMessage
  } catch {
    return null
  }
}

/** The stored text of the document an operation runs: a registered one's (by `documentId` or APQ hash), or its own. */
async function documentTextOf(
  params: CallerOperation['params'],
  principal: Principal,
  services: GraphQLServices,
): Promise<string | null> {
  const { documentId } = params
  const persisted = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery
  const id = typeof documentId === 'string' ? documentId : persisted?.sha256Hash
  if (typeof id === 'string') return services.trustedDocuments.find(principal.tenantId, id)
  return typeof params.query === 'string' && params.query !== '' ? params.query : null
}

const result = (id: string, result: ExecutionResult) => ({ id, type: 'next', payload: formatResult(result) })
const completed = (id: string) => ({ id, type: 'complete' })
const errored = (id: string, errors: readonly unknown[]) => ({ id, type: 'error', payload: errors.map(formatError) })

/** graphql-ws over API Gateway's WebSocket API: one instance per Lambda container, one call per route event. */
export class ApiGatewayWebSocket {
  readonly #limits: ApiGatewayWsLimits
  readonly #now: () => number

  constructor(
    private readonly deps: ApiGatewayWsDeps,
    limits: Partial<ApiGatewayWsLimits> = {},
  ) {
    this.#limits = { ...API_GATEWAY_WS_DEFAULTS, ...limits }
    this.#now = deps.now ?? Date.now
  }

  /** `$connect` (see acceptConnection). */
  connect(request: ConnectRequest): Promise<ConnectAnswer> {
    return acceptConnection(this.deps.sessions, request)
  }

  /** `$disconnect`: the connection and its subscriptions are forgotten. */
  async disconnect(connectionId: string): Promise<void> {
    await this.deps.sessions.close(connectionId)
  }

  /** `$default`: one client message. Never throws for anything a client sends: it answers or closes. */
  async message(request: MessageRequest): Promise<void> {
    const { connectionId } = request
    try {
      await this.#message(request)
    } catch (error) {
      const errorId = randomUUID()
      this.deps.logger.error('graphql-ws message failed', { errorId, error, connectionId })
      await this.#close(connectionId, CLOSE.internal)
    }
  }

  async #message({ connectionId, body, clientAddress }: MessageRequest): Promise<void> {
    if (body === null) return this.#close(connectionId, CLOSE.badMessage)
    if (Buffer.byteLength(body, 'utf8') > this.#limits.maxMessageBytes) return this.#close(connectionId, CLOSE.tooBig)
    const message = parseClientMessage(body)
    if (!message) return this.#close(connectionId, CLOSE.badMessage)
    const connection = await this.deps.sessions.find(connectionId)
    // Not a connection of ours (never stored, or closed meanwhile): nothing to answer for.
    if (!connection) return this.#close(connectionId, CLOSE.gone)
    switch (message.type) {
      case 'connection_init':
        return this.#init(connection, message.payload ?? undefined, clientAddress)
      case 'ping':
        await this.#post(connectionId, message.payload ? { type: 'pong', payload: message.payload } : { type: 'pong' })
        return
      case 'pong':
        return
      case 'complete':
        await this.deps.sessions.complete(connectionId, message.id)
        return
      case 'subscribe':
        return this.#subscribe(connection, message.id, message.payload)
    }
  }

  async #init(connection: WsConnection, payload: Record<string, unknown> | undefined, clientAddress: string) {
    const { connectionId } = connection
    if (connection.principal) return this.#close(connectionId, CLOSE.tooManyInits)
    const authorization = authorizationOf(payload)
    if (authorization === null) return this.#close(connectionId, CLOSE.noCredentials)
    try {
      const principal = await this.deps.authenticator.authenticate(authorization, {
        source: connection.clientAddress || clientAddress,
      })
      // A page on another tenant's origin may not use this tenant's credentials.
      if (connection.origin !== null && !(await this.deps.webOrigin(connection.origin).allows(principal.tenantId))) {
        throw new OriginNotAllowedError(connection.origin)
      }
      const acknowledged = await this.deps.sessions.acknowledge(connectionId, principal)
      if (acknowledged === 'lapsed') throw new UnauthorizedError('The API client is disabled')
      if (acknowledged === 'taken') return this.#close(connectionId, CLOSE.tooManyInits)
      await this.#post(connectionId, { type: 'connection_ack' })
    } catch (error) {
      const close = closeFor(error)
      if (!close) throw error
      await this.#close(connectionId, close)
    }
  }

  async #subscribe(connection: WsConnection, id: string, payload: SubscribePayload): Promise<void> {
    const { connectionId } = connection
    const caller = await this.#callerOf(connection)
    if (!caller) return
    const { principal } = caller
    if (await this.deps.sessions.hasOperation(connectionId, id)) {
      return this.#close(connectionId, {
        code: CloseCode.SubscriberAlreadyExists,
        reason: `Subscriber for ${id} already exists`,
      })
    }
    const max = this.#limits.maxOperationsPerConnection
    const slot = await this.deps.sessions.reserve(connectionId, max)
    if (slot === 'gone') return
    if (slot === 'full') {
      await this.#post(connectionId, errored(id, tooManyOperations(max) ?? []))
      return
    }
    let stored = false
    try {
      stored = await this.#start(connection, principal, id, payload)
    } finally {
      if (!stored) await this.deps.sessions.release(connectionId)
    }
  }

  /** Runs one operation of the connection in its reserved slot; true when it became a stored subscription. */
  async #start(
    connection: WsConnection,
    principal: Principal,
    id: string,
    payload: SubscribePayload,
  ): Promise<boolean> {
    const { connectionId } = connection
    const { query, operationName, ...rest } = payload as SubscribePayload & { documentId?: unknown }
    const params = {
      ...rest,
      ...(query ? { query } : {}),
      ...(typeof operationName === 'string' ? { operationName } : {}),
    } as CallerOperation['params']
    const deadline = Math.min(
      this.#now() + this.#limits.subscriptionMaxMs,
      Date.parse(connection.connectedAt) + this.#limits.connectionLifetimeMs,
    )
    const first = await this.#run(principal, params, clientAddressOf(connection), deadline)
    if (!first.stream) {
      // A query or mutation (`next` + `complete`), or an operation that never ran (`error`).
      const single = first.results[0]
      if (single && !('data' in single) && single.errors?.length) {
        await this.#post(connectionId, errored(id, single.errors))
      } else if (single && (await this.#post(connectionId, result(id, single))) === 'sent') {
        await this.#post(connectionId, completed(id))
      }
      return false
    }
    for (const item of first.results) if ((await this.#post(connectionId, result(id, item))) === 'gone') return false
    const target = first.target
    // Nothing to follow: a consent already final, a backlog longer than one answer sends (the client resumes from its
    // last cursor), a stream ended by its credential, or one that is not ours to store.
    const lastItem = first.results.at(-1)
    const ended =
      !target ||
      (target.field === 'consentUpdated' && target.terminal) ||
      (target.field === 'consentEvents' && !target.caughtUp) ||
      (lastItem !== undefined && !('data' in lastItem))
    if (ended) {
      await this.#post(connectionId, completed(id))
      return false
    }
    const text = await documentTextOf(params, principal, this.deps.services)
    if (text === null) throw new Error('the document of a subscription that ran is not found again')
    const stored = await this.deps.sessions.subscribe(connectionId, id, principal, {
      query: text,
      variables: payload.variables ?? null,
      operationName: typeof operationName === 'string' ? operationName : null,
      field: target.field,
      consentId: target.field === 'consentUpdated' ? target.consent.id : null,
      cursor: target.field === 'consentEvents' ? target.cursor : null,
      lastVersion: target.field === 'consentUpdated' ? target.consent.version : null,
      deadline,
    })
    // Its client went ($disconnect) after the first answer: nothing to follow, nobody to tell.
    if (stored === 'gone') return false
    if (stored === 'duplicate') {
      // The same id subscribed twice at once, in two invocations: as locally, the connection closes.
      await this.#close(connectionId, {
        code: CloseCode.SubscriberAlreadyExists,
        reason: `Subscriber for ${id} already exists`,
      })
      return false
    }
    try {
      await this.#catchUp(connectionId, id, principal, params, clientAddressOf(connection), deadline, target)
    } catch (error) {
      // Stored: the poller sends what follows, from what the subscription says it sent.
      this.deps.logger.warn('graphql-ws catch-up after subscribe failed', { error, connectionId })
    }
    return true
  }

  /**
   * What changed between the first answer's read and the store, which the poller may have read before it could find
   * the subscription: sent now, claimed like the poller claims it (a version, a cursor), so exactly one of the two
   * sends it.
   */
  async #catchUp(
    connectionId: string,
    id: string,
    principal: Principal,
    params: CallerOperation['params'],
    clientAddress: string | undefined,
    deadline: number,
    target: SubscriptionTarget,
  ): Promise<void> {
    if (target.field === 'consentUpdated') {
      const fresher = await this.deps.snapshots.newerThan(target.consent)
      if (!fresher) return
      const again = await this.#run(principal, params, clientAddress, deadline, { fresher })
      const item = again.results[0]
      if (!item || again.target?.field !== 'consentUpdated') return
      if (!(await this.deps.sessions.claimVersion(connectionId, id, again.target.consent.version))) return
      if ((await this.#post(connectionId, result(id, item))) === 'gone') return
      if (again.target.terminal) await this.#end(connectionId, id)
      return
    }
    if (!(await this.deps.snapshots.feedHasEventsAfter(scopeOf(principal), target.cursor))) return
    const again = await this.#run(principal, params, clientAddress, deadline, { after: target.cursor })
    const next = again.target
    if (next?.field !== 'consentEvents' || next.cursor === null || next.cursor === target.cursor) return
    if (!(await this.deps.sessions.claimCursor(connectionId, id, target.cursor, next.cursor))) return
    for (const item of again.results) if ((await this.#post(connectionId, result(id, item))) === 'gone') return
    if (!next.caughtUp) await this.#end(connectionId, id)
  }

  /** Completes a stored subscription from this side. */
  async #end(connectionId: string, id: string): Promise<void> {
    if (await this.deps.sessions.complete(connectionId, id)) await this.#post(connectionId, completed(id))
  }

  /** Runs the operation once against the current state; a subscription's stream is read to its end. */
  async #run(
    principal: Principal,
    params: CallerOperation['params'],
    clientAddress: string | undefined,
    deadline: number,
    options: Parameters<SubscriptionSnapshots['snapshot']>[0] = {},
  ): Promise<{ stream: boolean; results: ExecutionResult[]; target: SubscriptionTarget | null }> {
    const snapshot = this.deps.snapshots.snapshot(options)
    const services: GraphQLServices = {
      ...this.deps.services,
      watcher: snapshot.watcher,
      events: snapshot.events,
      subscriptionDeadline: () => deadline,
    }
    const outcome = await executeForCaller(this.deps.graphql, {
      principal,
      params,
      signal: new AbortController().signal,
      clientAddress,
      services,
    })
    if (!isAsyncIterable(outcome)) return { stream: false, results: [outcome], target: null }
    const results: ExecutionResult[] = []
    for await (const item of outcome) results.push(item)
    return { stream: true, results, target: snapshot.target }
  }

  /** The acknowledged caller, its credential checked again when due; null (the connection closed) otherwise. */
  async #callerOf(connection: WsConnection): Promise<{ principal: Principal } | null> {
    try {
      const caller = await this.deps.sessions.callerOf(connection)
      if (caller.kind === 'acknowledged') return caller
      await this.#close(connection.connectionId, caller.kind === 'lapsed' ? CLOSE.lapsed : CLOSE.unauthorized)
      return null
    } catch (error) {
      const close = closeFor(error)
      if (!close) throw error
      await this.#close(connection.connectionId, close)
      return null
    }
  }

  async #post(connectionId: string, message: object): Promise<'sent' | 'gone'> {
    const sent = await this.deps.sender.post(connectionId, message)
    if (sent === 'gone') await this.deps.sessions.close(connectionId)
    return sent
  }

  /**
   * Ends the connection: API Gateway cannot send our close code, so the code and reason a local client would get are
   * logged; the connection's items go at once ($disconnect follows, at best effort).
   */
  async #close(connectionId: string, close: Close): Promise<void> {
    this.deps.logger.info('graphql-ws connection closed', { connectionId, code: close.code, reason: close.reason })
    await this.deps.sender.close(connectionId)
    await this.deps.sessions.close(connectionId)
  }
}

function clientAddressOf(connection: WsConnection): string | undefined {
  return connection.clientAddress || undefined
}
