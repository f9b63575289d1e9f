// The Pothos schema builder and its plugins; types live in their own files (consent.ts, provider.ts, errors.ts).
import SchemaBuilder from '@pothos/core'
import DataloaderPlugin from '@pothos/plugin-dataloader'
import ErrorsPlugin from '@pothos/plugin-errors'
import RelayPlugin from '@pothos/plugin-relay'
import ScopeAuthPlugin from '@pothos/plugin-scope-auth'
import ValidationPlugin from '@pothos/plugin-validation'
import { DateTimeISOResolver } from 'graphql-scalars'
import { ValidationError } from '../domain/errors.ts'
import { decodePublicId, encodePublicId, PUBLIC_ID_PREFIXES, type PublicIdType } from '../domain/ids.ts'
import type { GraphQLContext } from './context.ts'

export const builder = new SchemaBuilder<{
  Context: GraphQLContext
  AuthScopes: { apiClient: boolean }
  Scalars: {
    DateTime: { Input: Date; Output: Date | string }
    ID: { Input: string; Output: string }
  }
  DefaultFieldNullability: false
}>({
  // Errors first: it wraps the others, so validation failures become typed union members.
  plugins: [ErrorsPlugin, ScopeAuthPlugin, ValidationPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (context) => ({ apiClient: context.principal?.kind === 'API_CLIENT' }),
  },
  errors: {
    // Requests are authenticated before execution, so reporting input issues before field authorisation leaks
    // nothing to strangers.
    unsafelyHandleInputErrors: true,
  },
  validation: {
    validationError: (result) =>
      new ValidationError(
        result.issues.map((issue) => ({
          path: (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.'),
          message: issue.message,
        })),
      ),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // Global IDs are the public ids (`consent_01JD...`): readable in logs and webhooks, and still opaque.
    encodeGlobalID: (typename, id) => encodePublicId(typename as PublicIdType, String(id)),
    decodeGlobalID: (globalID) => {
      const decoded = decodePublicId(globalID)
      if (!decoded) throw ValidationError.of('id', `"${globalID.slice(0, 64)}" is not an id of this API`)
      return { typename: decoded.type, id: decoded.id }
    },
    nodeQueryOptions: { authScopes: { apiClient: true } },
    nodesQueryOptions: { authScopes: { apiClient: true } },
  },
})

builder.addScalarType('DateTime', DateTimeISOResolver)

builder.queryType({ authScopes: { apiClient: true } })
builder.mutationType({ authScopes: { apiClient: true } })
builder.subscriptionType({ authScopes: { apiClient: true } })

/** Only ids of types that have a public prefix can be encoded. */
export const PUBLIC_TYPES = Object.keys(PUBLIC_ID_PREFIXES) as PublicIdType[]
