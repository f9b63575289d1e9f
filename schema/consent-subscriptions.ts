// consentUpdated: one consent now, then every change.
import type { Consent } from '../domain/consent.ts'
import { builder } from './builder.ts'
import { callerOf, consentIdFrom, ID_ARG } from './caller.ts'
import { ConsentRef } from './consent-node.ts'

builder.subscriptionField('consentUpdated', (t) =>
  t.field({
    type: ConsentRef,
    description:
      'The consent now, then every change; completes on a terminal status or at the subscription deadline. ' +
      'Ends with an UNAUTHORIZED error once its credential no longer holds: the API client disabled or its secret ' +
      "rotated out, the token expired, or the end user's tokens revoked. Implemented by polling the store.",
    authScopes: { consentsRead: true },
    args: { id: t.arg.id({ required: true, validate: ID_ARG }) },
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
