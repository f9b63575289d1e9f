// Typed errors in results: the `Error` interface every error type implements, and one object type per domain error
// a mutation or query can return. Clients match `... on Error { code message }` and narrow where they care.
import {
  ConcurrentModificationError,
  type ConsentGatewayError,
  ConsentNotActiveError,
  ConsentNotFoundError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  InstitutionNotFoundError,
  ProviderRejectedError,
  ProviderUnavailableError,
  ServiceUnavailableError,
  UnsupportedByProviderError,
  UnsupportedScopeError,
  ValidationError,
  type ValidationIssue,
} from '../domain/errors.ts'
import { encodePublicId } from '../domain/ids.ts'
import type { DataScope } from '../domain/provider.ts'
import { builder } from './builder.ts'
import { ConsentStatusEnum, DataScopeEnum, ErrorCodeEnum, ProviderEnum } from './enums.ts'

export const ErrorInterface = builder.interfaceRef<ConsentGatewayError>('Error').implement({
  description: 'Every typed error: a stable code, a human-readable message, and whether retrying can help.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
    message: t.exposeString('message'),
    retryable: t.boolean({ resolve: (error) => error.retryable }),
  }),
})

/** What every error object type shares: the interface, and how a thrown error is recognised as this type. */
const errorBase = (errorClass: abstract new (...args: never[]) => ConsentGatewayError) => ({
  interfaces: [ErrorInterface],
  isTypeOf: (value: unknown) => value instanceof errorClass,
})

/** A set of scopes a provider can grant together. */
export const ScopeSetRef = builder.objectRef<readonly DataScope[]>('ScopeSet').implement({
  fields: (t) => ({ scopes: t.field({ type: [DataScopeEnum], resolve: (set) => [...set] }) }),
})

const ValidationIssueRef = builder.objectRef<ValidationIssue>('ValidationIssue').implement({
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Dotted path of the input field, e.g. `input.validityDays`.' }),
    message: t.exposeString('message'),
  }),
})

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input breaks a rule; nothing was changed.',
  ...errorBase(ValidationError),
  fields: (t) => ({
    issues: t.field({ type: [ValidationIssueRef], resolve: (error) => [...error.issues] }),
  }),
})

builder.objectType(ConsentNotFoundError, {
  name: 'ConsentNotFoundError',
  description: 'No consent with this id is visible to the caller.',
  ...errorBase(ConsentNotFoundError),
  fields: (t) => ({
    consentId: t.id({ resolve: (error) => encodePublicId('Consent', error.consentId) }),
  }),
})

builder.objectType(ConsentNotActiveError, {
  name: 'ConsentNotActiveError',
  description: 'The consent is already over; `status` says how.',
  ...errorBase(ConsentNotActiveError),
  fields: (t) => ({
    consentId: t.id({ resolve: (error) => encodePublicId('Consent', error.consentId) }),
    status: t.field({ type: ConsentStatusEnum, resolve: (error) => error.status }),
  }),
})

builder.objectType(UnsupportedScopeError, {
  name: 'UnsupportedScopeError',
  description: 'The provider cannot grant this combination of scopes.',
  ...errorBase(UnsupportedScopeError),
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, resolve: (error) => error.provider }),
    requested: t.field({ type: [DataScopeEnum], resolve: (error) => [...error.requested] }),
    supportedScopes: t.field({ type: [ScopeSetRef], resolve: (error) => [...error.supportedScopes] }),
  }),
})

builder.objectType(InstitutionNotFoundError, {
  name: 'InstitutionNotFoundError',
  description: 'The provider has no institution with this id.',
  ...errorBase(InstitutionNotFoundError),
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, resolve: (error) => error.provider }),
    institutionId: t.exposeString('institutionId'),
  }),
})

builder.objectType(IdempotencyKeyReusedError, {
  name: 'IdempotencyKeyReusedError',
  description: 'The idempotency key was used with different input.',
  ...errorBase(IdempotencyKeyReusedError),
  fields: (t) => ({
    idempotencyKey: t.exposeString('idempotencyKey'),
  }),
})

builder.objectType(IdempotencyInProgressError, {
  name: 'IdempotencyInProgressError',
  description: 'A request with this key is still running.',
  ...errorBase(IdempotencyInProgressError),
  fields: (t) => ({
    idempotencyKey: t.exposeString('idempotencyKey'),
  }),
})

builder.objectType(ProviderUnavailableError, {
  name: 'ProviderUnavailableError',
  description: 'The provider did not answer usefully; nothing changed.',
  ...errorBase(ProviderUnavailableError),
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, resolve: (error) => error.provider }),
    retryAfterSeconds: t.int({ nullable: true, resolve: (error) => error.retryAfterSeconds }),
  }),
})

builder.objectType(ProviderRejectedError, {
  name: 'ProviderRejectedError',
  description: 'The provider refused the request.',
  ...errorBase(ProviderRejectedError),
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, resolve: (error) => error.provider }),
    providerCode: t.exposeString('providerCode'),
  }),
})

builder.objectType(UnsupportedByProviderError, {
  name: 'UnsupportedByProviderError',
  description: 'The provider does not offer this operation.',
  ...errorBase(UnsupportedByProviderError),
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, resolve: (error) => error.provider }),
    operation: t.exposeString('operation'),
  }),
})

builder.objectType(ConcurrentModificationError, {
  name: 'ConcurrentModificationError',
  description: 'The consent (or the webhook settings) changed meanwhile; retry.',
  ...errorBase(ConcurrentModificationError),
  fields: (t) => ({
    consentId: t.id({
      nullable: true,
      description: 'The consent that changed; null when it was the webhook settings.',
      resolve: (error) => (error.consentId === null ? null : encodePublicId('Consent', error.consentId)),
    }),
  }),
})

builder.objectType(ServiceUnavailableError, {
  name: 'ServiceUnavailableError',
  description: "The gateway's store is unavailable for a moment; retry after `retryAfterSeconds`.",
  ...errorBase(ServiceUnavailableError),
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds'),
  }),
})

/** The errors any operation on an existing consent can return. */
export const CONSENT_OPERATION_ERRORS = [
  ValidationError,
  ConsentNotFoundError,
  ConsentNotActiveError,
  ProviderUnavailableError,
  ProviderRejectedError,
  UnsupportedByProviderError,
  ConcurrentModificationError,
  ServiceUnavailableError,
]
