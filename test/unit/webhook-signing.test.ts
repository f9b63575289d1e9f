// offline: our Standard Webhooks signatures, checked by the standard's own reference library (an implementation we
// did not write), so a partner using any Standard Webhooks verifier accepts them.
import { randomBytes } from 'node:crypto'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { generateWebhookSecret, MalformedWebhookSecretError, signWebhook } from '../../crypto/webhook-signing.ts'

const BODY = JSON.stringify({ type: 'consent.status_changed', data: { id: 'consent_01JD8X', status: 'ACTIVE' } })
const MESSAGE_ID = 'msg_01JD8X3N4Q5R6S7T8V9W0XYZAB'

const secondsAgo = (seconds: number) => new Date(Date.now() - seconds * 1000)

function thrownBy(act: () => unknown): unknown {
  try {
    act()
  } catch (error) {
    return error
  }
  throw new Error('expected it to throw')
}

describe('generateWebhookSecret', () => {
  it('is whsec_ and the standard base64 of 32 random bytes', () => {
    // Act
    const secret = generateWebhookSecret()

    // Assess
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32)
    expect(generateWebhookSecret()).not.toBe(secret)
  })
})

describe('signWebhook', () => {
  it('gives headers the reference library verifies with the one secret', () => {
    // Prepare
    const secret = generateWebhookSecret()
    const timestamp = new Date()

    // Act
    const headers = signWebhook({ id: MESSAGE_ID, timestamp, body: BODY, secrets: [secret] })

    // Assess
    expect(headers).toEqual({
      'webhook-id': MESSAGE_ID,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    })
    expect(new Webhook(secret).verify(BODY, headers)).toEqual(JSON.parse(BODY))
  })

  it('signs exactly what the reference library signs: `${id}.${seconds}.${body}`', () => {
    // Prepare
    const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`
    const timestamp = new Date('2030-06-07T20:51:35.987Z')

    // Act
    const headers = signWebhook({ id: MESSAGE_ID, timestamp, body: 'ünïcödé ✓', secrets: [secret] })

    // Assess
    expect(headers['webhook-timestamp']).toBe('1907095895')
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign(MESSAGE_ID, timestamp, 'ünïcödé ✓'))
  })

  it('during a rotation signs with both secrets, so a partner on either one verifies', () => {
    // Prepare
    const current = generateWebhookSecret()
    const previous = generateWebhookSecret()

    // Act
    const headers = signWebhook({ id: MESSAGE_ID, timestamp: new Date(), body: BODY, secrets: [current, previous] })

    // Assess
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2)
    expect(new Webhook(current).verify(BODY, headers)).toEqual(JSON.parse(BODY))
    expect(new Webhook(previous).verify(BODY, headers)).toEqual(JSON.parse(BODY))
    expect(() => new Webhook(generateWebhookSecret()).verify(BODY, headers)).toThrow(WebhookVerificationError)
  })

  describe('what a verifier rejects', () => {
    const secret = generateWebhookSecret()
    const signedNow = () => signWebhook({ id: MESSAGE_ID, timestamp: new Date(), body: BODY, secrets: [secret] })

    it('a tampered body', () => {
      // Prepare
      const headers = signedNow()
      const tampered = BODY.replace('ACTIVE', 'REVOKED')

      // Act
      const verify = () => new Webhook(secret).verify(tampered, headers)

      // Assess
      expect(verify).toThrow(new WebhookVerificationError('No matching signature found'))
    })

    it('a tampered message id', () => {
      // Prepare
      const headers = { ...signedNow(), 'webhook-id': `${MESSAGE_ID}X` }

      // Act
      const verify = () => new Webhook(secret).verify(BODY, headers)

      // Assess
      expect(verify).toThrow(new WebhookVerificationError('No matching signature found'))
    })

    it('a signature made with another secret', () => {
      // Prepare
      const headers = signedNow()

      // Act
      const verify = () => new Webhook(generateWebhookSecret()).verify(BODY, headers)

      // Assess
      expect(verify).toThrow(new WebhookVerificationError('No matching signature found'))
    })

    it('a timestamp further than its five minutes in the past or the future', () => {
      // Prepare
      const sign = (timestamp: Date) => signWebhook({ id: MESSAGE_ID, timestamp, body: BODY, secrets: [secret] })
      const verifier = new Webhook(secret)

      // Act & Assess
      expect(verifier.verify(BODY, sign(secondsAgo(4 * 60)))).toEqual(JSON.parse(BODY))
      expect(() => verifier.verify(BODY, sign(secondsAgo(6 * 60)))).toThrow(
        new WebhookVerificationError('Message timestamp too old'),
      )
      expect(() => verifier.verify(BODY, sign(secondsAgo(-6 * 60)))).toThrow(
        new WebhookVerificationError('Message timestamp too new'),
      )
    })
  })

  describe('refuses to sign', () => {
    const key = (bytes: number) => randomBytes(bytes).toString('base64')

    it.each([
      ['no prefix', key(32)],
      ['another prefix', `whsk_${key(32)}`],
      ['nothing after the prefix', 'whsec_'],
      ['base64url rather than base64', `whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`],
      ['base64 without its padding', `whsec_${key(32).replace(/=+$/, '')}`],
      ['spaces in the base64', `whsec_${key(32).slice(0, 20)} ${key(32).slice(20)}`],
      ['a key shorter than 24 bytes', `whsec_${key(23)}`],
      ['a key longer than 64 bytes', `whsec_${key(65)}`],
    ])('with a secret with %s, and says which secret without showing it', (_problem, malformed) => {
      // Act
      const error = thrownBy(() =>
        signWebhook({
          id: MESSAGE_ID,
          timestamp: new Date(),
          body: BODY,
          secrets: [generateWebhookSecret(), malformed],
        }),
      )

      // Assess
      expect(error).toBeInstanceOf(MalformedWebhookSecretError)
      expect(error).toMatchObject({
        secretIndex: 1,
        message: expect.stringMatching(/^webhook secret #1 is malformed: /),
      })
      const encoded = malformed.replace(/^whs\w+_/, '')
      if (encoded !== '') expect((error as Error).message).not.toContain(encoded)
    })

    it('with no secret at all', () => {
      expect(() => signWebhook({ id: MESSAGE_ID, timestamp: new Date(), body: BODY, secrets: [] })).toThrow(
        new MalformedWebhookSecretError(0, 'no secret given'),
      )
    })

    it.each(['', 'msg.01JD8X', 'msg 01JD8X', 'msg_é', 'msg\r\nx-injected: 1'])('with the message id %j', (id) => {
      expect(() => signWebhook({ id, timestamp: new Date(), body: BODY, secrets: [generateWebhookSecret()] })).toThrow(
        RangeError,
      )
    })

    it('with an invalid Date', () => {
      expect(() =>
        signWebhook({
          id: MESSAGE_ID,
          timestamp: new Date(Number.NaN),
          body: BODY,
          secrets: [generateWebhookSecret()],
        }),
      ).toThrow(new RangeError('webhook timestamp is not a valid Date'))
    })
  })
})
