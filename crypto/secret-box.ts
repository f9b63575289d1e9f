// Provider-issued consent secrets (Yapily's consentToken) at rest: AES-256-GCM under a configured key, the key id kept
// beside each ciphertext so keys can rotate (new secrets use the first key; old ones still open with theirs), and the
// consent bound in as additional data, so a ciphertext moved to another consent does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

export interface SealedSecret {
  readonly keyId: string
  /** base64url: 12-byte nonce, ciphertext, 16-byte tag. */
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
}

export interface Keyring {
  /** The key new secrets are sealed with. */
  readonly currentKeyId: string
  readonly keys: ReadonlyMap<string, Buffer>
}

/**
 * Parses `id1:base64key,id2:base64key`: the first key seals, every listed key opens. Rotate by putting a new key
 * first and keeping the old one until nothing sealed with it remains.
 *
 * @example
 * keyringFromSpec(`2026-11:${randomBytes(32).toString('base64')}`)
 */
export function keyringFromSpec(spec: string): Keyring {
  const keys = new Map<string, Buffer>()
  for (const entry of spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(':')
    const id = entry.slice(0, separator)
    const key = Buffer.from(entry.slice(separator + 1), 'base64')
    if (separator < 1 || key.length !== 32)
      throw new Error(`Token encryption key "${id || entry.slice(0, 8)}…" must be "id:<32 bytes base64>"`)
    keys.set(id, key)
  }
  const currentKeyId = keys.keys().next().value
  if (currentKeyId === undefined) throw new Error('No token encryption key configured')
  return { currentKeyId, keys }
}

export class SecretBox {
  constructor(private readonly keyring: Keyring) {}

  seal(plaintext: string, context: string): SealedSecret {
    const key = this.keyring.keys.get(this.keyring.currentKeyId) as Buffer
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return {
      keyId: this.keyring.currentKeyId,
      iv: iv.toString('base64url'),
      ciphertext: ciphertext.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
    }
  }

  /** Opens a sealed secret; throws when the key is unknown, the data was altered, or the context differs. */
  open(sealed: SealedSecret, context: string): string {
    const key = this.keyring.keys.get(sealed.keyId)
    if (!key) throw new Error(`Secret sealed with key "${sealed.keyId}", which is not configured any more`)
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64url'))
      .setAAD(Buffer.from(context))
      .setAuthTag(Buffer.from(sealed.tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    )
  }

  /** True when the secret was sealed with an older key and should be sealed again. */
  isStale(sealed: SealedSecret): boolean {
    return sealed.keyId !== this.keyring.currentKeyId
  }
}
