// The Consent node and its history (ConsentEvent): their fields, the derived ones computed once per consent and request.
import { createContextCache } from '@pothos/core'
import { resolveArrayConnection } from '@pothos/plugin-relay'
import { PROVIDER_CAPABILITIES } from '../domain/capabilities.ts'
import type { Consent, ConsentDeletion, ConsentEvent } from '../domain/consent.ts'
import { deriveState, type DerivedState } from '../domain/derived.ts'
import { ConsentEventNotFoundError, ConsentNotFoundError } from '../domain/errors.ts'
import { regionOfCountry } from '../domain/provider.ts'
import { isPending } from '../domain/status.ts'
import { actorOf, type Actor } from '../domain/actor.ts'
import { builder } from './builder.ts'
import { callerOf } from './caller.ts'
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

/** Each request's derived states, by consent: a consent's is computed once however many of its fields are selected. */
const derivedStates = createContextCache(() => new WeakMap<Consent, Promise<DerivedState>>())

/**
 * Effective status, canAccessData and nextAction at request time (domain/derived.ts decides them, from the static
 * capability table: no adapter is loaded); computed once per consent per request.
 */
function derived(consent: Consent, context: GraphQLContext): Promise<DerivedState> {
  let state = derivedStates(context).get(consent)
  if (!state) {
    state = Promise.resolve(
      deriveState(consent, context.services.clock(), {
        canReauthorize:
          context.services.providers.has(consent.provider) && PROVIDER_CAPABILITIES[consent.provider].reauthorize,
      }),
    )
    derivedStates(context).set(consent, state)
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
