// The queries about consents: one by id, and the caller's list.
import { ConsentNotFoundError, ValidationError } from '../domain/errors.ts'
import * as z from '../domain/zod.ts'
import { builder } from './builder.ts'
import { callerOf, consentIdFrom, FORWARD_PAGE_ARGS, ID_ARG } from './caller.ts'
import { ConsentRef } from './consent-node.ts'
import { ConsentStatusEnum, ProviderEnum } from './enums.ts'

const ConsentFilterInput = builder.inputType('ConsentFilter', {
  fields: (t) => ({
    status: t.field({ type: [ConsentStatusEnum], description: 'Any of these effective statuses.' }),
    provider: t.field({ type: ProviderEnum }),
    userId: t.string({ validate: z.string().check(z.minLength(1), z.maxLength(128)) }),
    institutionId: t.string({ validate: z.string().check(z.minLength(1), z.maxLength(64)) }),
  }),
})

builder.queryField('consent', (t) =>
  t.field({
    type: ConsentRef,
    description:
      "One consent. Another tenant's id (with an end user's token, another user's, or one outside the token's " +
      'consents) answers CONSENT_NOT_FOUND, exactly like a missing one.',
    authScopes: { consentsRead: true },
    errors: { types: [ValidationError, ConsentNotFoundError], directResult: true, union: { name: 'ConsentResult' } },
    args: { id: t.arg.id({ required: true, validate: ID_ARG }) },
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
