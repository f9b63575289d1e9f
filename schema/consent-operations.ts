// Mutations only some providers offer: reauthorizeConsent, reconfirmConsent, deleteConsent. A provider without the
// operation answers UNSUPPORTED_BY_PROVIDER (see `providers { capabilities }`).
import type { Consent } from '../domain/consent.ts'
import { builder } from './builder.ts'
import { callerOf, consentIdFrom, ID_ARG } from './caller.ts'
import { ConsentRef } from './consent-node.ts'
import { CONSENT_OPERATION_ERRORS } from './errors.ts'

const payload = (name: string) =>
  builder.objectRef<{ consent: Consent }>(name).implement({
    fields: (t) => ({ consent: t.field({ type: ConsentRef, resolve: (result) => result.consent }) }),
  })

builder.mutationField('reauthorizeConsent', (t) =>
  t.field({
    type: payload('ReauthorizeConsentPayload'),
    description:
      'Starts re-authorisation of the same consent (same id): it becomes AWAITING_REAUTHORIZATION with a new ' +
      'authorizationUrl for the user. If the user declines, the consent stays as it was. From ACTIVE or EXPIRED.',
    authScopes: { consentsWrite: true },
    errors: { types: CONSENT_OPERATION_ERRORS, directResult: true, union: { name: 'ReauthorizeConsentResult' } },
    args: { id: t.arg.id({ required: true, validate: ID_ARG }) },
    resolve: async (_root, { id }, context) => ({
      consent: await context.services.operations.reauthorize(callerOf(context), consentIdFrom(id)),
    }),
  }),
)

builder.mutationField('reconfirmConsent', (t) =>
  t.field({
    type: payload('ReconfirmConsentPayload'),
    description:
      'Records that the user reconfirmed a UK consent at `confirmedAt` (instead of a new SCA): reconfirmBy moves to ' +
      '90 days later. confirmedAt may not be in the future and must be later than the last confirmation; the consent ' +
      'must be ACTIVE.',
    authScopes: { consentsWrite: true },
    errors: { types: CONSENT_OPERATION_ERRORS, directResult: true, union: { name: 'ReconfirmConsentResult' } },
    args: {
      id: t.arg.id({ required: true, validate: ID_ARG }),
      confirmedAt: t.arg({ type: 'DateTime', required: true }),
    },
    resolve: async (_root, { id, confirmedAt }, context) => ({
      consent: await context.services.operations.reconfirm(callerOf(context), consentIdFrom(id), confirmedAt),
    }),
  }),
)

builder.mutationField('deleteConsent', (t) =>
  t.field({
    type: payload('DeleteConsentPayload'),
    description:
      'Deletes the consent at its provider; it ends REVOKED, with `deletion` saying whether the provider and the bank ' +
      'deleted it. Deleting a deleted consent returns it unchanged.',
    authScopes: { consentsWrite: true },
    errors: { types: CONSENT_OPERATION_ERRORS, directResult: true, union: { name: 'DeleteConsentResult' } },
    args: { id: t.arg.id({ required: true, validate: ID_ARG }) },
    resolve: async (_root, { id }, context) => ({
      consent: await context.services.operations.remove(callerOf(context), consentIdFrom(id)),
    }),
  }),
)
