// The Pothos schema builder and its plugins; types live in their own files (consent-node.ts, provider.ts, errors.ts).
import SchemaBuilder from '@pothos/core'
import DataloaderPlugin from '@pothos/plugin-dataloader'
import ErrorsPlugin from '@pothos/plugin-errors'
import RelayPlugin from '@pothos/plugin-relay'
import ScopeAuthPlugin from '@pothos/plugin-scope-auth'
import ValidationPlugin from '@pothos/plugin-validation'
import { DateTimeISOResolver } from 'graphql-scalars'
import { ForbiddenError, ValidationError } from '../domain/errors.ts'
import { decodePublicId, encodePublicId, PUBLIC_ID_PREFIXES, type PublicIdType } from '../domain/ids.ts'
import type { GraphQLContext } from './context.ts'

export const builder = new SchemaBuilder<{
  Context: GraphQLContext
  AuthScopes: {
    /** Any valid credential: HTTP Basic, a partner's bearer token, an end user's token. */
    authenticated: boolean
    /** The partner itself (Basic or its bearer token): tenant-wide fields, webhooks, minting user tokens. */
    partner: boolean
    /** Reading consents: the partner, or an end user's token (consents:read or consents:write). */
    consentsRead: boolean
    /** Changing consents: the partner, or an end user's token with consents:write. */
    consentsWrite: boolean
    /** Creating consents: as consentsWrite, but not a token restricted to some consents. */
    consentsCreate: boolean
  }
  Scalars: {
    DateTime: { Input: Date; Output: Date | string }
    ID: { Input: string; Output: string }
  }
  DefaultFieldNullability: false
}>({
  // Errors first: it wraps the others, so validation failures become typed union members.
  plugins: [ErrorsPlugin, ScopeAuthPlugin, ValidationPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  // The first line of access control: which kind of credential may use a field (FORBIDDEN otherwise). The use cases
  // in service/ check the same rules again and scope every read to what the caller may see.
  scopeAuth: {
    authorizeOnSubscribe: true,
    unauthorizedError: (_parent, _context, info) =>
      new ForbiddenError(`These credentials may not use ${info.parentType.name}.${info.fieldName}`),
    authScopes: ({ principal }) => {
      const user = principal?.kind === 'END_USER' ? principal : null
      const partner = principal?.kind === 'API_CLIENT'
      const write = partner || !!user?.scopes.includes('consents:write')
      return {
        authenticated: principal !== null,
        partner,
        consentsRead: partner || (user !== null && user.scopes.length > 0),
        consentsWrite: write,
        consentsCreate: write && !user?.consentIds,
      }
    },
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
    nodeQueryOptions: { authScopes: { consentsRead: true } },
    nodesQueryOptions: { authScopes: { consentsRead: true } },
  },
})

builder.addScalarType('DateTime', DateTimeISOResolver)

builder.queryType({ authScopes: { authenticated: true } })
builder.mutationType({ authScopes: { authenticated: true } })
builder.subscriptionType({ authScopes: { authenticated: true } })

/** Only ids of types that have a public prefix can be encoded. */
export const PUBLIC_TYPES = Object.keys(PUBLIC_ID_PREFIXES) as PublicIdType[]
