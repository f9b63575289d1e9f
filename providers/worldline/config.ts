// Worldline adapter settings, with their defaults in one place.
import type { HttpClientOptions } from '../http-client.ts'

export interface WorldlineConfig {
  /** Host of the routing service, e.g. `https://xs2a.awltest.de`, or the local sandbox's URL. */
  readonly baseUrl: string
  /** The `Client` header of the token request: our client id in the back office. */
  readonly clientId: string
  /**
   * The token request's `Id` header: our Initiating Party id at Worldline (its OAuth spec v1.4.5), e.g. `433`.
   */
  readonly initiatingPartyId: string
  /**
   * Our sub id under that Initiating Party, sent as `<id>:<sub id>` (e.g. `433:5`).
   * @default undefined (the Id is the Initiating Party id alone)
   */
  readonly initiatingPartySubId?: string
  /** `keyId` of the token request's HTTP signature (the SHA-1 thumbprint of the uploaded certificate). */
  readonly keyId: string
  /** The private key matching the uploaded certificate (PEM), signing the token request. */
  readonly privateKeyPem: string
  /** The Notification Bearer Token configured in the back office; inbound notifications must carry it. */
  readonly notificationToken: string
  /**
   * Renew a token this long before it expires.
   * @default 60
   */
  readonly tokenRenewalMarginSeconds?: number
  /**
   * How long the ASPSP directory is cached (Worldline asks for a daily refresh at most).
   * @default 3_600_000
   */
  readonly institutionsCacheMs?: number
  readonly http?: HttpClientOptions
}
