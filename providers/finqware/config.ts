// Finqware adapter settings, with their defaults in one place.
import type { HttpClientOptions } from '../http-client.ts'

export interface FinqwareConfig {
  /** Environment host, e.g. `https://your-env.finqware.com`, or the local sandbox's URL. */
  readonly baseUrl: string
  /**
   * Path prefix of the AIS API. Finqware documents `/v2` paths and a `/test` prefix for test data; which one an
   * environment uses is unknown (finqware.md 1.1), so it is configurable.
   * @default '/v2'
   */
  readonly pathPrefix?: string
  readonly clientId: string
  /** Internal (non-OAuth2) mode: the secret travels in the body, as Finqware documents for test environments. */
  readonly clientSecret: string
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
