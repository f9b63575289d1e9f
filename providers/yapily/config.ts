// Yapily adapter settings, with their defaults in one place.
import type { HttpClientOptions } from '../http-client.ts'

export interface YapilyConfig {
  /** `https://api.yapily.com`, or the local sandbox's URL. */
  readonly baseUrl: string
  /** Application ID (HTTP Basic user name). */
  readonly applicationKey: string
  /** Application Secret (HTTP Basic password). */
  readonly applicationSecret: string
  /**
   * The `webhookSecret` Yapily returned when our webhook was registered (`POST /webhook/events`). Without it no
   * notification is accepted: every change is found by reading.
   */
  readonly webhookSecret?: string | undefined
  /**
   * The header Yapily's webhook signature (`sha256=<hex HMAC-SHA256 of the body>`) travels in. Our guess: Yapily
   * publishes no signature scheme (docs/providers.md, Yapily).
   * @default 'X-Yapily-Signature'
   */
  readonly webhookSignatureHeader?: string | undefined
  /**
   * The webhook category of consent status events, and the `type` they carry; other types are acknowledged and
   * ignored. Our guess: Yapily publishes no consent category (docs/providers.md, Yapily).
   * @default 'consent.status'
   */
  readonly webhookConsentEventType?: string | undefined
  /**
   * How long the institution list is cached.
   * @default 3_600_000
   */
  readonly institutionsCacheMs?: number
  readonly http?: HttpClientOptions
}
