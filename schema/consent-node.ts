// The Consent node, its history, and every query, mutation and subscription field about consents.
import { resolveArrayConnection } from '@pothos/plugin-relay'
import type { Consent, ConsentDeletion, ConsentEvent } from '../domain/consent.ts'
import { deriveState, type DerivedState } from '../domain/derived.ts'
import {
  ConsentEventNotFoundError,
  ConsentNotFoundError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  InstitutionNotFoundError,
  ProviderRejectedError,
  ProviderUnavailableError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnsupportedByProviderError,
  UnsupportedScopeError,
  ValidationError,
} from '../domain/errors.ts'
import { decodePublicId } from '../domain/ids.ts'
import { regionOfCountry } from '../domain/provider.ts'
import { isPending } from '../domain/status.ts'
import * as z from '../domain/zod.ts'
import { actorOf, type Actor } from '../domain/actor.ts'
import type { Caller } from '../service/consent-service.ts'
import { initiatorOfPrincipal, scopeOf } from '../service/principal.ts'
import { builder } from './builder.ts'
import type { GraphQLContext } from './context.ts'
import {
  ActorKindEnum,
  ConsentStatusEnum,
  DataScopeEnum,
  EventSourceEnum,
  NextActionEnum,
  ProviderEnum,
  RegionEnum,
  StatusReasonEnum,
} from './enums.ts'
import { CONSENT_OPERATION_ERRORS } from './errors.ts'

/**
 * The service's view of who is calling: the access scope of the principal (its tenant; an end user's token narrows it
 * to that user and perhaps some consents) and who the history records. Resolvers never see a request without a
 * principal (HTTP auth runs first).
 */
