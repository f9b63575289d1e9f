// graphql-ws connections through API Gateway as the protocol sees them between invocations: a connection opened, its
// caller acknowledged (stored as a description, never a secret), its credential checked again once its trust runs
// out, its subscriptions stored with what they watch, and everything of it gone when it closes. The state is the
// table's (store/ws-repository.ts and its item modules); the protocol itself is schema/ws-connections.ts, the poller
// service/ws-poller.ts.
import { handleProtocols } from 'graphql-ws'
import type { WsConnection } from '../store/ws-connection-item.ts'
import type { WebSocketRepository } from '../store/ws-repository.ts'
import type { WsSubscription } from '../store/ws-subscription-item.ts'
import type { Principal, PrincipalStorage } from './principal.ts'

export type { WsConnection } from '../store/ws-connection-item.ts'
export type { WsSubscription } from '../store/ws-subscription-item.ts'

/** A connection's caller as a message finds it. */
export type SessionCaller =
  | { readonly kind: 'unacknowledged' }
  /** Its credential no longer holds (client disabled, secret rotated out, token expired or revoked). */
  | { readonly kind: 'lapsed' }
  | { readonly kind: 'acknowledged'; readonly principal: Principal }

/** What a subscription stores besides its connection, operation and principal. */
export type StoredOperation = Omit<WsSubscription, 'connectionId' | 'operationId' | 'tenantId' | 'principal'>

/** The one subprotocol spoken. */
export const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws'

/** What `$connect` knows of a connection. */
export interface ConnectRequest {
  readonly connectionId: string
  /** `Sec-WebSocket-Protocol` as the client sent it (a comma-separated list), or null. */
  readonly protocols: string | null
  /** A page's `Origin` when it is not the API's own; null otherwise. */
  readonly origin: string | null
  /** `requestContext.identity.sourceIp`. */
  readonly clientAddress: string
}

/**
 * `$connect`'s answer: accepted with the subprotocol to name in `Sec-WebSocket-Protocol`, or refused (the client
 * offered no subprotocol we speak) with what to tell it; the host says it in its transport's terms.
 */
export type ConnectAnswer =
  | { readonly accepted: true; readonly protocol: typeof GRAPHQL_TRANSPORT_WS }
  | { readonly accepted: false; readonly refusal: 'UNSUPPORTED_SUBPROTOCOL'; readonly error: string }

/**
 * `$connect`: only `graphql-transport-ws` is spoken (anything else is refused, and no connection stored). A page's
 * origin is not judged here (the tenant is unknown until `connection_init`): it is stored, and checked then.
 */
export async function acceptConnection(sessions: WebSocketSessions, request: ConnectRequest): Promise<ConnectAnswer> {
  const offered = (request.protocols ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter(Boolean)
  if (handleProtocols(offered) !== GRAPHQL_TRANSPORT_WS) {
    return {
      accepted: false,
      refusal: 'UNSUPPORTED_SUBPROTOCOL',
      error: `Speak the ${GRAPHQL_TRANSPORT_WS} subprotocol (graphql-ws)`,
    }
  }
  await sessions.open({
    connectionId: request.connectionId,
    clientAddress: request.clientAddress,
    origin: request.origin,
  })
  return { accepted: true, protocol: GRAPHQL_TRANSPORT_WS }
}

export class WebSocketSessions {
  constructor(
    private readonly repository: WebSocketRepository,
    private readonly principals: PrincipalStorage,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new connection (`$connect`): who it comes from, not yet who it is. */
  async open(input: { connectionId: string; clientAddress: string; origin: string | null }): Promise<void> {
    const now = new Date(this.now())
    await this.repository.putConnection(
      { ...input, connectedAt: now.toISOString(), principal: null, trustedUntil: null },
      now,
    )
  }

  /** The connection, strongly consistent; null when it is gone. */
  find(connectionId: string): Promise<WsConnection | null> {
    return this.repository.getConnection(connectionId)
  }

  /**
   * Stores the caller `connection_init` authenticated, its credential checked now (a disabled client's token holds
   * no longer than this): 'lapsed' when it does not hold, 'taken' when the connection was acknowledged already (a
   * second or racing `connection_init`) or is gone. Throws ServiceUnavailableError when the store cannot answer.
   */
  async acknowledge(connectionId: string, principal: Principal): Promise<'acknowledged' | 'lapsed' | 'taken'> {
    const trustedUntil = await principal.revalidate()
    if (trustedUntil === null) return 'lapsed'
    const stored = await this.repository.acknowledge(connectionId, this.principals.describe(principal), trustedUntil)
    return stored ? 'acknowledged' : 'taken'
  }

  /**
   * The connection's caller, restored; its credential is checked again (and the new trust stored) once the trust it
   * had ran out. Throws ServiceUnavailableError when the store cannot answer.
   */
  async callerOf(connection: WsConnection): Promise<SessionCaller> {
    if (!connection.principal) return { kind: 'unacknowledged' }
    const principal = this.principals.restore(connection.principal)
    if (connection.trustedUntil !== null && connection.trustedUntil > this.now()) {
      return { kind: 'acknowledged', principal }
    }
    const trustedUntil = await principal.revalidate()
    if (trustedUntil === null) return { kind: 'lapsed' }
    await this.repository.setTrustedUntil(connection.connectionId, trustedUntil)
    return { kind: 'acknowledged', principal }
  }

  /** Whether the connection runs an operation by this id. */
  async hasOperation(connectionId: string, operationId: string): Promise<boolean> {
    return (await this.repository.getSubscription(connectionId, operationId)) !== null
  }

  /**
   * Takes one of the connection's `maxOperations` slots for an operation about to run (atomic: operations racing in
   * separate invocations cannot all pass). Give it back with {@link release} unless the operation is stored.
   */
  reserve(connectionId: string, maxOperations: number): Promise<'reserved' | 'full' | 'gone'> {
    return this.repository.reserveOperation(connectionId, maxOperations)
  }

  release(connectionId: string): Promise<void> {
    return this.repository.releaseOperation(connectionId)
  }

  /**
   * Stores a subscription in the slot its operation reserved: 'duplicate' when the id is taken, 'gone' when the
   * connection closed meanwhile (nothing of it is left stored).
   */
  subscribe(
    connectionId: string,
    operationId: string,
    principal: Principal,
    operation: StoredOperation,
  ): Promise<'stored' | 'duplicate' | 'gone'> {
    return this.repository.putSubscription({
      ...operation,
      connectionId,
      operationId,
      tenantId: principal.tenantId,
      principal: this.principals.describe(principal),
    })
  }

  /** Claims a consent stream's next version to send: false when it was sent (or claimed) already. */
  claimVersion(connectionId: string, operationId: string, version: number): Promise<boolean> {
    return this.repository.setLastVersion(connectionId, operationId, version)
  }

  /** Claims a feed's next events to send by moving its cursor on: false when it moved meanwhile. */
  claimCursor(connectionId: string, operationId: string, from: string | null, to: string): Promise<boolean> {
    return this.repository.advanceCursor(connectionId, operationId, from, to)
  }

  /** Ends one subscription (the client's `complete`, or its stream's end): false when there was none. */
  complete(connectionId: string, operationId: string): Promise<boolean> {
    return this.repository.deleteSubscription(connectionId, operationId)
  }

  /** Forgets the connection and its subscriptions. */
  close(connectionId: string): Promise<void> {
    return this.repository.deleteConnection(connectionId)
  }
}
