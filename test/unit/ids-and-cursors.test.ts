import { describe, expect, it } from 'vitest'
import { InvalidCursorError } from '../../domain/errors.ts'
import { decodePublicId, encodePublicId } from '../../domain/ids.ts'
import { keys } from '../../store/keys.ts'
import { CursorCodec, queryFingerprint } from '../../store/cursor.ts'

const ULID = '01JD3ZV5Y1ZK4XGW2M8Q9R7T6A'

describe('public ids', () => {
  it('round-trips a consent id', () => {
    const id = encodePublicId('Consent', ULID)
    expect(id).toBe(`consent_${ULID}`)
    expect(decodePublicId(id)).toEqual({ type: 'Consent', id: ULID })
  })

  it.each([
    '',
    'consent_',
    'consent_abc',
    `user_${ULID}`,
    ULID,
    `consent_${ULID}x`,
    `consent_${ULID.toLowerCase()}`,
    'Q29uc2VudDox',
  ])('refuses %j', (value) => {
    expect(decodePublicId(value)).toBeNull()
  })
})

describe('keys', () => {
  it('keeps a consent, its events and its outbox in one partition, events in version order', () => {
    const consent = keys.consent('T1', 'C1')
    expect(keys.event('T1', 'C1', 2).pk).toBe(consent.pk)
    expect(keys.outbox('T1', 'C1', 2).pk).toBe(consent.pk)
    expect(keys.event('T1', 'C1', 9).sk < keys.event('T1', 'C1', 10).sk).toBe(true)
  })

  it('puts the tenant in every tenant-owned key', () => {
    expect(keys.consent('T1', 'C1').pk).toContain('T1')
    expect(keys.consentByTenant('T1', 'C1').gsi1pk).toContain('T1')
    expect(keys.consentByUser('T1', 'u', 'C1').gsi2pk).toContain('T1')
    expect(keys.idempotency('T1', 'k').pk).toContain('T1')
  })

  it('cannot be confused by a user id that looks like a key', () => {
    expect(keys.consentByUser('T1', 'a#U#b', 'C1').gsi2pk).not.toBe(keys.consentByUser('T1', 'a', 'C1').gsi2pk)
  })
})

describe('cursors', () => {
  const codec = new CursorCodec('x'.repeat(32))
  const fingerprint = queryFingerprint({ tenant: 'T1', status: ['ACTIVE'] })

  it('round-trips a position for the same query', () => {
    expect(codec.decode(codec.encode(fingerprint, ULID), fingerprint)).toBe(ULID)
  })

  it('does not depend on key order in the query description', () => {
    expect(queryFingerprint({ a: 1, b: [2] })).toBe(queryFingerprint({ b: [2], a: 1 }))
    expect(queryFingerprint({ a: 1, b: undefined })).toBe(queryFingerprint({ a: 1 }))
  })

  it('rejects a cursor of another query, another key, or a forged one', () => {
    const cursor = codec.encode(fingerprint, ULID)
    expect(() => codec.decode(cursor, queryFingerprint({ tenant: 'T2', status: ['ACTIVE'] }))).toThrow(
      /different query/,
    )
    expect(() => new CursorCodec('y'.repeat(32)).decode(cursor, fingerprint)).toThrow(InvalidCursorError)
    const [body] = cursor.split('.')
    const forgedBody = Buffer.from(JSON.stringify({ q: fingerprint, after: 'OTHER' })).toString('base64url')
    expect(() => codec.decode(`${forgedBody}.${cursor.split('.')[1]}`, fingerprint)).toThrow(/signature/)
    expect(body).toBeTruthy()
  })

  it('rejects every other spelling of a genuine signature (base64url spare bits in its last character)', () => {
    // Prepare: 16 bytes take 22 characters, the last of which carries 2 bits; 15 other characters decode alike
    const cursor = codec.encode(fingerprint, ULID)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const respelled = [...alphabet]
      .filter((character) => character !== cursor.at(-1))
      .map((character) => `${cursor.slice(0, -1)}${character}`)

    // Assert
    for (const variant of respelled) expect(() => codec.decode(variant, fingerprint)).toThrow(/signature/)
  })

  it.each(['', 'abc', 'a.b.c', '....', '%%%.###', 'x'.repeat(600)])('rejects malformed %j', (cursor) => {
    expect(() => codec.decode(cursor, fingerprint)).toThrow(InvalidCursorError)
  })

  it('refuses a short signing secret', () => {
    expect(() => new CursorCodec('short')).toThrow(/32 bytes/)
  })
})
