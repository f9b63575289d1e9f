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
   * How long the institution list is cached.
   * @default 3_600_000
   */
  readonly institutionsCacheMs?: number
  readonly http?: HttpClientOptions
}
