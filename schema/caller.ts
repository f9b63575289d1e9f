// Who a resolver acts for, as the use cases take it, and the ids a field's arguments name.
import { UnauthorizedError, ValidationError } from '../domain/errors.ts'
import { decodePublicId } from '../domain/ids.ts'
import * as z from '../domain/zod.ts'
import type { Caller } from '../service/consent-service.ts'
import { initiatorOfPrincipal, scopeOf, type AccessScope } from '../service/principal.ts'
import type { GraphQLContext } from './context.ts'

/**
 * The service's view of who is calling: the access scope of the principal (its tenant; an end user's token narrows it
 * to that user and perhaps some consents) and who the history records. Resolvers never see a request without a
 * principal (HTTP auth runs first).
 */
export function callerOf(context: GraphQLContext): Caller {
  const { principal } = context
  if (!principal) throw new UnauthorizedError()
  return new RequestCaller(scopeOf(principal), initiatorOfPrincipal(principal), context)
}

/**
 * A caller as a class rather than an object literal: a literal that spreads the scope and defines a getter costs
 * microseconds each time on V8 (measured), and every resolver that reads a consent makes one.
 */
class RequestCaller implements Caller {
  readonly tenantId: string
  declare readonly userId?: AccessScope['userId']
  declare readonly consentIds?: AccessScope['consentIds']
  declare readonly canWrite?: AccessScope['canWrite']
  readonly requestId: string
  readonly #context: GraphQLContext

  constructor(
    scope: AccessScope,
    readonly initiator: string,
    context: GraphQLContext,
  ) {
    this.#context = context
    this.tenantId = scope.tenantId
    // Only the fields the scope has: an API client's scope names no user, no consents.
    const own = this as { -readonly [K in 'userId' | 'consentIds' | 'canWrite']?: AccessScope[K] }
    if (scope.userId !== undefined) own.userId = scope.userId
    if (scope.consentIds !== undefined) own.consentIds = scope.consentIds
    if (scope.canWrite !== undefined) own.canWrite = scope.canWrite
    this.requestId = context.requestId
  }

  /** Read when a use case passes it on (a provider call): a request's signal may be made only then (fast-path.ts). */
  get signal(): AbortSignal | undefined {
    return this.#context.signal
  }
}

/** `consent_01JD...` -> internal id; VALIDATION_ERROR for anything that is not a consent id. */
export function consentIdFrom(id: string, path = 'id'): string {
  const decoded = decodePublicId(id)
  if (!decoded || decoded.type !== 'Consent') {
    throw ValidationError.of(path, `"${id.slice(0, 64)}" is not a consent id (expected consent_<ULID>)`)
  }
  return decoded.id
}

/** An id argument: 1 to 64 characters before it is decoded. */
export const ID_ARG = z.string().check(z.minLength(1), z.maxLength(64))

/** Connection arguments of every list: forward pages of 1 to 100, cursors of at most 512 characters. */
export const FORWARD_PAGE_ARGS = z.looseObject({
  first: z.nullish(z.number().check(z.int(), z.gte(1), z.lte(100))),
  after: z.nullish(z.string().check(z.maxLength(512))),
  last: z.optional(z.null()),
  before: z.optional(z.null()),
})
