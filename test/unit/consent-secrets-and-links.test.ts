// offline: sealing provider secrets, signed callback links, the UK reconfirmation rules, Yapily webhook signatures, and
// merging a Yapily consent set read at different times.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConsentNotActiveError, ValidationError } from '../../domain/errors.ts'
import { checkReconfirmation } from '../../domain/policy.ts'
import { NotificationRejectedError } from '../../providers/adapter.ts'
import { decodeConsentSet, encodeConsentSet, mergeConsentSets } from '../../providers/yapily/consent-set.ts'
import { verifyYapilyNotification } from '../../providers/yapily/notifications.ts'
import { CallbackLinks } from '../../service/callback-links.ts'
import { keyringFromSpec, SecretBox } from '../../crypto/secret-box.ts'
import { aConsent, at } from '../support/fixtures.ts'

const key = () => randomBytes(32).toString('base64')

describe('SecretBox', () => {
  const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.consent-token.signature'

  it('seals so the ciphertext shows nothing of the secret, and opens it again', () => {
    const box = new SecretBox(keyringFromSpec(`k1:${key()}`))
    const sealed = box.seal(TOKEN, 'consent-secret:T1:C1')
    expect(JSON.stringify(sealed)).not.toContain('consent-token')
    expect(sealed.keyId).toBe('k1')
    expect(box.open(sealed, 'consent-secret:T1:C1')).toBe(TOKEN)
    // Fresh nonce every time.
    expect(box.seal(TOKEN, 'consent-secret:T1:C1').ciphertext).not.toBe(sealed.ciphertext)
  })

  it('refuses a ciphertext moved to another consent, or altered', () => {
    const box = new SecretBox(keyringFromSpec(`k1:${key()}`))
    const sealed = box.seal(TOKEN, 'consent-secret:T1:C1')
    expect(() => box.open(sealed, 'consent-secret:T1:C2')).toThrow()
    const tampered = { ...sealed, ciphertext: Buffer.from('x'.repeat(20)).toString('base64url') }
    expect(() => box.open(tampered, 'consent-secret:T1:C1')).toThrow()
  })

  it('rotates: the first key seals, older listed keys still open, and old seals are stale', () => {
    const oldKey = key()
    const sealedBefore = new SecretBox(keyringFromSpec(`2026-01:${oldKey}`)).seal(TOKEN, 'ctx')
    const rotated = new SecretBox(keyringFromSpec(`2026-11:${key()},2026-01:${oldKey}`))
    expect(rotated.open(sealedBefore, 'ctx')).toBe(TOKEN)
    expect(rotated.isStale(sealedBefore)).toBe(true)
    const sealedAfter = rotated.seal(TOKEN, 'ctx')
    expect(sealedAfter.keyId).toBe('2026-11')
    expect(rotated.isStale(sealedAfter)).toBe(false)
    // A key taken out of the ring no longer opens what it sealed.
    expect(() => new SecretBox(keyringFromSpec(`2026-11:${key()}`)).open(sealedBefore, 'ctx')).toThrow(/not configured/)
  })

  it.each(['', 'no-colon', `k1:${randomBytes(16).toString('base64')}`, `:${key()}`])(
    'refuses the key spec %j',
    (spec) => {
      expect(() => keyringFromSpec(spec)).toThrow()
    },
  )
})

