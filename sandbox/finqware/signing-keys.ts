// Finqware's webhook signing keys: exactly two published (current and previous), compact JWS over the raw body.
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'

/** Finqware signs with RS256 or ES256 (its Webhook Signing and Callbacks page); the ring alternates them so both get exercised. */
export type SigningAlgorithm = 'ES256' | 'RS256'

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

interface SigningKey {
  kid: string
  alg: SigningAlgorithm
  privateKey: PrivateKey
  publicJwk: JWK
  /** The private key as a JWK, kept so a restarted sandbox signs (and its JWKS verifies) as before. */
  privateJwk: JWK
}

/** What a sandbox's state file keeps of the ring: both private keys, current first. */
export interface SavedKeyRing {
  current: { alg: SigningAlgorithm; privateJwk: JWK }
  previous: { alg: SigningAlgorithm; privateJwk: JWK }
}

export interface JsonWebKeySet {
  keys: JWK[]
}

export class SigningKeyRing {
  #current: SigningKey
  #previous: SigningKey
  #rotation: Promise<void> = Promise.resolve()

  private constructor(current: SigningKey, previous: SigningKey) {
    this.#current = current
    this.#previous = previous
  }

  /** Current ES256, previous RS256, so a verifier sees both algorithms from the start. */
  static async create(): Promise<SigningKeyRing> {
    const [current, previous] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('RS256')])
    return new SigningKeyRing(current, previous)
  }

  /** The two keys as a saved state holds them (see {@link SigningKeyRing.restore}). */
  saved(): SavedKeyRing {
    const keep = ({ alg, privateJwk }: SigningKey) => ({ alg, privateJwk: { ...privateJwk } })
    return { current: keep(this.#current), previous: keep(this.#previous) }
  }

  /** The ring a sandbox had before a restart. */
  static async restore(saved: SavedKeyRing): Promise<SigningKeyRing> {
    const [current, previous] = await Promise.all([importSigningKey(saved.current), importSigningKey(saved.previous)])
    return new SigningKeyRing(current, previous)
  }

  get currentKid(): string {
    return this.#current.kid
  }

  get previousKid(): string {
    return this.#previous.kid
  }

  /** The public JWKS: always exactly two keys, current first. */
  jwks(): JsonWebKeySet {
    return { keys: [{ ...this.#current.publicJwk }, { ...this.#previous.publicJwk }] }
  }

  /** Drops the previous key, demotes the current one, and makes a new current key of the other algorithm. */
  rotate(): Promise<void> {
    // Serialised: two overlapping rotations must still leave exactly two keys, each one step apart.
    this.#rotation = this.#rotation.then(async () => {
      const next = await generateSigningKey(this.#current.alg === 'ES256' ? 'RS256' : 'ES256')
      this.#previous = this.#current
      this.#current = next
    })
    return this.#rotation
  }

  /** The webhook headers: `x-signature` (compact JWS whose payload is exactly `body`) and `x-signature-kid`. */
  async sign(body: string): Promise<Record<string, string>> {
    const key = this.#current
    const signature = await new CompactSign(new TextEncoder().encode(body))
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .sign(key.privateKey)
    return { 'x-signature': signature, 'x-signature-kid': key.kid }
  }
}

async function generateSigningKey(alg: SigningAlgorithm): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  return importSigningKey({ alg, privateJwk: await exportJWK(privateKey) })
}

async function importSigningKey({ alg, privateJwk }: SavedKeyRing['current']): Promise<SigningKey> {
  const privateKey = (await importJWK(privateJwk, alg)) as PrivateKey
  // The public half of a private JWK: the key type's public members only.
  const { kty, crv, x, y, n, e } = privateJwk
  const exported: JWK = Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e }).filter(([, value]) => value !== undefined),
  )
  // The RFC 7638 thumbprint is a stable, collision-free kid.
  const kid = await calculateJwkThumbprint(exported)
  return { kid, alg, privateKey, privateJwk, publicJwk: { ...exported, kid, alg, use: 'sig' } }
}
