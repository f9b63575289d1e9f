// The keys access tokens are signed with: a JSON list of private EC P-256 JWKs (ES256). The first key signs, every key
// verifies, so a rotation is: put a new key first, keep the old one for a token lifetime, then drop it. The public
// halves are what `/.well-known/jwks.json` publishes.
import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'

/** A public key as `/.well-known/jwks.json` lists it. */
export interface PublicJwk {
  readonly kty: 'EC'
  readonly crv: 'P-256'
  readonly x: string
  readonly y: string
  readonly kid: string
  readonly alg: 'ES256'
  readonly use: 'sig'
}

/** A private key as TOKEN_SIGNING_KEYS (and `.data/local-secrets.json`) hold it. */
export interface PrivateJwk {
  readonly kty: 'EC'
  readonly crv: 'P-256'
  readonly x: string
  readonly y: string
  readonly d: string
  readonly kid: string
}

export interface SigningKey {
  readonly kid: string
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly publicJwk: PublicJwk
}

const KID = /^[A-Za-z0-9._-]{1,64}$/

/** The RFC 7638 thumbprint of an EC public key: what a key is named by when its JWK names no `kid`. */
export function thumbprintOf(jwk: { crv: string; kty: string; x: string; y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
  return createHash('sha256').update(canonical).digest('base64url')
}

/** A new private signing key, named by its thumbprint. */
export function newSigningKey(): PrivateJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; y: string; d: string }
  const key = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d } as const
  return { ...key, kid: thumbprintOf(key) }
}

/**
 * Reads a TOKEN_SIGNING_KEYS value: a JSON array of private EC P-256 JWKs, signing key first. Throws an error naming
 * what is wrong with which key (never any of its material).
 *
 * @example
 * parseSigningKeys(JSON.stringify([newSigningKey()]))
 */
export function parseSigningKeys(spec: string): SigningKey[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(spec)
  } catch {
    throw new Error('token signing keys: expected a JSON array of private EC P-256 JWKs')
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new Error('token signing keys: expected a non-empty JSON array of private EC P-256 JWKs')
  }
  const keys = parsed.map((entry: unknown, index) => signingKeyOf(entry, index + 1))
  const kids = new Set(keys.map((key) => key.kid))
  if (kids.size !== keys.length) throw new Error('token signing keys: two keys have the same kid')
  return keys
}

function signingKeyOf(entry: unknown, position: number): SigningKey {
  const wrong = (what: string) => new Error(`token signing keys: key ${position} ${what}`)
  if (typeof entry !== 'object' || entry === null) throw wrong('is not a JWK object')
  const jwk = entry as Record<string, unknown>
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw wrong('is not an EC P-256 key (kty "EC", crv "P-256")')
  if (typeof jwk.d !== 'string') throw wrong('has no private part ("d")')
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw wrong('lacks "x" or "y"')
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || !KID.test(jwk.kid))) {
    throw wrong('has a "kid" that is not 1-64 letters, digits, dot, dash or underscore')
  }
  // Node takes a JWK's x and y as given, even when they are not d's public point (even for d = 0): the point is
  // derived from d here, so a key published with the wrong half, which would verify nothing we sign, is refused.
  let point: Buffer
  try {
    const d = Buffer.from(jwk.d, 'base64url')
    if (d.length !== 32) throw new RangeError('not 32 bytes')
    const ecdh = createECDH('prime256v1')
    ecdh.setPrivateKey(d)
    point = ecdh.getPublicKey()
  } catch {
    throw wrong('is not a valid P-256 private key')
  }
  const exported = { x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }
  if (exported.x !== jwk.x || exported.y !== jwk.y) throw wrong('has "x" and "y" that are not the public half of "d"')
  const privateKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', ...exported, d: jwk.d }, format: 'jwk' })
  const publicKey = createPublicKey(privateKey)
  const kid = typeof jwk.kid === 'string' ? jwk.kid : thumbprintOf({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y })
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { kty: 'EC', crv: 'P-256', x: exported.x, y: exported.y, kid, alg: 'ES256', use: 'sig' },
  }
}
