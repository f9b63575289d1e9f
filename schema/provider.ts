// The providers this deployment speaks to: what each can do, and which institutions (banks) it offers.
import type { ProviderAdapter } from '../providers/adapter.ts'
import { builder } from './builder.ts'
import { callerOf } from './caller.ts'
import { InstitutionRef } from './consent-node.ts'
import { ProviderEnum, RegionEnum } from './enums.ts'
import { ScopeSetRef } from './errors.ts'

const CapabilitiesRef = builder.objectRef<ProviderAdapter['capabilities']>('ProviderCapabilities').implement({
  fields: (t) => ({
    reauthorize: t.exposeBoolean('reauthorize', { description: 'reauthorizeConsent works (same consent id).' }),
    reconfirm: t.exposeBoolean('reconfirm', { description: 'reconfirmConsent works (UK 90-day reconfirmation).' }),
    delete: t.exposeBoolean('delete', { description: 'deleteConsent works.' }),
    webhooks: t.exposeBoolean('webhooks', { description: 'The provider pushes changes; otherwise they are polled.' }),
    supersedesOlderConsents: t.exposeBoolean('supersedesOlderConsents', {
      description: "Authorising a consent ends the user's older consents at the same bank (they become SUPERSEDED).",
    }),
    scopes: t.field({ type: [ScopeSetRef], resolve: (caps) => [...caps.scopes], description: 'Grantable scope sets.' }),
    regions: t.field({ type: [RegionEnum], resolve: (caps) => [...caps.regions] }),
    maxValidityDays: t.exposeInt('maxValidityDays'),
  }),
})

const ProviderInfoRef = builder.objectRef<ProviderAdapter>('ProviderInfo').implement({
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, resolve: (adapter) => adapter.provider }),
    name: t.exposeString('displayName'),
    capabilities: t.field({ type: CapabilitiesRef, resolve: (adapter) => adapter.capabilities }),
    institutions: t.field({
      type: [InstitutionRef],
      description: 'Read from the provider (cached for a few minutes).',
      resolve: (adapter, _args, context) =>
        context.services.operations.institutions(callerOf(context), adapter.provider),
    }),
  }),
})

builder.queryField('providers', (t) =>
  t.field({
    type: [ProviderInfoRef],
    description: 'Every provider configured in this deployment.',
    resolve: (_root, _args, context) => {
      callerOf(context)
      const { providers } = context.services
      return Promise.all(providers.providers().map((provider) => providers.get(provider)))
    },
  }),
)
