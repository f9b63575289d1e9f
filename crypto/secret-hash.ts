// API client secrets are stored only as scrypt hashes: a leaked table does not leak working credentials. The current
// format (`scrypt-sha256`) runs scrypt over the secret's SHA-256: scrypt keys its HMAC with the password, and HMAC pads
// a short key with zero bytes, so over the secret's own bytes `s` and `s\0` derive the same hash; a fixed-length
// digest binds the length. Hashes of the first format (`scrypt`, over the secret's bytes) still verify their exact
// secret, and no secret with a NUL byte verifies against them.
import { createHash, randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto'

const PARAMS = { N: 16_384, r: 8, p: 1 } as const
const KEY_LENGTH = 32
const SCHEME = 'scrypt-sha256'
const LEGACY_SCHEME = 'scrypt'
/** Bounds what a stored hash may ask for (a corrupted item must not make one check take seconds or gigabytes). */
const MAX_N = 1 << 20

const derive = (password: BinaryLike, salt: Buffer, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )

const digestOf = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest()

/** `scrypt-sha256$N$r$p$salt$hash`, salt and hash in base64url. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(digestOf(secret), salt, PARAMS)
  return [SCHEME, PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Constant-time check of `secret` against a stored hash (either format); false for any malformed hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash, extra] = stored.split('$')
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

/** A new random secret: 32 bytes, base64url. */
export const generateSecret = (): string => randomBytes(32).toString('base64url')
