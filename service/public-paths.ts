// The gateway's public URL layout for providers and browsers, in one place: where each provider's notifications
// arrive, and where a provider sends the user's browser back to us. The service hands these URLs out (callback links,
// webhook registrations); http/app.ts declares the routes that answer them, and infra/api.ts routes them on AWS.
import { PROVIDERS, type Provider } from '../domain/provider.ts'

/** A provider's name as it appears in our URLs. */
export const providerSlug = (provider: Provider): string => provider.toLowerCase()

/** The provider a URL names, if any. */
export const providerOfSlug = (value: string | undefined): Provider | undefined =>
  PROVIDERS.find((provider) => providerSlug(provider) === value)

/** Where a provider's notifications arrive (Worldline appends `/notification/status` below it). */
export const notificationPath = (provider: Provider): string => `/webhooks/${providerSlug(provider)}`

/** The prefix of a provider's per-consent callback links. */
export const callbackPrefixPath = (provider: Provider): string => `/callbacks/${providerSlug(provider)}/`

/** The GraphQL API (queries, mutations, SSE subscriptions). */
export const GRAPHQL_PATH = '/graphql'

/** The OAuth 2.0 token endpoint (client credentials, token exchange). */
export const OAUTH_TOKEN_PATH = '/oauth/token'

/** The public halves of the token signing keys (a JWK Set). */
export const JWKS_PATH = '/.well-known/jwks.json'

/** Whether the gateway and its store answer. */
export const HEALTH_PATH = '/healthz'
