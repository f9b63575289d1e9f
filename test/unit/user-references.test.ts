// The user reference providers are told: stable per tenant and user, distinct across tenants and keys, opaque.
import { describe, expect, it } from 'vitest'
import { UserReferences } from '../../crypto/user-references.ts'

const KEY = 'k'.repeat(32)
const TENANT_A = '01JD0TENANTALPHA0000000000'
const TENANT_B = '01JD0TENANTBRAVO0000000000'

describe('UserReferences', () => {
  it('gives the same user of the same tenant the same reference, every time', () => {
    expect(new UserReferences(KEY).for(TENANT_A, 'user-1')).toBe(new UserReferences(KEY).for(TENANT_A, 'user-1'))
  })

  it("gives two tenants' user-1 two references, neither of which shows the user id", () => {
    const references = new UserReferences(KEY)
    const a = references.for(TENANT_A, 'user-1')
    const b = references.for(TENANT_B, 'user-1')
    expect(a).not.toBe(b)
    for (const reference of [a, b]) {
      expect(reference).toMatch(/^[0-9a-f]{40}$/)
      expect(reference).not.toContain('user')
    }
  })

  it('cannot be made to collide by moving characters between the tenant and the user id', () => {
    const references = new UserReferences(KEY)
    expect(references.for('tenant', '1user')).not.toBe(references.for('tenant1', 'user'))
    expect(references.for('a","b', 'c')).not.toBe(references.for('a', 'b","c'))
  })

  it('depends on the key', () => {
    expect(new UserReferences(KEY).for(TENANT_A, 'user-1')).not.toBe(
      new UserReferences('j'.repeat(32)).for(TENANT_A, 'user-1'),
    )
  })

  it('refuses a key shorter than 32 characters', () => {
    expect(() => new UserReferences('short')).toThrow(/at least 32 characters/)
  })
})
