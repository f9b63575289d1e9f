// Worldline sandbox client authentication as pure functions: the draft-cavage Signature header, the signing string,
// RSA-SHA256 verification, and the token endpoint's header rules.
import { createSign, generateKeyPairSync } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { SandboxClock } from '../../sandbox/shared/clock.ts'
import { TokenError } from '../../sandbox/worldline/errors.ts'
import { parseSignatureAuthorization, signingString, verifySignature } from '../../sandbox/worldline/http-signature.ts'
import { authenticateClient } from '../../sandbox/worldline/token-api.ts'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })

function sign(text: string, key = privateKey): string {
  return createSign('RSA-SHA256').update(text).sign(key, 'base64')
}

describe('parseSignatureAuthorization', () => {
  test('reads keyId, algorithm, the lower-cased header list and the signature', () => {
    const parsed = parseSignatureAuthorization(
      'Signature keyId="abc123",algorithm="SHA256withRSA",headers="App Client id date",signature="c2ln+/="',
    )

    expect(parsed).toEqual({
      keyId: 'abc123',
      algorithm: 'SHA256withRSA',
      headers: ['app', 'client', 'id', 'date'],
      signature: 'c2ln+/=',
    })
  })

  test('tolerates spaces after commas and defaults headers to date', () => {
    expect(parseSignatureAuthorization('signature keyId="k", signature="s"')).toEqual({
      keyId: 'k',
      algorithm: '',
      headers: ['date'],
      signature: 's',
    })
  })

  test.each([
    undefined,
    '',
    'Bearer token',
    'Signature keyId="k"',
    'Signature signature="s"',
    'Signature keyId=k,signature="s"',
    'Signature keyId="k",,signature="s"',
  ])('%j is not a usable Signature', (value) => {
    expect(parseSignatureAuthorization(value)).toBeNull()
  })
})

describe('signingString', () => {
  test('lower-cased names, trimmed values, in the given order, joined with newlines', () => {
    const text = signingString(['app', 'client', 'id', 'date'], {
      app: ' AIS ',
      client: 'tpp',
      id: '42',
      date: 'Tue, 07 Jun 2030 20:51:35 GMT',
    })

    expect(text).toBe('app: AIS\nclient: tpp\nid: 42\ndate: Tue, 07 Jun 2030 20:51:35 GMT')
  })

  test('repeated headers are joined with ", "; (request-target) is method and path', () => {
    const text = signingString(
      ['(request-target)', 'x-multi'],
      { 'x-multi': ['a', ' b'] },
      {
        method: 'POST',
        path: '/token',
      },
    )

    expect(text).toBe('(request-target): post /token\nx-multi: a, b')
  })

  test('a listed header the request lacks gives null', () => {
    expect(signingString(['app', 'date'], { app: 'AIS' })).toBeNull()
  })
})

describe('verifySignature', () => {
  const text = 'app: AIS\nclient: tpp\nid: 1\ndate: Tue, 07 Jun 2030 20:51:35 GMT'

  test('accepts the signature of the matching key only', () => {
    expect(verifySignature(text, sign(text), publicKey)).toBe(true)
    expect(verifySignature(text, sign(text, other.privateKey), publicKey)).toBe(false)
    expect(verifySignature(`${text} `, sign(text), publicKey)).toBe(false)
  })

  test('a malformed signature is false, not an exception', () => {
    expect(verifySignature(text, 'not base64!', publicKey)).toBe(false)
    expect(verifySignature(text, 'AAAA', publicKey)).toBe(false)
  })
})

describe('authenticateClient', () => {
  const clock = new SandboxClock()
  const clients = [{ clientId: 'tpp', keyId: 'key-1', publicKey }]

  function request(overrides: Record<string, string | undefined> = {}, key = privateKey) {
    const headers: Record<string, string | undefined> = {
      app: 'AIS',
      client: 'tpp',
      id: '433:5',
      date: clock.now().toUTCString(),
      ...overrides,
    }
    const text = `app: ${headers.app}\nclient: ${headers.client}\nid: ${headers.id}\ndate: ${headers.date}`
    headers.authorization ??= `Signature keyId="key-1",algorithm="SHA256withRSA",headers="app client id date",signature="${sign(text, key)}"`
    const defined = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined))
    return { headers: defined, method: 'POST', url: new URL('http://127.0.0.1/token') }
  }

  function refusal(run: () => void): string | undefined {
    try {
      run()
      return undefined
    } catch (error) {
      if (error instanceof TokenError) return `${error.status} ${error.code}`
      throw error
    }
  }

  const context = { clock, clients, maxDateSkewSeconds: 300 }

  test('a request signed by the registered key passes', () => {
    expect(refusal(() => authenticateClient(request(), context))).toBeUndefined()
  })

  test.each([
    ['another key', request({}, other.privateKey), '003'],
    ['App IDEAL', request({ app: 'IDEAL' }), '007'],
    ['a Date 6 minutes old', request({ date: new Date(Date.now() - 360_000).toUTCString() }), '003'],
    ['an unknown client', request({ client: 'nobody' }), '101'],
    ['a missing Id', request({ id: undefined }), '001'],
    ['a random Id', request({ id: 'b3f1c2a4-0000-4000-8000-000000000000' }), '101'],
  ])('%s is 401 with the OAuth spec code', (_case, signed, code) => {
    expect(refusal(() => authenticateClient(signed, context))).toBe(`401 ${code}`)
  })

  test('with no registered client any signature passes, but not a missing one', () => {
    const open = { ...context, clients: [] }

    expect(refusal(() => authenticateClient(request({}, other.privateKey), open))).toBeUndefined()
    expect(refusal(() => authenticateClient(request({ authorization: 'Bearer x' }), open))).toBe('401 003')
  })
})
