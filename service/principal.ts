// Who is calling and what they may reach: the principal a credential gives (an API client, by HTTP Basic or by its
// bearer token, or one end user through a token its partner minted) and the access scope every use case is handed,
// so the rules hold in service/ whichever transport or resolver calls it.
import { initiatorOf, type Actor } from '../domain/actor.ts'
import { ForbiddenError } from '../domain/errors.ts'
import type { StoredPrincipal } from '../store/stored-principal.ts'

/** What an end user's token may do: read that user's consents, and (with write) create and change them. */
export const USER_TOKEN_SCOPES = ['consents:read', 'consents:write'] as const
export type UserTokenScope = (typeof USER_TOKEN_SCOPES)[number]

/** The one scope of an API client's own bearer token: whatever HTTP Basic may do, tenant-wide. */
export const PARTNER_SCOPE = 'partner'

interface PrincipalBase {
  readonly tenantId: string
  /** The API client: the caller itself, or for an end user the partner's client that minted the token (`act`). */
  readonly clientId: string
  /**
   * Checks again that the credential still holds: resolves with the epoch ms until which it is trusted without
   * another check, or null once it no longer holds (client disabled, secret rotated out, token expired or revoked).
   * Throws ServiceUnavailableError when the store cannot answer. Long-lived requests (subscriptions) call it to end
   * when their credential does.
   */
  revalidate(): Promise<number | null>
}

/** A partner's backend: HTTP Basic with its client secret, or the bearer token `/oauth/token` gave it for them. */
export interface ApiClientPrincipal extends PrincipalBase {
  readonly kind: 'API_CLIENT'
  readonly credential: 'BASIC' | 'BEARER'
  /** A bearer token's `jti`. */
  readonly tokenId?: string
  /** A bearer token's `exp`, in epoch ms. */
  readonly expiresAt?: number
}

/** One end user of a partner, through a token the partner minted for them (`createUserToken`, token exchange). */
export interface EndUserPrincipal extends PrincipalBase {
  readonly kind: 'END_USER'
  /** The partner's own reference for the user (the consents' `userId`). */
  readonly userId: string
  readonly scopes: readonly UserTokenScope[]
  /** Internal consent ids the token is restricted to; null: every consent of the user. */
  readonly consentIds: readonly string[] | null
  readonly tokenId: string
  /** Epoch ms. */
  readonly issuedAt: number
  /** Epoch ms. */
  readonly expiresAt: number
}

/** An authenticated caller. Every request is bound to exactly one tenant. */
export type Principal = ApiClientPrincipal | EndUserPrincipal

/** Where an attempt comes from. */
export interface AuthenticationAttempt {
  /** The caller's network address: the socket's, or Lambda's `requestContext.http.sourceIp`. Never a header. */
  readonly source?: string | null | undefined
}

/** Turns an `Authorization` header into a principal, or throws UnauthorizedError (RATE_LIMITED, SERVICE_UNAVAILABLE). */
export interface Authenticator {
  authenticate(authorization: string | null | undefined, attempt?: AuthenticationAttempt): Promise<Principal>
}

/**
 * Principals kept between invocations (a WebSocket connection through API Gateway, one Lambda invocation per
 * message): `describe` gives what may be stored, never a secret; `restore` gives back a principal whose `revalidate`
 * checks what the live one's checks (the client enabled in its tenant, a token unexpired and unrevoked, a Basic
 * secret not rotated out).
 */
export interface PrincipalStorage {
  /** Throws for a principal this authenticator did not give. */
  describe(principal: Principal): StoredPrincipal
  restore(stored: StoredPrincipal): Principal
}

/**
 * What a use case may reach. Every consent is its tenant's; with `userId` only that user's consents exist for the
 * caller, with `consentIds` only those: anything else answers exactly like a missing one.
 */
export interface AccessScope {
  readonly tenantId: string
  readonly userId?: string | undefined
  /** Internal consent ids. */
  readonly consentIds?: readonly string[] | null | undefined
  /**
   * Whether the caller may change anything (create, refresh, revoke...). A token without consents:write may not.
   * @default true
   */
  readonly canWrite?: boolean | undefined
}

/** The scope a principal's requests run in. */
export function scopeOf(principal: Principal): AccessScope {
  if (principal.kind === 'API_CLIENT') return { tenantId: principal.tenantId }
  return {
    tenantId: principal.tenantId,
    userId: principal.userId,
    consentIds: principal.consentIds,
    canWrite: principal.scopes.includes('consents:write'),
  }
}

/** Who the history records as having acted for a principal. */
export function actorOfPrincipal(principal: Principal): Actor {
  return principal.kind === 'API_CLIENT'
    ? { kind: 'API_CLIENT', clientId: principal.clientId }
    : { kind: 'END_USER', clientId: principal.clientId, userId: principal.userId }
}

/** The `initiator` string events record for a principal. */
export const initiatorOfPrincipal = (principal: Principal): string =>
  initiatorOf(actorOfPrincipal(principal) as Exclude<Actor, { kind: 'UNKNOWN' }>)

/** Whether a consent exists for the caller: its tenant's, and within the user and consent ids the scope names. */
export function canSee(scope: AccessScope, consent: { tenantId: string; userId: string; id: string }): boolean {
  if (consent.tenantId !== scope.tenantId) return false
  if (scope.userId !== undefined && consent.userId !== scope.userId) return false
  return !scope.consentIds || scope.consentIds.includes(consent.id)
}

/** Whether the scope narrows the tenant (an end user's token): then reads must check each consent. */
export const isNarrowed = (scope: AccessScope): boolean => scope.userId !== undefined || !!scope.consentIds

/** Refuses a change to a caller who may only read. */
export function requireWrite(scope: AccessScope): void {
  if (scope.canWrite === false) throw new ForbiddenError('This token may only read: changes need consents:write')
}

/**
 * The tenant of a tenant-wide use case (the event feed, webhook settings and deliveries, minting tokens), refused to
 * a caller narrowed to one user or some consents.
 */
export function tenantWide(scope: AccessScope): string {
  if (isNarrowed(scope))
    throw new ForbiddenError("An end user's token may not do this: it needs the partner's credentials")
  return scope.tenantId
}