describe('CallbackLinks', () => {
  const links = new CallbackLinks('x'.repeat(32), 'http://127.0.0.1:4000/')

  it('names the consent under the provider prefix, signed', () => {
    const url = links.urlFor('YAPILY', { tenantId: 'T1', consentId: 'C1' })
    expect(url.startsWith('http://127.0.0.1:4000/callbacks/yapily/')).toBe(true)
    const token = url.slice(links.prefix('YAPILY').length)
    expect(links.read(token)).toEqual({ tenantId: 'T1', consentId: 'C1' })
  })

  it('refuses links it did not sign', () => {
    const token = links.urlFor('YAPILY', { tenantId: 'T1', consentId: 'C1' }).split('/').pop() ?? ''
    const [body, signature] = token.split('.')
    const otherBody = Buffer.from('T2.C9').toString('base64url')
    for (const forged of [
      `${otherBody}.${signature}`,
      `${body}.${'A'.repeat(22)}`,
      body ?? '',
      `${token}.x`,
      'garbage',
    ]) {
      expect(links.read(forged)).toBeNull()
    }
    expect(new CallbackLinks('y'.repeat(32), 'http://x').read(token)).toBeNull()
  })

  it('refuses every other spelling of a genuine signature (base64url spare bits in its last character)', () => {
    // Prepare: 16 bytes take 22 characters, the last of which carries 2 bits; 15 other characters decode alike
    const token = links.urlFor('YAPILY', { tenantId: 'T1', consentId: 'C1' }).slice(links.prefix('YAPILY').length)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const respelled = [...alphabet]
      .filter((character) => character !== token.at(-1))
      .map((character) => `${token.slice(0, -1)}${character}`)

    // Assert
    expect(respelled.filter((variant) => links.read(variant) !== null)).toEqual([])
  })

  it('makes and reads the same links as before its signing moved to crypto/ (links handed out keep working)', () => {
    // Prepare: a link the gateway made before the move, with this key
    const issued =
      'http://127.0.0.1:4000/callbacks/yapily/dGVuYW50XzAxSkQwVEVOQU5UQUxQSEEuY25zXzAxSkQwQ09OU0VOVDAwMDAwMDAwMDA._sRIYVpxSYE--dWEJFCq6g'
    const target = { tenantId: 'tenant_01JD0TENANTALPHA', consentId: 'cns_01JD0CONSENT0000000000' }

    // Assert
    expect(links.urlFor('YAPILY', target)).toBe(issued)
    expect(links.read(issued.slice(links.prefix('YAPILY').length))).toEqual(target)
  })
})

