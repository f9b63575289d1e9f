// Short signed tokens for URLs: `<payload, base64url>.<signature, base64url>`, the signature 128 bits of HMAC-SHA256
// under a key derived for one purpose, so a token signed for one use never verifies for another. The payload is
// encoded, not hidden: whoever holds a token can read it, only the key can make one.
import { createHmac, timingSafeEqual } from 'node:crypto'

/** Bytes of HMAC-SHA256 kept: 128 bits, as much as a URL needs against forgery. */
const SIGNATURE_BYTES = 16

export class SignedTokens {
  readonly #key: Buffer

  /**
   * @param secret key material; a key for `purpose` is derived from it.
   * @param purpose what the tokens are for (a fixed string per use).
   * @param maxLength the longest token `open` looks at; longer ones are refused before any work.
   */
  constructor(
    secret: string,
    purpose: string,
    private readonly maxLength: number,
  ) {
    this.#key = createHmac('sha256', secret).update(purpose).digest()
  }

  #sign(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, SIGNATURE_BYTES)
  }

  /** A token carrying `payload`. */
  seal(payload: string): string {
    const body = Buffer.from(payload).toString('base64url')
    return `${body}.${this.#sign(body).toString('base64url')}`
  }

  /** The payload of a token this key sealed; null for anything else (altered, another key or purpose, malformed). */
  open(token: string): string | null {
    const [body, signature, extra] = token.split('.')
    if (!body || !signature || extra !== undefined || token.length > this.maxLength) return null
    // Compared as text: decoding first would take another spelling of the same bytes (the last character's spare
    // bits) for the signature, so one genuine token would have several accepted forms.
    const given = Buffer.from(signature)
    const expected = Buffer.from(this.#sign(body).toString('base64url'))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
    return Buffer.from(body, 'base64url').toString('utf8')
  }
}