export function callerOf(context: GraphQLContext): Caller {
  const { principal } = context
  if (!principal) throw new UnauthorizedError()
  return {
    ...scopeOf(principal),
    initiator: initiatorOfPrincipal(principal),
    requestId: context.requestId,
    signal: context.signal,
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

/** Effective status, canAccessData and nextAction at request time; computed once per consent per request. */
function derived(consent: Consent, context: GraphQLContext): Promise<DerivedState> {
  let state = context.derived.get(consent)
  if (!state) {
    state = (async () => {
      const { providers } = context.services
      const adapter = providers.has(consent.provider) ? await providers.get(consent.provider).catch(() => null) : null
      return deriveState(consent, context.services.clock(), {
        canReauthorize: adapter?.capabilities.reauthorize ?? false,
      })
    })()
    context.derived.set(consent, state)
  }
  return state
}

export const InstitutionRef = builder
  .objectRef<{ id: string; name: string; country: string }>('Institution')
  .implement({
    fields: (t) => ({
      id: t.exposeString('id', { description: "The provider's institution id (bank)." }),
      name: t.exposeString('name'),
      country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2.' }),
      region: t.field({
        type: RegionEnum,
        nullable: true,
        resolve: (institution) => regionOfCountry(institution.country),
      }),
    }),
  })

const DeletionStatusEnum = builder.enumType('DeletionStatus', { values: ['SUCCESS', 'FAILED'] as const })

const ConsentDeletionRef = builder.objectRef<ConsentDeletion>('ConsentDeletion').implement({
  fields: (t) => ({
    status: t.field({ type: DeletionStatusEnum, resolve: (deletion) => deletion.status }),
    deletedAtInstitution: t.exposeBoolean('deletedAtInstitution', {
      nullable: true,
      description: 'Whether the bank deleted its copy too; null when the provider cannot say.',
    }),
    at: t.field({ type: 'DateTime', resolve: (deletion) => deletion.at }),
  }),
})

export const ConsentEventRef = builder.loadableNodeRef<ConsentEvent>('ConsentEvent', {
  id: { resolve: (event) => event.id },
  // `node(id: "cevt_...")`: only the caller's tenant's events are read; another tenant's id is not found.
  load: async (ids: string[], context: GraphQLContext) => {
    const events = await context.services.consents.eventsById(callerOf(context), ids)
    return events.map((event, index) => event ?? new ConsentEventNotFoundError(ids[index] ?? ''))
  },
})

const ActorRef = builder.objectRef<Actor>('EventActor').implement({
  description: 'Who caused a history event.',
  fields: (t) => ({
    kind: t.field({ type: ActorKindEnum, resolve: (actor) => actor.kind }),
    clientId: t.string({
      nullable: true,
      description: 'The API client that acted, or (END_USER) whose token the end user acted with.',
      resolve: (actor) => ('clientId' in actor ? actor.clientId : null),
    }),
    userId: t.string({
      nullable: true,
      description: "END_USER: the partner's reference for the end user who acted.",
      resolve: (actor) => (actor.kind === 'END_USER' ? actor.userId : null),
    }),
    provider: t.field({
      type: ProviderEnum,
      nullable: true,
      resolve: (actor) => (actor.kind === 'PROVIDER' ? actor.provider : null),
    }),
  }),
})

ConsentEventRef.implement({
  description: 'One entry of the append-only history: a change of the consent, who made it, and when.',
  fields: (t) => ({
    sequence: t.int({ description: 'The consent version this event produced.', resolve: (event) => event.version }),
    from: t.field({ type: ConsentStatusEnum, nullable: true, resolve: (event) => event.from }),
    to: t.field({ type: ConsentStatusEnum, resolve: (event) => event.to }),
    reason: t.field({ type: StatusReasonEnum, nullable: true, resolve: (event) => event.reason }),
    providerStatus: t.exposeString('providerStatus', { nullable: true }),
    source: t.field({ type: EventSourceEnum, resolve: (event) => event.source }),
    initiator: t.exposeString('initiator', {
      description:
        'Who caused it, as text: `api-client:<clientId>`, `api-client:<clientId>/end-user:<userId>`, ' +
        '`provider:<name>` or `scheduler`. `actor` says the same, typed.',
    }),
    actor: t.field({ type: ActorRef, resolve: (event) => actorOf(event.initiator) }),
    at: t.field({ type: 'DateTime', resolve: (event) => event.at }),
  }),
})

const timestamp = (resolve: (consent: Consent) => string | null, description: string) => ({
  type: 'DateTime' as const,
  nullable: true as const,
  description,
  resolve,
})

export const ConsentRef = builder.loadableNodeRef<Consent>('Consent', {
  id: { resolve: (consent) => consent.id },
  // Batched per request: `supersededBy`, `supersedes` and `node(id)` share one BatchGetItem.
  load: async (ids: string[], context: GraphQLContext) => {
    const consents = await context.services.consents.getMany(callerOf(context), ids)
    return consents.map((consent, index) => consent ?? new ConsentNotFoundError(ids[index] ?? ''))
  },
})

ConsentRef.implement({
  description: "An AIS consent at a provider, in the gateway's unified model.",
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, resolve: (consent) => consent.provider }),
    providerConsentId: t.exposeString('providerConsentId'),
    providerStatus: t.exposeString('providerStatus', {
      nullable: true,
      description: "The provider's own status label, always kept beside the unified status.",
    }),
    userId: t.exposeString('userId', { description: "The partner's reference for its end user." }),
    institution: t.field({ type: InstitutionRef, resolve: (consent) => consent.institution }),
    region: t.field({ type: RegionEnum, resolve: (consent) => consent.region }),
    scope: t.field({ type: [DataScopeEnum], resolve: (consent) => [...consent.scope] }),
    validityDays: t.exposeInt('validityDays'),
    status: t.field({
      type: ConsentStatusEnum,
      description: 'Effective status: the stored status with the clock applied.',
      resolve: async (consent, _args, context) => (await derived(consent, context)).status,
    }),
    statusReason: t.field({
      type: StatusReasonEnum,
      nullable: true,
      resolve: async (consent, _args, context) => (await derived(consent, context)).statusReason,
    }),
    authorizationUrl: t.string({
      nullable: true,
      description: 'Where to send the user next; null when there is nothing for the user to do.',
      resolve: async (consent, _args, context) => {
        const { status } = await derived(consent, context)
        return isPending(status) || status === 'AWAITING_REAUTHORIZATION' ? consent.authorizationUrl : null
      },
    }),
    linkExpiresAt: t.field(timestamp((c) => c.linkExpiresAt, 'Deadline of the authorisation link.')),
    validUntil: t.field(timestamp((c) => c.validUntil, 'End of data access.')),
    lastConfirmedAt: t.field(timestamp((c) => c.lastConfirmedAt, 'UK: last reconfirmation (or authorisation).')),
    reconfirmBy: t.field(timestamp((c) => c.reconfirmBy, 'UK: reconfirm before this or data access stops.')),
    canAccessData: t.boolean({
      resolve: async (consent, _args, context) => (await derived(consent, context)).canAccessData,
    }),
    nextAction: t.field({
      type: NextActionEnum,
      resolve: async (consent, _args, context) => (await derived(consent, context)).nextAction,
    }),
    redirectUrl: t.exposeString('redirectUrl', { nullable: true }),
    webhookUrl: t.exposeString('webhookUrl', { nullable: true }),
    version: t.exposeInt('version', { description: 'Optimistic-lock counter; +1 on every change.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (consent) => consent.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (consent) => consent.updatedAt }),
    supersededBy: t.field({
      type: ConsentRef,
      nullable: true,
      description: 'The newer consent that replaced this one.',
      resolve: (consent) => consent.supersededBy,
    }),
    supersedes: t.field({
      type: ConsentRef,
      nullable: true,
      description: 'The older consent this one replaced.',
      resolve: (consent) => consent.supersedes,
    }),
    deletion: t.field({
      type: ConsentDeletionRef,
      nullable: true,
      description: 'Set once deleteConsent ran: whether the provider and the bank deleted it.',
      resolve: (consent) => consent.deletion,
    }),
    events: t.connection({
      type: ConsentEventRef,
      description: 'The history, oldest first.',
      resolve: async (consent, args, context) =>
        resolveArrayConnection({ args }, await context.services.consents.history(callerOf(context), consent.id)),
    }),
  }),
})

