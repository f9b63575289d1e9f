import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../domain/errors.ts'
import { resolveConsentTerms } from '../../domain/policy.ts'

function issuesOf(fn: () => unknown) {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).issues
  }
  throw new Error('expected a ValidationError')
}

describe('UK/EEA consent policy', () => {
  it('defaults validity to the region maximum and the link to 7 days', () => {
    expect(resolveConsentTerms({ region: 'UK' })).toEqual({ validityDays: 90, linkExpiresInDays: 7 })
    expect(resolveConsentTerms({ region: 'EEA', validityDays: null })).toEqual({
      validityDays: 180,
      linkExpiresInDays: 7,
    })
  })

  it('accepts the maxima exactly', () => {
    expect(resolveConsentTerms({ region: 'UK', validityDays: 90, linkExpiresInDays: 45 })).toEqual({
      validityDays: 90,
      linkExpiresInDays: 45,
    })
    expect(resolveConsentTerms({ region: 'EEA', validityDays: 180, linkExpiresInDays: 1 })).toEqual({
      validityDays: 180,
      linkExpiresInDays: 1,
    })
  })

  it('refuses more than 90 days in the UK and 180 in the EEA', () => {
    expect(issuesOf(() => resolveConsentTerms({ region: 'UK', validityDays: 91 }))).toEqual([
      { path: 'input.validityDays', message: 'must be at most 90 days (UK)' },
    ])
    expect(issuesOf(() => resolveConsentTerms({ region: 'EEA', validityDays: 181 }))).toEqual([
      { path: 'input.validityDays', message: 'must be at most 180 days (EEA)' },
    ])
  })

  it('refuses links longer than 45 days, non-positive and fractional days, naming every broken rule', () => {
    const issues = issuesOf(() => resolveConsentTerms({ region: 'EEA', validityDays: 0, linkExpiresInDays: 46 }))
    expect(issues.map((issue) => issue.path)).toEqual(['input.validityDays', 'input.linkExpiresInDays'])
    expect(issuesOf(() => resolveConsentTerms({ region: 'EEA', validityDays: 1.5 }))[0]?.message).toBe(
      'must be a whole number of days',
    )
    expect(issuesOf(() => resolveConsentTerms({ region: 'UK', linkExpiresInDays: -1 }))[0]?.message).toBe(
      'must be at least 1 day',
    )
  })
})
