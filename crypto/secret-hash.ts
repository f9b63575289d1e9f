// API client secrets are stored only as salted hashes: a leaked table does not leak working credentials. Two kinds:
// - Secrets the gateway generates (32 random bytes, `issueSecret`): one keyed SHA-256, `hmac-sha256$salt$hash`, an
//   HMAC keyed with a random salt over the secret. A 256-bit random secret cannot be guessed, so a slow hash adds no
//   strength (scrypt's cost protects secrets of low entropy, which these are not) and would cost every first request
//   of a Basic credential tens of milliseconds.
// - Secrets an operator chooses (`hashSecret`: seeding a known client), which may be weak: scrypt. Its format
//   (`scrypt-sha256`) runs scrypt over the secret's SHA-256: scrypt keys its HMAC with the password, and HMAC pads a
//   short key with zero bytes, so over the secret's own bytes `s` and `s\0` derive the same hash; a fixed-length digest
//   binds the length. Hashes of the first format (`scrypt`, over the secret's bytes) still verify their exact secret,
//   and no secret with a NUL byte verifies against them.
// Every format is tagged by its first field, so stored hashes of each kind verify side by side.
import {
  createHash,
  createHmac,
  randomBytes,
  scrypt,
  timingSafeEqual,
  type BinaryLike,
  type ScryptOptions,
} from 'node:crypto'

const PARAMS = { N: 16_384, r: 8, p: 1 } as const
const KEY_LENGTH = 32
const SCHEME = 'scrypt-sha256'
const LEGACY_SCHEME = 'scrypt'
const KEYED_SCHEME = 'hmac-sha256'
/** Bytes of a generated secret (256 bits), of a keyed hash's salt, and of its digest. */
const GENERATED_BYTES = 32
const KEYED_SALT_BYTES = 16
const KEYED_DIGEST_BYTES = 32
/** Bounds what a stored hash may ask for (a corrupted item must not make one check take seconds or gigabytes). */
const MAX_N = 1 << 20

const derive = (password: BinaryLike, salt: Buffer, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )

const digestOf = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest()

/** `scrypt-sha256$N$r$p$salt$hash`, salt and hash in base64url: for a secret someone chose, which may be weak. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(digestOf(secret), salt, PARAMS)
  return [SCHEME, PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

const keyedDigest = (secret: string, salt: Buffer): Buffer => createHmac('sha256', salt).update(secret, 'utf8').digest()

/**
 * A new random secret (32 bytes, base64url) and its stored hash, `hmac-sha256$salt$hash` (base64url). Only for secrets
 * made here: a secret someone chose goes through {@link hashSecret}.
 */
export function issueSecret(): { secret: string; secretHash: string } {
  const secret = randomBytes(GENERATED_BYTES).toString('base64url')
  const salt = randomBytes(KEYED_SALT_BYTES)
  return {
    secret,
    secretHash: [KEYED_SCHEME, salt.toString('base64url'), keyedDigest(secret, salt).toString('base64url')].join('$'),
  }
}

/** Whether checking a secret against `stored` costs a scrypt derivation (the formats for secrets someone chose). */
export const usesScrypt = (stored: string): boolean => {
  const scheme = stored.slice(0, stored.indexOf('$'))
  return scheme === SCHEME || scheme === LEGACY_SCHEME
}

function verifyKeyed(secret: string, fields: readonly string[]): boolean {
  const [salt, hash, extra] = fields
  if (!salt || !hash || extra !== undefined) return false
  const saltBytes = Buffer.from(salt, 'base64url')
  const expected = Buffer.from(hash, 'base64url')
  if (saltBytes.length !== KEYED_SALT_BYTES || expected.length !== KEYED_DIGEST_BYTES) return false
  return timingSafeEqual(keyedDigest(secret, saltBytes), expected)
}

/** Constant-time check of `secret` against a stored hash (any format); false for any malformed hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, ...fields] = stored.split('$')
  if (scheme === KEYED_SCHEME) return verifyKeyed(secret, fields)
  const [n, r, p, salt, hash, extra] = fields
  if ((scheme !== SCHEME && scheme !== LEGACY_SCHEME) || !n || !r || !p || !salt || !hash || extra !== undefined) {
    return false
  }
  const options = { N: Number(n), r: Number(r), p: Number(p) }
  if (!(
    options.N > 1 &&
    options.N <= MAX_N &&
    options.r >= 1 &&
    options.r <= 32 &&
    options.p >= 1 &&
    options.p <= 16
  )) {
    return false
  }
  const expected = Buffer.from(hash, 'base64url')
  const password = scheme === SCHEME ? digestOf(secret) : secret
  let actual: Buffer
  try {
    actual = await derive(password, Buffer.from(salt, 'base64url'), options)
  } catch {
    return false
  }
  const equal = actual.length === expected.length && timingSafeEqual(actual, expected)
  // The first format cannot tell `s` from `s\0`; the work is done either way, so the answer takes the same time.
  return equal && (scheme === SCHEME || !secret.includes('\u0000'))
}