const ConsentFilterInput = builder.inputType('ConsentFilter', {
  fields: (t) => ({
    status: t.field({ type: [ConsentStatusEnum], description: 'Any of these effective statuses.' }),
    provider: t.field({ type: ProviderEnum }),
    userId: t.string({ validate: z.string().check(z.minLength(1), z.maxLength(128)) }),
    institutionId: t.string({ validate: z.string().check(z.minLength(1), z.maxLength(64)) }),
  }),
})

const idArg = z.string().check(z.minLength(1), z.maxLength(64))

/** Connection arguments of every list: forward pages of 1 to 100, cursors of at most 512 characters. */
export const FORWARD_PAGE_ARGS = z.looseObject({
  first: z.nullish(z.number().check(z.int(), z.gte(1), z.lte(100))),
  after: z.nullish(z.string().check(z.maxLength(512))),
  last: z.optional(z.null()),
  before: z.optional(z.null()),
})

builder.queryField('consent', (t) =>
  t.field({
    type: ConsentRef,
    description:
      "One consent. Another tenant's id (with an end user's token, another user's, or one outside the token's " +
      'consents) answers CONSENT_NOT_FOUND, exactly like a missing one.',
    authScopes: { consentsRead: true },
    errors: { types: [ValidationError, ConsentNotFoundError], directResult: true, union: { name: 'ConsentResult' } },
    args: { id: t.arg.id({ required: true, validate: idArg }) },
    resolve: (_root, { id }, context) => context.services.consents.get(callerOf(context), consentIdFrom(id)),
  }),
)

builder.queryField('consents', (t) =>
  t.connection({
    type: ConsentRef,
    description:
      "The tenant's consents (with an end user's token, that user's, or the token's consents), newest first. Forward " +
      'pagination only; cursors are bound to the filter.',
    authScopes: { consentsRead: true },
    args: { filter: t.arg({ type: ConsentFilterInput }) },
    validate: FORWARD_PAGE_ARGS,
    resolve: (_root, args, context) =>
      context.services.consents.list(
        callerOf(context),
        {
          status: args.filter?.status ?? undefined,
          provider: args.filter?.provider ?? undefined,
          userId: args.filter?.userId ?? undefined,
          institutionId: args.filter?.institutionId ?? undefined,
        },
        args.first ?? 20,
        args.after ?? null,
      ),
  }),
)

const CreateConsentInput = builder.inputType('CreateConsentInput', {
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, required: true }),
    institutionId: t.string({ required: true, validate: z.string().check(z.minLength(1), z.maxLength(64)) }),
    userId: t.string({
      description:
        'Your reference for the end user, 1-128 characters; never sent to a provider. Required with partner ' +
        "credentials; with an end user's token it is the token's user (leave it out, or send the same).",
      validate: z
        .string()
        .check(z.minLength(1), z.maxLength(128), z.regex(/^[^\p{Cc}]+$/u, 'must not contain control characters')),
    }),
    region: t.field({ type: RegionEnum, required: true }),
    scope: t.field({ type: [DataScopeEnum], description: 'Default: ACCOUNTS, BALANCES, TRANSACTIONS.' }),
    validityDays: t.int({ description: 'Default and maximum: 90 (UK), 180 (EEA).' }),
    linkExpiresInDays: t.int({ description: 'Default 7, maximum 45.' }),
    redirectUrl: t.string({
      description:
        "Where the user's browser goes after the bank, through the gateway, which appends `consent_id` (this consent's id), `status` and, when there is one, `status_reason`.",
      validate: z.string().check(z.maxLength(2048)),
    }),
    webhookUrl: t.string({
      description: 'https URL told about every change.',
      validate: z.string().check(z.maxLength(2048)),
    }),
    idempotencyKey: t.string({
      description: 'Same key and input: the same consent again. Same key, other input: IDEMPOTENCY_KEY_REUSED.',
      validate: z
        .string()
        .check(z.minLength(1), z.maxLength(128), z.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')),
    }),
  }),
})

