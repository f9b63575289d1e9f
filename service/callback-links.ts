// Per-consent callback links: where a provider sends the user's browser back to us (Yapily's callback) before we send
// it on to the partner. The path carries the tenant and consent, signed (crypto/signed-tokens.ts), so a browser
// cannot aim it at another consent.
import type { Provider } from '../domain/provider.ts'
import { SignedTokens } from '../crypto/signed-tokens.ts'
import { callbackPrefixPath } from './public-paths.ts'

export interface CallbackTarget {
  readonly tenantId: string
  readonly consentId: string
}

/** The longest link token read: a tenant and a consent id take well under it. */
const MAX_TOKEN_LENGTH = 256

export class CallbackLinks {
  readonly #tokens: SignedTokens

  /** @param secret key material; a purpose-specific key is derived from it. */
  constructor(
    secret: string,
    private readonly baseUrl: string,
  ) {
    this.#tokens = new SignedTokens(secret, 'consent-gateway/callback-links', MAX_TOKEN_LENGTH)
  }

  /** The path prefix to register at the provider (a trailing-slash entry covers every consent's link). */
  prefix(provider: Provider): string {
    return `${this.baseUrl.replace(/\/$/, '')}${callbackPrefixPath(provider)}`
  }

  urlFor(provider: Provider, target: CallbackTarget): string {
    return `${this.prefix(provider)}${this.#tokens.seal(`${target.tenantId}.${target.consentId}`)}`
  }

  /** The consent a link names; null for anything we did not sign. */
  read(token: string): CallbackTarget | null {
    const payload = this.#tokens.open(token)
    if (payload === null) return null
    const [tenantId, consentId] = payload.split('.')
    return tenantId && consentId ? { tenantId, consentId } : null
  }
}
