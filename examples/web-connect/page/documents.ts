// The page's operations as gql.tada persisted documents: typed like the operations themselves (operations.ts, imported
// for its types only, so no document text reaches the browser), carrying nothing at run time but their documentId.
import { graphql } from '../graphql.ts'
import { DOCUMENT_IDS } from '../document-ids.ts'
import type {
  ConnectConsentUpdated as ConsentUpdatedDocument,
  ConnectCreateConsent as CreateConsentDocument,
  ConnectProviders as ProvidersDocument,
  ConnectRevokeConsent as RevokeConsentDocument,
} from '../operations.ts'

export const ConnectProviders = graphql.persisted<typeof ProvidersDocument>(DOCUMENT_IDS.ConnectProviders)
export const ConnectCreateConsent = graphql.persisted<typeof CreateConsentDocument>(DOCUMENT_IDS.ConnectCreateConsent)
export const ConnectConsentUpdated = graphql.persisted<typeof ConsentUpdatedDocument>(
  DOCUMENT_IDS.ConnectConsentUpdated,
)
export const ConnectRevokeConsent = graphql.persisted<typeof RevokeConsentDocument>(DOCUMENT_IDS.ConnectRevokeConsent)