const CreateConsentPayload = builder
  .objectRef<{ consent: Consent; replayed: boolean }>('CreateConsentPayload')
  .implement({
    fields: (t) => ({
      consent: t.field({ type: ConsentRef, resolve: (payload) => payload.consent }),
      replayed: t.exposeBoolean('replayed', {
        description: 'True when an idempotency key returned an earlier result.',
      }),
    }),
  })

const consentPayload = (name: string) =>
  builder.objectRef<{ consent: Consent }>(name).implement({
    fields: (t) => ({ consent: t.field({ type: ConsentRef, resolve: (payload) => payload.consent }) }),
  })
const RefreshConsentPayload = consentPayload('RefreshConsentPayload')
const RevokeConsentPayload = consentPayload('RevokeConsentPayload')

builder.mutationField('createConsent', (t) =>
  t.field({
    type: CreateConsentPayload,
    description:
      'Creates a consent at the provider; send the user to `consent.authorizationUrl`. Needs consents:write with an ' +
      "end user's token, which creates for its own user; a token restricted to some consents may not create.",
    authScopes: { consentsCreate: true },
    errors: {
      types: [
        ValidationError,
        UnsupportedScopeError,
        InstitutionNotFoundError,
        IdempotencyKeyReusedError,
        IdempotencyInProgressError,
        ProviderUnavailableError,
        ProviderRejectedError,
        UnsupportedByProviderError,
        ServiceUnavailableError,
      ],
      directResult: true,
      union: { name: 'CreateConsentResult' },
    },
    args: { input: t.arg({ type: CreateConsentInput, required: true }) },
    resolve: (_root, { input }, context) => context.services.consents.create(callerOf(context), input),
  }),
)

builder.mutationField('refreshConsent', (t) =>
  t.field({
    type: RefreshConsentPayload,
    description: 'Re-reads the consent at its provider now and records any change.',
    authScopes: { consentsWrite: true },
    errors: { types: CONSENT_OPERATION_ERRORS, directResult: true, union: { name: 'RefreshConsentResult' } },
    args: { id: t.arg.id({ required: true, validate: idArg }) },
    resolve: async (_root, { id }, context) => ({
      consent: await context.services.consents.refresh(callerOf(context), consentIdFrom(id)),
    }),
  }),
)

builder.mutationField('revokeConsent', (t) =>
  t.field({
    type: RevokeConsentPayload,
    description: 'Revokes the consent at its provider. Revoking a revoked consent returns it unchanged.',
    authScopes: { consentsWrite: true },
    errors: { types: CONSENT_OPERATION_ERRORS, directResult: true, union: { name: 'RevokeConsentResult' } },
    args: { id: t.arg.id({ required: true, validate: idArg }) },
    resolve: async (_root, { id }, context) => ({
      consent: await context.services.consents.revoke(callerOf(context), consentIdFrom(id)),
    }),
  }),
)

builder.subscriptionField('consentUpdated', (t) =>
  t.field({
    type: ConsentRef,
    description:
      'The consent now, then every change; completes on a terminal status or at the subscription deadline. ' +
      'Ends with an UNAUTHORIZED error once its credential no longer holds: the API client disabled or its secret ' +
      "rotated out, the token expired, or the end user's tokens revoked. Implemented by polling the store.",
    authScopes: { consentsRead: true },
    args: { id: t.arg.id({ required: true, validate: idArg }) },
    subscribe: async (_root, { id }, context) => {
      const consent = await context.services.consents.get(callerOf(context), consentIdFrom(id))
      return context.services.watcher.watch(consent, {
        deadline: context.services.subscriptionDeadline(),
        signal: context.signal,
      })
    },
    resolve: (consent: Consent) => consent,
  }),
)
