// offline: short signed URL tokens (crypto/signed-tokens.ts): the payload comes back only from a token its own key
// and purpose sealed, unaltered and not over the length limit.
import { describe, expect, it } from 'vitest'
import { SignedTokens } from '../../crypto/signed-tokens.ts'

const SECRET = 's'.repeat(32)

describe('SignedTokens', () => {
  const tokens = new SignedTokens(SECRET, 'test/purpose-a', 256)

  it('opens what it sealed, as base64url and one dot', () => {
    // Act
    const token = tokens.seal('tenant_1.cns_1')

    // Assert
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/)
    expect(tokens.open(token)).toBe('tenant_1.cns_1')
  })

  it('refuses a token of another key or another purpose', () => {
    // Prepare
    const token = tokens.seal('tenant_1.cns_1')

    // Assert
    expect(new SignedTokens('t'.repeat(32), 'test/purpose-a', 256).open(token)).toBeNull()
    expect(new SignedTokens(SECRET, 'test/purpose-b', 256).open(token)).toBeNull()
  })

  it('refuses an altered, truncated, extended or malformed token', () => {
    // Prepare
    const token = tokens.seal('tenant_1.cns_1')
    const [body, signature] = token.split('.') as [string, string]
    const otherBody = Buffer.from('tenant_2.cns_1').toString('base64url')
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`

    // Assert
    for (const forged of [
      `${otherBody}.${signature}`,
      `${body}.${flipped}`,
      `${body}.${signature.slice(0, 11)}`,
      `${token}.x`,
      body,
      `.${signature}`,
      `${body}.`,
      '',
    ]) {
      expect(tokens.open(forged)).toBeNull()
    }
  })

  it('refuses a token over its length limit before checking it', () => {
    // Prepare
    const short = new SignedTokens(SECRET, 'test/purpose-a', 40)
    const token = short.seal('x'.repeat(30))

    // Assert
    expect(token.length).toBeGreaterThan(40)
    expect(short.open(token)).toBeNull()
    expect(tokens.open(token)).toBe('x'.repeat(30))
  })
})
