// The example's GraphQL operations, typed by gql.tada. The page's (Connect*) are registered with the tenant as trusted
// documents and the page sends only their ids (documents.ts); the backend's (CreateUserToken) goes as text, which
// partner credentials may send.
import { graphql } from './graphql.ts'

/** What the page shows of a consent. */
export const ConsentState = graphql(`
  fragment ConsentState on Consent {
    id
    status
    statusReason
    provider
    institution {
      id
      name
    }
    authorizationUrl
    canAccessData
    updatedAt
  }
`)

/** Providers and their banks, for the pickers. */
export const ConnectProviders = graphql(`
  query ConnectProviders {
    providers {
      provider
      name
      capabilities {
        regions
      }
      institutions {
        id
        name
        country
        region
      }
    }
  }
`)

/** A consent for the token's user (createConsent takes the user from the token). */
export const ConnectCreateConsent = graphql(
  `
    mutation ConnectCreateConsent($input: CreateConsentInput!) {
      createConsent(input: $input) {
        __typename
        ... on CreateConsentPayload {
          consent {
            ...ConsentState
          }
        }
        ... on Error {
          code
          message
        }
      }
    }
  `,
  [ConsentState],
)

/** The consent now, then every change, until it ends. */
export const ConnectConsentUpdated = graphql(
  `
    subscription ConnectConsentUpdated($id: ID!) {
      consentUpdated(id: $id) {
        ...ConsentState
      }
    }
  `,
  [ConsentState],
)

export const ConnectRevokeConsent = graphql(
  `
    mutation ConnectRevokeConsent($id: ID!) {
      revokeConsent(id: $id) {
        __typename
        ... on RevokeConsentPayload {
          consent {
            ...ConsentState
          }
        }
        ... on Error {
          code
          message
        }
      }
    }
  `,
  [ConsentState],
)

/** The page's operations, by the name its ids are generated under. */
export const PAGE_OPERATIONS = {
  ConnectProviders,
  ConnectCreateConsent,
  ConnectConsentUpdated,
  ConnectRevokeConsent,
} as const

/** The backend's: a token for its logged-in user, with the partner's bearer token. */
export const CreateUserToken = graphql(`
  mutation CreateUserToken($userId: String!, $scopes: [UserTokenScope!]!, $expiresInSeconds: Int) {
    createUserToken(userId: $userId, scopes: $scopes, expiresInSeconds: $expiresInSeconds) {
      __typename
      ... on CreateUserTokenPayload {
        accessToken
        expiresAt
        expiresIn
      }
      ... on ValidationError {
        message
      }
    }
  }
`)
