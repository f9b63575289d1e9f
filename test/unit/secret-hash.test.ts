// API client secret hashes: generated secrets under one keyed SHA-256, secrets an operator chooses under scrypt, and
// every earlier format still verifying its exact secret.
import { describe, expect, it } from 'vitest'
import { hashSecret, issueSecret, usesScrypt, verifySecret } from '../../crypto/secret-hash.ts'

/** Made by the first version of secret-hash.ts (scrypt over the secret's bytes). */
const LEGACY_SECRET = 'legacy-secret-0123456789abcdef'
const LEGACY_HASH = 'scrypt$16384$8$1$a6XbsfDuwUZeAuKOJ6YTMg$5glqYa1R0EhLLtP4Fh_kyn6YR--1eDp0c5O5H2Y2RcI'

describe('generated secrets', () => {
  it('are 32 random bytes, stored as a salted keyed SHA-256 tagged hmac-sha256 that verifies only them', async () => {
    const { secret, secretHash } = issueSecret()
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32)
    expect(secretHash).toMatch(/^hmac-sha256\$[\w-]{22}\$[\w-]{43}$/)
    expect(secretHash).not.toContain(secret)
    expect(await verifySecret(secret, secretHash)).toBe(true)
    for (const wrong of [`${secret}x`, `${secret}\u0000`, secret.slice(1), '', issueSecret().secret]) {
      expect(await verifySecret(wrong, secretHash)).toBe(false)
    }
    // A new salt each time: the same secret never gives the same stored hash.
    const again = issueSecret()
    expect(again.secret).not.toBe(secret)
    expect(again.secretHash.split('$')[1]).not.toBe(secretHash.split('$')[1])
  })

  it('refuses a malformed keyed hash rather than guessing', async () => {
    const { secret, secretHash } = issueSecret()
    const [scheme, salt, hash] = secretHash.split('$') as [string, string, string]
    for (const broken of [
      `${scheme}$${salt}`,
      `${scheme}$${salt}$${hash}$extra`,
      `${scheme}$$${hash}`,
      `${scheme}$${salt}$`,
      `${scheme}$${salt}$${hash.slice(0, 20)}`,
      `${scheme}$${salt.slice(0, 8)}$${hash}`,
      `HMAC-SHA256$${salt}$${hash}`,
      `scrypt-sha256$${salt}$${hash}`,
    ]) {
      expect(await verifySecret(secret, broken)).toBe(false)
    }
  })
})

describe('secrets an operator chooses, and stored hashes of earlier formats', () => {
  it('keep scrypt: a chosen secret is hashed scrypt-sha256, and both scrypt formats still verify', async () => {
    const chosen = 'correct-horse-battery-staple-42'
    const stored = await hashSecret(chosen)
    expect(stored).toMatch(/^scrypt-sha256\$16384\$8\$1\$[\w-]+\$[\w-]+$/)
    expect(await verifySecret(chosen, stored)).toBe(true)
    expect(await verifySecret(`${chosen}\u0000`, stored)).toBe(false)
    expect(await verifySecret(LEGACY_SECRET, LEGACY_HASH)).toBe(true)
    expect(await verifySecret(`${LEGACY_SECRET}x`, LEGACY_HASH)).toBe(false)
  })

  it('tells which stored hashes cost a scrypt check', async () => {
    expect(usesScrypt(await hashSecret('correct-horse-battery-staple-42'))).toBe(true)
    expect(usesScrypt(LEGACY_HASH)).toBe(true)
    expect(usesScrypt(issueSecret().secretHash)).toBe(false)
    expect(usesScrypt('')).toBe(false)
  })
})
