// Finqware adapter settings, with their defaults in one place.
import type { HttpClientOptions } from '../http-client.ts'

export interface FinqwareConfig {
  /** Environment host, e.g. `https://your-env.finqware.com`, or the local sandbox's URL. */
  readonly baseUrl: string
  /**
   * Path prefix of the AIS API. Finqware's changelog puts AIS on `/v2` paths and its Quick Start names a `/test`
   * prefix for test data; which one an environment uses is not published, so it is configurable.
   * @default '/v2'
   */
  readonly pathPrefix?: string
  /** Sent as `client_id` in every body, in both modes (Finqware requires it even with a Bearer token). */
  readonly clientId: string
  /** Authenticates us at the token endpoint (`oauth2`), or travels in every body (`internal`). */
  readonly clientSecret: string
  /**
   * `oauth2`: every call carries a Bearer token from {@link FinqwareConfig.tokenUrl}, and the body no secret; what
   * production uses (Finqware's Get Consent page calls the body secret the mode "e.g., test-only"). `internal`: the
   * secret in every body.
   * @default 'oauth2'
   */
  readonly authMode?: 'oauth2' | 'internal'
  /**
   * Finqware's OAuth2 token endpoint (client-credentials grant, HTTP Basic client authentication). Its path is our
   * guess (docs/providers.md, Finqware section), so it is configurable.
   * @default `${baseUrl}/oauth2/token`
   */
  readonly tokenUrl?: string
  /**
   * Renew the token this long before its `expires_in` runs out (at most half its lifetime), so a call never sets off
   * with a token about to lapse.
   * @default 60
   */
  readonly tokenRenewalMarginSeconds?: number
  /**
   * Where the webhook signing keys are published.
   * @default `${baseUrl}/.well-known/jwks.json`
   */
  readonly jwksUrl?: string
  /**
   * Shortest time between two JWKS refetches triggered by an unknown kid (bounds what forged kids can cost).
   * @default 1_000
   */
  readonly jwksRefetchCooldownMs?: number
  /**
   * How long the institution list is cached.
   * @default 600_000 (10 minutes)
   */
  readonly institutionsCacheMs?: number
  readonly http?: HttpClientOptions
}
