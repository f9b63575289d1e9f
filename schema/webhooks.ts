// What the gateway tells partners, and when: the deadline ahead of each consent, the kinds of history events, the
// tenant-wide event feed, the webhook deliveries of a consent with their replay, and the tenant's webhook settings.
import { DEADLINE_KINDS, EVENT_KINDS, type ConsentDeadline, type ConsentEvent } from '../domain/consent.ts'
import {
  ConcurrentModificationError,
  ConsentNotFoundError,
  ServiceUnavailableError,
  ValidationError,
} from '../domain/errors.ts'
import * as z from '../domain/zod.ts'
import {
  DELIVERY_STATES,
  serializeNotification,
  type DeliveryAttempt,
  type OutboxMessage,
} from '../domain/notification.ts'
import type { SigningSecret, WebhookSettings } from '../service/webhook-settings.ts'
import { builder } from './builder.ts'
import { callerOf, consentIdFrom, FORWARD_PAGE_ARGS, ID_ARG } from './caller.ts'
import { ConsentEventRef, ConsentRef } from './consent-node.ts'

export const DeadlineKindEnum = builder.enumType('DeadlineKind', {
  description: "A moment in a consent's life the gateway acts on by itself.",
  values: DEADLINE_KINDS,
})

export const EventKindEnum = builder.enumType('ConsentEventKind', {
  description:
    'CHANGE: the consent changed (status or anything else shown). EXPIRY_WARNING / RECONFIRMATION_WARNING: a ' +
    'configured time before validUntil / reconfirmBy. RECONFIRMATION_LAPSED: a UK consent was not reconfirmed in ' +
    'time; data access stops until it is.',
  values: EVENT_KINDS,
})

export const DeliveryStateEnum = builder.enumType('WebhookDeliveryState', {
  description:
    'PENDING: not delivered yet (retried with backoff); DELIVERED: the endpoint answered 2xx; DEAD: undelivered ' +
    'after 72 hours of retries (replayable); NO_ENDPOINT: neither the consent nor the tenant had a webhook URL.',
  values: DELIVERY_STATES,
})

const ConsentDeadlineRef = builder.objectRef<ConsentDeadline>('ConsentDeadline').implement({
  description: 'The next deadline the gateway will act on for this consent.',
  fields: (t) => ({
    kind: t.field({ type: DeadlineKindEnum, resolve: (deadline) => deadline.kind }),
    at: t.field({ type: 'DateTime', description: 'When it falls due.', resolve: (deadline) => deadline.at }),
    target: t.field({
      type: 'DateTime',
      description: 'The moment it is about: linkExpiresAt, validUntil or reconfirmBy.',
      resolve: (deadline) => deadline.target,
    }),
  }),
})

const DeliveryAttemptRef = builder.objectRef<DeliveryAttempt>('WebhookDeliveryAttempt').implement({
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (attempt) => attempt.at }),
    url: t.exposeString('url'),
    httpStatus: t.int({ nullable: true, resolve: (attempt) => attempt.status }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.exposeInt('durationMs'),
  }),
})

export const WebhookDeliveryRef = builder.objectRef<OutboxMessage>('WebhookDelivery').implement({
  description: 'One webhook message about a consent and how its delivery went.',
  fields: (t) => ({
    eventId: t.id({
      description: 'The history event it reports; also its `webhook-id` header.',
      resolve: (message) => message.notification.event_id,
    }),
    sequence: t.exposeInt('sequence', { description: 'Per-consent sequence number.' }),
    type: t.string({ resolve: (message) => message.notification.type }),
    state: t.field({ type: DeliveryStateEnum, resolve: (message) => message.deliveryState }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it is tried next; while it waits for an earlier message, when that one is tried next.',
      resolve: (message) => message.nextAttemptAt,
    }),
    waitingForSequence: t.int({
      nullable: true,
      description:
        'While PENDING behind an earlier undelivered message of the consent (messages go out in sequence order): ' +
        "that message's sequence. It goes right after that one is delivered (or dead-lettered). Null otherwise.",
      resolve: (message) => message.waitingForSequence,
    }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, resolve: (message) => message.deliveredAt }),
    lastAttempt: t.field({ type: DeliveryAttemptRef, nullable: true, resolve: (message) => message.lastAttempt }),
    payload: t.string({
      description: 'The JSON body, exactly as signed and sent.',
      resolve: (message) => serializeNotification(message.notification),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (message) => message.createdAt }),
  }),
})

builder.objectFields(ConsentRef, (t) => ({
  nextDeadline: t.field({
    type: ConsentDeadlineRef,
    nullable: true,
    description: 'The next deadline the gateway acts on by itself (a warning, an expiry); null when none is ahead.',
    resolve: (consent) => consent.nextDeadline,
  }),
  webhookDeliveries: t.field({
    type: [WebhookDeliveryRef],
    description: 'Every webhook message about this consent, in sequence order. Partner credentials only.',
    authScopes: { partner: true },
    resolve: (consent, _args, context) => context.services.deliveries.list(callerOf(context), consent.id),
  }),
}))

builder.objectFields(ConsentEventRef, (t) => ({
  kind: t.field({ type: EventKindEnum, resolve: (event) => event.kind }),
  deadline: t.field({
    type: 'DateTime',
    nullable: true,
    description: 'When a deadline caused the event (a warning, a lapse, an expiry): the deadline it is about.',
    resolve: (event) => event.deadline,
  }),
  consent: t.field({
    type: ConsentRef,
    description: 'The consent as it is now.',
    resolve: (event) => event.consentId,
  }),
}))

