// The mutations every provider offers: createConsent, refreshConsent, revokeConsent (the others:
// consent-operations.ts).
import type { Consent } from '../domain/consent.ts'
import {
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  InstitutionNotFoundError,
  ProviderRejectedError,
  ProviderUnavailableError,
  ServiceUnavailableError,
  UnsupportedByProviderError,
  UnsupportedScopeError,
  ValidationError,
} from '../domain/errors.ts'
import * as z from '../domain/zod.ts'
import { builder } from './builder.ts'
import { callerOf, consentIdFrom, ID_ARG } from './caller.ts'
import { ConsentRef } from './consent-node.ts'
import { DataScopeEnum, ProviderEnum, RegionEnum } from './enums.ts'
import { CONSENT_OPERATION_ERRORS } from './errors.ts'

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
    args: { id: t.arg.id({ required: true, validate: ID_ARG }) },
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
    args: { id: t.arg.id({ required: true, validate: ID_ARG }) },
    resolve: async (_root, { id }, context) => ({
      consent: await context.services.consents.revoke(callerOf(context), consentIdFrom(id)),
    }),
  }),
)