describe('UK reconfirmation rules', () => {
  const now = at('2026-08-01T12:00:00.000Z')
  const uk = aConsent({
    status: 'ACTIVE',
    region: 'UK',
    lastConfirmedAt: '2026-06-01T00:00:00.000Z',
    reconfirmBy: '2026-08-30T00:00:00.000Z',
  })
  const issues = (fn: () => void) => {
    try {
      fn()
    } catch (error) {
      if (error instanceof ValidationError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`)
      throw error
    }
    return []
  }

  it('accepts a confirmation now or in the past, after the last one', () => {
    expect(issues(() => checkReconfirmation(uk, now, now))).toEqual([])
    expect(issues(() => checkReconfirmation(uk, at('2026-07-01T00:00:00.000Z'), now))).toEqual([])
  })

  it('refuses a future confirmation, and one not later than the last', () => {
    expect(issues(() => checkReconfirmation(uk, at('2026-08-01T12:00:01.000Z'), now))).toEqual([
      'confirmedAt: must not be in the future',
    ])
    expect(issues(() => checkReconfirmation(uk, at('2026-06-01T00:00:00.000Z'), now))[0]).toMatch(
      /must be later than the last confirmation/,
    )
    expect(issues(() => checkReconfirmation(uk, at('2026-05-01T00:00:00.000Z'), now))[0]).toMatch(/later than/)
  })

  it('refuses EEA consents and consents that are not active (by effective status)', () => {
    expect(issues(() => checkReconfirmation({ ...uk, region: 'EEA' }, now, now))).toEqual([
      'id: reconfirmation applies to UK consents only',
    ])
    expect(() => checkReconfirmation({ ...uk, status: 'REVOKED' }, now, now)).toThrow(ConsentNotActiveError)
    expect(() => checkReconfirmation({ ...uk, validUntil: '2026-07-01T00:00:00.000Z' }, now, now)).toThrow(
      ConsentNotActiveError,
    )
  })
})

describe('Yapily webhook signatures', () => {
  const SECRET = 'webhook-secret-1'
  const body = JSON.stringify({
    id: 'webhook-1',
    type: 'consent.status',
    event: { consentId: 'c-1', status: 'AUTHORIZED' },
    metadata: { tracingId: 'trace-1' },
  })
  const signed = (text: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(text).digest('hex')}`
  const digest = (text: string) => `sha256:${createHash('sha256').update(text).digest('base64url')}`

  it('accepts the HMAC of the raw body and names the consent; a body with a tracing id is one delivery', () => {
    expect(verifyYapilyNotification({ headers: { 'x-yapily-signature': signed(body) }, body }, SECRET)).toEqual([
      { providerConsentId: 'c-1', providerStatus: 'AUTHORIZED', deliveryId: digest(body), sentAt: null },
    ])
  })

  it("does not take the webhook's id for a delivery id, and without a tracing id names no delivery", () => {
    const other = JSON.stringify({ ...JSON.parse(body), metadata: { tracingId: 'trace-2' } })
    const untraced = JSON.stringify({ id: 'webhook-1', type: 'consent.status', event: { consentId: 'c-1' } })
    const [first] = verifyYapilyNotification({ headers: { 'x-yapily-signature': signed(body) }, body }, SECRET)
    const [second] = verifyYapilyNotification({ headers: { 'x-yapily-signature': signed(other) }, body: other }, SECRET)
    const [third] = verifyYapilyNotification(
      { headers: { 'x-yapily-signature': signed(untraced) }, body: untraced },
      SECRET,
    )

    expect(second?.deliveryId).not.toBe(first?.deliveryId)
    expect(third?.deliveryId).toBeNull()
  })

  it.each([
    ['no header', {}],
    ['another secret', { 'x-yapily-signature': signed(body, 'other') }],
    ['a signature of another body', { 'x-yapily-signature': signed(`${body} `) }],
    ['a malformed header', { 'x-yapily-signature': 'sha256=xyz' }],
  ])('rejects %s as unauthenticated', (_name, headers) => {
    expect(() => verifyYapilyNotification({ headers, body }, SECRET)).toThrow(
      expect.objectContaining({ reason: 'unauthenticated' }) as NotificationRejectedError,
    )
  })

  it('accepts nothing when no webhook secret is configured', () => {
    expect(() =>
      verifyYapilyNotification({ headers: { 'x-yapily-signature': signed(body) }, body }, undefined),
    ).toThrow(NotificationRejectedError)
  })

  it('acknowledges other categories without events', () => {
    const payment = JSON.stringify({ id: 'evt-2', type: 'payment.state.success', event: {} })
    expect(
      verifyYapilyNotification({ headers: { 'x-yapily-signature': signed(payment) }, body: payment }, SECRET),
    ).toEqual([])
  })
})

describe('Yapily consent sets merged', () => {
  const set = (...consents: [string, string | null][]) =>
    encodeConsentSet(consents.map(([id, token]) => ({ id, token }))) ?? ''

  it('keeps the members a stored set has when a read that opened the plain token issues only that', () => {
    const stored = set(['own', 'tok-own'], ['sib', 'tok-sib'])
    expect(decodeConsentSet('own', mergeConsentSets('own', stored, 'tok-own'))).toEqual([
      { id: 'own', token: 'tok-own' },
      { id: 'sib', token: 'tok-sib' },
    ])
  })

  it('adds the members only the issued set has, and takes the issued token for a member both hold', () => {
    const merged = mergeConsentSets('own', set(['own', null], ['a', 'tok-a']), set(['own', 'tok-own'], ['b', 'tok-b']))
    expect(decodeConsentSet('own', merged)).toEqual([
      { id: 'own', token: 'tok-own' },
      { id: 'a', token: 'tok-a' },
      { id: 'b', token: 'tok-b' },
    ])
  })

  it('changes nothing where both say the same: the plain token stays plain, a set stays the same text', () => {
    expect(mergeConsentSets('own', 'tok-own', 'tok-own')).toBe('tok-own')
    const stored = set(['own', 'tok-own'], ['sib', 'tok-sib'])
    expect(mergeConsentSets('own', stored, stored)).toBe(stored)
  })
})