builder.queryField('consentEvents', (t) =>
  t.connection({
    type: ConsentEventRef,
    description:
      "The tenant's history feed: every event of every consent, oldest first. Resume with the last endCursor: no " +
      'event is missed or repeated (events appear once they are 5 seconds old, when their order is final). Partner ' +
      'credentials only.',
    authScopes: { partner: true },
    validate: FORWARD_PAGE_ARGS,
    resolve: (_root, args, context) =>
      context.services.events.page(callerOf(context), args.first ?? 50, args.after ?? null),
  }),
)

const FeedItemRef = builder.objectRef<{ node: ConsentEvent; cursor: string }>('ConsentFeedItem').implement({
  description: 'One event of the feed, with the cursor to resume after it.',
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    event: t.field({ type: ConsentEventRef, resolve: (item) => item.node }),
  }),
})

builder.subscriptionField('consentEvents', (t) =>
  t.field({
    type: FeedItemRef,
    description:
      "The tenant's history feed, live: every event after `after` (from the beginning without it), then each new " +
      'one, oldest first, with no gaps; completes at the subscription deadline. Resume with the last cursor you ' +
      'received. Ends with an UNAUTHORIZED error once the API client is disabled, its secret rotated out or its ' +
      'token expired. Partner credentials only. Implemented by polling the store.',
    authScopes: { partner: true },
    args: { after: t.arg.string({ validate: z.nullish(z.string().check(z.maxLength(512))) }) },
    subscribe: (_root, { after }, context) =>
      context.services.events.follow(callerOf(context), after ?? null, {
        deadline: context.services.subscriptionDeadline(),
        signal: context.signal,
      }),
    resolve: (item: { node: ConsentEvent; cursor: string }) => item,
  }),
)

const SigningSecretRef = builder.objectRef<SigningSecret>('WebhookSigningSecret').implement({
  description: 'A secret webhook signatures are made with (Standard Webhooks, `whsec_...`).',
  fields: (t) => ({
    secret: t.exposeString('secret'),
    createdAt: t.field({ type: 'DateTime', resolve: (secret) => secret.createdAt }),
    retiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation: when this previous secret stops signing. Null for the current secret.',
      resolve: (secret) => secret.retiresAt,
    }),
  }),
})

const WebhookSettingsRef = builder.objectRef<WebhookSettings>('WebhookSettings').implement({
  fields: (t) => ({
    defaultUrl: t.exposeString('defaultUrl', {
      nullable: true,
      description: 'Where webhooks go for consents created without their own webhookUrl.',
    }),
    signingSecrets: t.field({
      type: [SigningSecretRef],
      description: 'Current first; during a rotation the previous one too (every delivery carries both signatures).',
      resolve: (settings) => settings.signingSecrets,
    }),
  }),
})

builder.queryField('webhookSettings', (t) =>
  t.field({
    type: WebhookSettingsRef,
    description:
      "The tenant's webhook endpoint and signing secrets (a first secret is made on first use). Partner credentials only.",
    authScopes: { partner: true },
    resolve: (_root, _args, context) => context.services.webhooks.view(callerOf(context)),
  }),
)

const settingsPayload = (name: string) =>
  builder.objectRef<{ settings: WebhookSettings }>(name).implement({
    fields: (t) => ({ settings: t.field({ type: WebhookSettingsRef, resolve: (result) => result.settings }) }),
  })

builder.mutationField('setWebhookEndpoint', (t) =>
  t.field({
    type: settingsPayload('SetWebhookEndpointPayload'),
    description:
      'Sets (or, with null, clears) the default endpoint. https only (http://localhost in local mode). Partner ' +
      'credentials only.',
    authScopes: { partner: true },
    errors: {
      types: [ValidationError, ConcurrentModificationError, ServiceUnavailableError],
      directResult: true,
      union: { name: 'SetWebhookEndpointResult' },
    },
    args: { url: t.arg.string({ validate: z.nullish(z.string().check(z.maxLength(2048))) }) },
    resolve: async (_root, { url }, context) => ({
      settings: await context.services.webhooks.setDefaultUrl(callerOf(context), url ?? null),
    }),
  }),
)

builder.mutationField('rotateWebhookSigningSecret', (t) =>
  t.field({
    type: settingsPayload('RotateWebhookSigningSecretPayload'),
    description:
      'Makes a new signing secret; the previous one keeps signing (beside it) for 24 hours. Partner credentials only.',
    authScopes: { partner: true },
    resolve: async (_root, _args, context) => ({
      settings: await context.services.webhooks.rotate(callerOf(context)),
    }),
  }),
)

const ReplayPayload = builder.objectRef<{ delivery: OutboxMessage }>('ReplayWebhookDeliveryPayload').implement({
  fields: (t) => ({ delivery: t.field({ type: WebhookDeliveryRef, resolve: (result) => result.delivery }) }),
})

builder.mutationField('replayWebhookDelivery', (t) =>
  t.field({
    type: ReplayPayload,
    description:
      'Sends a webhook message again (a dead-lettered one after fixing the endpoint, or one you lost), after any ' +
      "earlier pending message of the consent. Answers the message's state after the attempt. Partner credentials " +
      'only.',
    authScopes: { partner: true },
    errors: {
      types: [ValidationError, ConsentNotFoundError, ServiceUnavailableError],
      directResult: true,
      union: { name: 'ReplayWebhookDeliveryResult' },
    },
    args: {
      consentId: t.arg.id({ required: true, validate: ID_ARG }),
      sequence: t.arg.int({ required: true, validate: z.number().check(z.int(), z.gte(1)) }),
    },
    resolve: async (_root, { consentId, sequence }, context) => ({
      delivery: await context.services.deliveries.replay(
        callerOf(context),
        consentIdFrom(consentId, 'consentId'),
        sequence,
      ),
    }),
  }),
)
