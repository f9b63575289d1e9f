// Partner webhooks are signed the Standard Webhooks way (https://www.standardwebhooks.com/), so a partner can verify
// them with any of that project's libraries: HMAC-SHA256 over `${id}.${timestamp}.${body}`, keys as `whsec_<base64>`.
// Signed here rather than by the `standardwebhooks` package, which test/unit/webhook-signing.test.ts verifies us
// against: that package hashes in JavaScript (fast-sha256) where node:crypto is native, signs with one secret per
// instance where a rotation sends two, accepts a key of any length, and is a dev dependency only.
import { createHmac, randomBytes } from 'node:crypto'

/** How a symmetric Standard Webhooks secret is recognised: `whsec_` then the key bytes in base64. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_'

/** Key length of a new secret: 32 bytes, inside the spec's 24 to 64. */
const NEW_SECRET_BYTES = 32
const MIN_SECRET_BYTES = 24
const MAX_SECRET_BYTES = 64
// Standard base64 with its padding: what the reference libraries decode; Buffer.from would accept far more.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
// The id is signed between dots, so a dot in it would let two (id, timestamp) pairs share a signed string; it also
// travels as a header value, so printable ASCII only.
const WEBHOOK_ID = /^[\x21-\x2d\x2f-\x7e]+$/

/** The three Standard Webhooks headers, lower-case as sent. */
export type WebhookSignatureHeaders = {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

export interface WebhookToSign {
  /** The message id, the same on every retry of one event: partners de-duplicate on it. No `.` and no spaces. */
  readonly id: string
  /** When this attempt is made (not when the event happened): partners reject attempts outside their tolerance. */
  readonly timestamp: Date
  /** The exact bytes that will be sent: a re-serialised body would not verify. */
  readonly body: string
  /** Current secret first; during a rotation also the previous one, so partners on either secret verify. */
  readonly secrets: readonly string[]
}

/**
 * A secret that is not `whsec_` + standard base64 of 24 to 64 bytes. It carries the secret's position in the list,
 * never the secret itself, so it can be logged.
 */
export class MalformedWebhookSecretError extends Error {
  override readonly name = 'MalformedWebhookSecretError'

  constructor(
    readonly secretIndex: number,
    readonly problem: string,
  ) {
    super(`webhook secret #${secretIndex} is malformed: ${problem}`)
  }
}

/**
 * A new random signing secret for one partner endpoint.
 *
 * @example
 * generateWebhookSecret() // 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw...='
 */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(NEW_SECRET_BYTES).toString('base64')
}

/**
 * The Standard Webhooks headers for one delivery attempt: one `v1` signature per secret, space-separated.
 *
 * @throws {MalformedWebhookSecretError} for a secret not in the `whsec_` format (or no secret at all)
 * @throws {RangeError} for an id with a `.`, a space or a non-ASCII character, or an invalid Date
 *
 * @example
 * const headers = signWebhook({ id: 'msg_01J...', timestamp: new Date(), body, secrets: [current, previous] })
 * // { 'webhook-id': 'msg_01J...', 'webhook-timestamp': '1767225600', 'webhook-signature': 'v1,K5o... v1,hn0...' }
 */
export function signWebhook(input: WebhookToSign): WebhookSignatureHeaders {
  if (!WEBHOOK_ID.test(input.id)) {
    throw new RangeError('webhook id must be non-empty printable ASCII without spaces or dots')
  }
  const seconds = Math.floor(input.timestamp.getTime() / 1000)
  if (!Number.isFinite(seconds)) throw new RangeError('webhook timestamp is not a valid Date')
  if (input.secrets.length === 0) throw new MalformedWebhookSecretError(0, 'no secret given')
  const keys = input.secrets.map(decodeSecret)

  const signed = `${input.id}.${seconds}.${input.body}`
  const signatures = keys.map((key) => `v1,${createHmac('sha256', key).update(signed, 'utf8').digest('base64')}`)
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signatures.join(' '),
  }
}

function decodeSecret(secret: string, index: number): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    throw new MalformedWebhookSecretError(index, `it does not start with ${WEBHOOK_SECRET_PREFIX}`)
  }
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length)
  if (encoded === '' || !BASE64.test(encoded)) {
    throw new MalformedWebhookSecretError(index, `what follows ${WEBHOOK_SECRET_PREFIX} is not padded standard base64`)
  }
  const key = Buffer.from(encoded, 'base64')
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new MalformedWebhookSecretError(
      index,
      `the key is ${key.length} bytes, not ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES}`,
    )
  }
  return key
}
