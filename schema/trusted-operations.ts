// Which documents a request may run, by caller (@graphql-yoga/plugin-persisted-operations): an end user's token runs
// only its tenant's registered documents, named by GraphQL over HTTP's `documentId` (POST body, or GET's query string)
// or by Apollo's APQ hash (`extensions.persistedQuery`, version 1); a partner (Basic, its bearer token) may also send
// any document's text. Nothing is ever registered here: APQ's "hash and text together" is just a document's text,
// which an end user may not send. The lookup is in the authenticated caller's tenant, so another tenant's id is
// unknown; whatever a document is, it is then parsed, validated and held to the query limits like any other.
import { defaultExtractPersistedOperationId, usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations'
import { GraphQLError } from 'graphql'
import type { GraphQLParams, Plugin } from 'graphql-yoga'
import type { ErrorCode } from '../domain/errors.ts'
import type { Principal } from '../service/principal.ts'
import type { TrustedDocuments } from '../service/trusted-documents.ts'

/**
 * The id a request names its document by: `documentId` (GraphQL over HTTP's trusted documents), from a POST body or
 * a GET's query string (yoga's GET parser keeps only the standard parameters), else APQ's hash; null when neither.
 */
function documentIdOf(params: GraphQLParams, request: Request): string | null {
  const documentId = (params as GraphQLParams & { documentId?: unknown }).documentId
  if (documentId !== undefined && documentId !== null) return typeof documentId === 'string' ? documentId : ''
  if (request.method === 'GET') {
    const fromQuery = new URL(request.url).searchParams.get('documentId')
    if (fromQuery !== null) return fromQuery
  }
  return defaultExtractPersistedOperationId(params, request, {})
}

const notInList = () =>
  new GraphQLError("No document is registered under this documentId or hash for the caller's tenant.", {
    // A request error: 400 as application/graphql-response+json, 200 as application/json (GraphQL over HTTP).
    extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' satisfies ErrorCode, http: { status: 400, spec: true } },
  })

const persistedOnly = () =>
  new GraphQLError(
    "An end user's token runs its tenant's registered documents only: send the document's documentId (or APQ hash), not its text.",
    { extensions: { code: 'PERSISTED_QUERY_ONLY' satisfies ErrorCode, http: { status: 403 } } },
  )

const noDocument = () =>
  new GraphQLError('Send a query, a documentId, or an APQ hash (extensions.persistedQuery).', {
    // A malformed request (no query, a query that is not a string, a misspelt key) whatever it accepts, as yoga answers
    // one: 400 (graphql-http's audits LKJ1, LKJ2, 8764, 3E3A).
    extensions: { code: 'BAD_REQUEST' satisfies ErrorCode, http: { status: 400 } },
  })

export function useTrustedOperations(
  documents: Pick<TrustedDocuments, 'find'>,
  principals: WeakMap<Request, Principal>,
): Plugin {
  return usePersistedOperations({
    // Authentication ran before (request-guard.ts), so every request here has its principal.
    allowArbitraryOperations: (request) => principals.get(request)?.kind === 'API_CLIENT',
    extractPersistedOperationId: (params, request) => documentIdOf(params, request),
    getPersistedOperation: async (key, request) => {
      const principal = principals.get(request)
      return principal ? documents.find(principal.tenantId, key) : null
    },
    customErrors: { notFound: notInList, persistedQueryOnly: persistedOnly, keyNotFound: noDocument },
  })
}
