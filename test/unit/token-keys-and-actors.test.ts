// The token signing keys' format (what TOKEN_SIGNING_KEYS may hold, and what is refused without a word of key
// material), the rotation script's steps, and the grammar of an event's initiator, read back as a typed actor.
import { calculateJwkThumbprint } from 'jose'
import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { actorOf, initiatorOf, type Actor } from '../../domain/actor.ts'
import { nextSigningKeys } from '../../scripts/token-signing-keys.ts'
import { newSigningKey, parseSigningKeys, thumbprintOf } from '../../crypto/token-keys.ts'

describe('token signing keys', () => {
  it('reads a list of private P-256 JWKs, the first signing, each named by its kid or its RFC 7638 thumbprint', async () => {
    // Prepare
    const named = newSigningKey()
    const { kid: _kid, ...unnamed } = newSigningKey()

    // Act
    const keys = parseSigningKeys(JSON.stringify([named, unnamed]))

    // Assess
    expect(keys.map((key) => key.kid)).toEqual([named.kid, await calculateJwkThumbprint(unnamed)])
    expect(named.kid).toBe(await calculateJwkThumbprint(named))
    expect(keys[0]?.publicJwk).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: named.x,
      y: named.y,
      kid: named.kid,
      alg: 'ES256',
      use: 'sig',
    })
    expect(thumbprintOf(unnamed)).toBe(keys[1]?.kid)
  })

  it('refuses anything else, naming the key and the fault but none of its material', () => {
    const key = newSigningKey()
    const other = newSigningKey()
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' })
    const cases: [unknown, RegExp][] = [
      ['not json', /a JSON array/],
      [[], /non-empty/],
      [{ keys: [key] }, /non-empty JSON array/],
      [['a string'], /key 1 is not a JWK object/],
      [[{ ...p384, kid: 'p384' }], /key 1 is not an EC P-256 key/],
      [[key, { ...key, d: undefined }], /key 2 has no private part/],
      [[{ ...key, x: other.x, y: other.y }], /key 1 has "x" and "y" that are not the public half of "d"/],
      [[{ ...key, d: 'AAAA' }], /key 1 is not a valid P-256 private key/],
      [[{ ...key, kid: 'has space' }], /key 1 has a "kid"/],
      [[key, { ...other, kid: key.kid }], /two keys have the same kid/],
    ]
    for (const [value, message] of cases) {
      const spec = typeof value === 'string' ? value : JSON.stringify(value)
      expect(() => parseSigningKeys(spec), spec.slice(0, 40)).toThrow(message)
      try {
        parseSigningKeys(spec)
      } catch (error) {
        expect(String(error)).not.toContain(key.d)
      }
    }
  })

  it("rotates in the script's two steps: a new key first, then the old one dropped", () => {
    const start = nextSigningKeys('new', undefined)
    const [first] = parseSigningKeys(start)
    const rotated = parseSigningKeys(nextSigningKeys('rotate', start))
    expect(rotated.map((key) => key.kid).slice(1)).toEqual([first?.kid])
    const dropped = parseSigningKeys(nextSigningKeys('drop-old', nextSigningKeys('rotate', start)))
    expect(dropped).toHaveLength(1)
    expect(dropped[0]?.kid).not.toBe(first?.kid)
    expect(() => nextSigningKeys('drop-old', start)).toThrow(/only one key/)
    expect(() => nextSigningKeys('rotate', '[1]')).toThrow(/key 1/)
    expect(() => nextSigningKeys('shuffle', start)).toThrow(/usage/)
  })
})

describe("an event's actor", () => {
  it('reads back from the initiator every actor writes, whatever its user id holds', () => {
    const actors: Exclude<Actor, { kind: 'UNKNOWN' }>[] = [
      { kind: 'API_CLIENT', clientId: 'client-alpha' },
      { kind: 'END_USER', clientId: 'client-alpha', userId: 'user-1' },
      { kind: 'END_USER', clientId: 'a.b_c-d', userId: 'x/end-user:y api-client:z\u00e9 \u{1f600}' },
      { kind: 'PROVIDER', provider: 'FINQWARE' },
      { kind: 'PROVIDER', provider: 'YAPILY' },
      { kind: 'SCHEDULER' },
    ]
    for (const actor of actors) expect(actorOf(initiatorOf(actor))).toEqual(actor)
    expect(initiatorOf({ kind: 'END_USER', clientId: 'shop', userId: 'u-1' })).toBe('api-client:shop/end-user:u-1')
  })

  it('reads the initiators history already holds, and marks what it does not know', () => {
    expect(actorOf('api-client:test')).toEqual({ kind: 'API_CLIENT', clientId: 'test' })
    expect(actorOf('provider:worldline')).toEqual({ kind: 'PROVIDER', provider: 'WORLDLINE' })
    expect(actorOf('scheduler')).toEqual({ kind: 'SCHEDULER' })
    for (const initiator of ['provider:unknownbank', 'api-client:', 'api-client:a b', 'admin', '']) {
      expect(actorOf(initiator), initiator).toEqual({ kind: 'UNKNOWN' })
    }
  })
})
