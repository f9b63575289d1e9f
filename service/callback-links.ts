// Per-consent callback links: where a provider sends the user's browser back to us (Yapily's callback) before we send
// it on to the partner. The path carries the tenant and consent, signed, so a browser cannot aim it at another
// consent, and nothing about the consent can be read from it without the key.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Provider } from '../domain/provider.ts'
import { callbackPrefixPath } from './public-paths.ts'

export interface CallbackTarget {
  readonly tenantId: string
  readonly consentId: string
}

const SIGNATURE_BYTES = 16

export class CallbackLinks {
  readonly #key: Buffer

  /** @param secret key material; a purpose-specific key is derived from it. */
  constructor(
    secret: string,
    private readonly baseUrl: string,
  ) {
    this.#key = createHmac('sha256', secret).update('consent-gateway/callback-links').digest()
  }

  #sign(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, SIGNATURE_BYTES)
  }

  /** The path prefix to register at the provider (a trailing-slash entry covers every consent's link). */
  prefix(provider: Provider): string {
    return `${this.baseUrl.replace(/\/$/, '')}${callbackPrefixPath(provider)}`
  }

  urlFor(provider: Provider, target: CallbackTarget): string {
    const body = Buffer.from(`${target.tenantId}.${target.consentId}`).toString('base64url')
    return `${this.prefix(provider)}${body}.${this.#sign(body).toString('base64url')}`
  }

  /** The consent a link names; null for anything we did not sign. */
  read(token: string): CallbackTarget | null {
    const [body, signature, extra] = token.split('.')
    if (!body || !signature || extra !== undefined || token.length > 256) return null
    const given = Buffer.from(signature, 'base64url')
    const expected = this.#sign(body)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
    const [tenantId, consentId] = Buffer.from(body, 'base64url').toString('utf8').split('.')
    return tenantId && consentId ? { tenantId, consentId } : null
  }
}
