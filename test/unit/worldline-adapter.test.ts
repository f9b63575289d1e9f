// offline: the Worldline adapter's pure parts: the token request's signature, permissions, dates, notifications.
import { createVerify, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type NotificationRejectedError } from '../../providers/adapter.ts'
import {
  endOfDay,
  errorSchema,
  PERMISSION_SETS,
  permissionsOf,
  snapshotFromStatus,
  validUntilDate,
} from '../../providers/worldline/mapping.ts'
import { verifyWorldlineNotification } from '../../providers/worldline/notifications.ts'
import { signatureAuthorization, signingString } from '../../providers/worldline/token-signature.ts'

describe('the token request signature', () => {
  const headers = { app: 'AIS', client: 'partner-1', id: 'abc', date: 'Sun, 22 Nov 2026 10:00:00 GMT' }

  it('signs the lowercased names and trimmed values of app, client, id and date, one per line', () => {
    expect(signingString({ ...headers, client: '  partner-1 ' })).toBe(
      'app: AIS\nclient: partner-1\nid: abc\ndate: Sun, 22 Nov 2026 10:00:00 GMT',
    )
  })

  it('produces a draft-cavage Signature header that verifies with the public key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const header = signatureAuthorization(
      headers,
      'thumbprint-1',
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    )
    const fields = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    expect(header.startsWith('Signature ')).toBe(true)
    expect(fields).toMatchObject({ keyId: 'thumbprint-1', algorithm: 'SHA256withRSA', headers: 'app client id date' })
    const verified = createVerify('RSA-SHA256')
      .update(signingString(headers))
      .verify(publicKey, fields.signature ?? '', 'base64')
    expect(verified).toBe(true)
  })
})

describe('permissions and dates', () => {
  it('offers exactly the four permission sets Worldline accepts', () => {
    expect(PERMISSION_SETS.map(permissionsOf)).toEqual([
      ['Accounts'],
      ['Accounts', 'Balances'],
      ['Accounts', 'Transactions'],
      ['Accounts', 'Balances', 'Transactions'],
    ])
  })

  it('turns validity days into a ValidUntilDate, and that date into the end of its day', () => {
    expect(validUntilDate(new Date('2026-11-22T23:30:00.000Z'), 90)).toBe('2027-02-20')
    expect(endOfDay('2027-02-20')).toBe('2027-02-20T23:59:59.999Z')
    expect(endOfDay('20.02.2027')).toBeNull()
    expect(endOfDay(null)).toBeNull()
  })
})

describe('notifications', () => {
  const TOKEN = 'notification-token-1'
  const REQUEST_ID = 'abcdef2e-3000-4000-88cc-ae40e3b113d7'
  const body = JSON.stringify({ ConsentId: 'c-1', ConsentStatus: 'Authorised', AspspId: '20101' })
  type Overrides = {
    authorization?: string
    path?: string
    body?: string
    headers?: Record<string, string | undefined>
  }
  const notification = (overrides: Overrides = {}) => ({
    headers: {
      authorization: overrides.authorization ?? `Bearer ${TOKEN}`,
      'x-request-id': REQUEST_ID,
      messagecreatedatetime: '2026-11-22T10:00:00.856Z',
      ...overrides.headers,
    },
    body: overrides.body ?? body,
    path: overrides.path ?? '/v3/notification/status',
  })

  it('accepts the configured bearer token and names the consent, its status, the delivery and when it was sent', () => {
    expect(verifyWorldlineNotification(notification(), TOKEN)).toEqual([
      {
        providerConsentId: 'c-1',
        providerStatus: 'Authorised',
        deliveryId: REQUEST_ID,
        sentAt: '2026-11-22T10:00:00.856Z',
      },
    ])
    expect(
      verifyWorldlineNotification(
        notification({ headers: { messagecreatedatetime: '2026-11-22T11:00:00+01:00' } }),
        TOKEN,
      )[0]?.sentAt,
    ).toBe('2026-11-22T10:00:00.000Z')
  })

  it.each(['', 'Bearer', 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`])(
    'rejects the authorization %j as unauthenticated',
    (authorization) => {
      expect(() => verifyWorldlineNotification(notification({ authorization }), TOKEN)).toThrow(
        expect.objectContaining({ reason: 'unauthenticated' }) as NotificationRejectedError,
      )
    },
  )

  it.each([
    ['another path', { path: '/v3/other' }],
    ['a body that is not JSON', { body: 'ConsentId=c-1' }],
    ['a body without a consent id', { body: JSON.stringify({ ConsentStatus: 'Authorised' }) }],
    ['no X-Request-ID', { headers: { 'x-request-id': undefined } }],
    ['an X-Request-ID over 36 characters', { headers: { 'x-request-id': 'x'.repeat(37) } }],
    ['no MessageCreateDateTime', { headers: { messagecreatedatetime: undefined } }],
    ['a MessageCreateDateTime without a zone', { headers: { messagecreatedatetime: '2026-11-22T10:00:00' } }],
    ['a MessageCreateDateTime that is no date', { headers: { messagecreatedatetime: '2026-13-45T99:00:00Z' } }],
  ])('rejects %s as malformed', (_name, overrides) => {
    expect(() => verifyWorldlineNotification(notification(overrides), TOKEN)).toThrow(
      expect.objectContaining({ reason: 'malformed' }) as NotificationRejectedError,
    )
  })

  it('checks the token before anything else: a forged request learns nothing about the headers', () => {
    expect(() =>
      verifyWorldlineNotification(
        notification({ authorization: 'Bearer no', headers: { 'x-request-id': undefined } }),
        TOKEN,
      ),
    ).toThrow(expect.objectContaining({ reason: 'unauthenticated' }) as NotificationRejectedError)
  })
})

describe('Worldline error bodies', () => {
  // Open Banking PIS v3.6.0 (shared AIS error model) writes Code / Message / Details; the OAuth v1.4.5 spec writes them
  // lowercase. Which casing the AIS service sends in the field is not known, so both are read.
  it.each([
    [
      { Code: '104', Message: 'The Aspsp is unknown', Details: 'AspspId 99999' },
      { code: '104', message: 'The Aspsp is unknown' },
    ],
    [
      { code: '017', message: 'Initiating party access token is expired' },
      { code: '017', message: 'Initiating party access token is expired' },
    ],
    [
      { Code: 123, Message: 'The PSU consent is expired' },
      { code: '123', message: 'The PSU consent is expired' },
    ],
  ])('reads the code and message of %j', (body, expected) => {
    const parsed = errorSchema.safeParse(body)
    expect(parsed.success && { code: parsed.data.code, message: parsed.data.message }).toEqual(expected)
  })

  it('reads no code from a body that has none', () => {
    expect(errorSchema.safeParse({ Message: 'no code' }).success).toBe(false)
  })
})

describe('ValidUntilDate', () => {
  // `format: date-time` in ConsentDetailedInformation of Worldline's Open Banking Notification spec v3.3.1.
  it.each([
    ['2030-06-15T10:30:00Z', '2030-06-15T10:30:00.000Z'],
    ['2030-06-15T12:30:00+02:00', '2030-06-15T10:30:00.000Z'],
    ['2030-06-15', '2030-06-15T23:59:59.999Z'],
    ['not a date', null],
  ])('%s gives validUntil %s', (raw, validUntil) => {
    const snapshot = snapshotFromStatus({ ConsentId: 'c-1', ConsentStatus: 'Authorised', ValidUntilDate: raw }, null)
    expect(snapshot.validUntil).toBe(validUntil)
  })
})
