// Opaque, signed pagination cursors bound to the query that produced them: a cursor from another filter, another
// tenant or a tampered one is rejected with INVALID_CURSOR instead of returning wrong pages.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { InvalidCursorError } from '../domain/errors.ts'

const MAX_CURSOR_LENGTH = 512
const SIGNATURE_BYTES = 16

interface CursorPayload {
  /** Fingerprint of the query (tenant, index, filter). */
  readonly q: string
  /** Where the previous page stopped: the id of the last consent it covered. */
  readonly after: string
}

/** A short, stable fingerprint of any JSON-serialisable query description. */
export function queryFingerprint(query: unknown): string {
  return createHash('sha256').update(stableJson(query)).digest('base64url').slice(0, 22)
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

export class CursorCodec {
  readonly #key: Buffer

  /** @param secret at least 32 bytes of key material; rotating it invalidates outstanding cursors. */
  constructor(secret: string | Uint8Array) {
    this.#key = Buffer.from(secret)
    if (this.#key.length < 32) throw new Error('Cursor signing secret must be at least 32 bytes')
  }

  #sign(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, SIGNATURE_BYTES)
  }

  encode(fingerprint: string, after: string): string {
    const body = Buffer.from(JSON.stringify({ q: fingerprint, after } satisfies CursorPayload)).toString('base64url')
    return `${body}.${this.#sign(body).toString('base64url')}`
  }

  /** Returns the position encoded in `cursor`; throws {@link InvalidCursorError} unless it is ours and for this query. */
  decode(cursor: string, fingerprint: string): string {
    if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw new InvalidCursorError('malformed')
    const [body, signature, extra] = cursor.split('.')
    if (!body || !signature || extra !== undefined) throw new InvalidCursorError('malformed')
    // Compared as text: decoding first would take another spelling of the same bytes (the last character's spare
    // bits) for the signature, so one cursor would have several accepted forms.
    const given = Buffer.from(signature)
    const expected = Buffer.from(this.#sign(body).toString('base64url'))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidCursorError('signature does not match')
    }
    let payload: Partial<CursorPayload>
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<CursorPayload>
    } catch {
      throw new InvalidCursorError('malformed')
    }
    if (payload.q !== fingerprint) throw new InvalidCursorError('it was issued for a different query')
    if (typeof payload.after !== 'string' || payload.after.length === 0) throw new InvalidCursorError('malformed')
    return payload.after
  }
}
