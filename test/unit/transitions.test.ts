import { describe, expect, it } from 'vitest'
import { ALLOWED_TRANSITIONS, canTransition } from '../../domain/transitions.ts'
import { CONSENT_STATUSES, isTerminal, type ConsentStatus } from '../../domain/status.ts'

describe('allowed transitions', () => {
  it('defines every status', () => {
    expect(Object.keys(ALLOWED_TRANSITIONS).sort()).toEqual([...CONSENT_STATUSES].sort())
  })

  it('lets nothing follow a final status except re-authorising an expired consent', () => {
    for (const from of CONSENT_STATUSES.filter(isTerminal)) {
      const next = ALLOWED_TRANSITIONS[from]
      if (from === 'EXPIRED') expect([...next].sort()).toEqual(['ACTIVE', 'AWAITING_REAUTHORIZATION'])
      else expect(next).toEqual([])
    }
  })

  it.each<[ConsentStatus, ConsentStatus]>([
    ['ACTIVE', 'AWAITING_AUTHORIZATION'],
    ['ACTIVE', 'CREATED'],
    ['AUTHORIZED', 'AWAITING_AUTHORIZATION'],
    ['REVOKED', 'ACTIVE'],
    ['LINK_EXPIRED', 'ACTIVE'],
    ['FAILED', 'ACTIVE'],
    ['PARTIALLY_AUTHORIZED', 'CREATED'],
  ])('refuses the stale move %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false)
  })

  it.each<[ConsentStatus, ConsentStatus]>([
    ['CREATED', 'AWAITING_AUTHORIZATION'],
    ['AWAITING_AUTHORIZATION', 'ACTIVE'],
    ['AWAITING_AUTHORIZATION', 'LINK_EXPIRED'],
    ['PARTIALLY_AUTHORIZED', 'ACTIVE'],
    ['AUTHORIZED', 'ACTIVE'],
    ['ACTIVE', 'SUSPENDED'],
    ['SUSPENDED', 'ACTIVE'],
    ['ACTIVE', 'REVOKED'],
    ['ACTIVE', 'SUPERSEDED'],
    ['ACTIVE', 'AWAITING_REAUTHORIZATION'],
    ['AWAITING_REAUTHORIZATION', 'ACTIVE'],
    ['EXPIRED', 'AWAITING_REAUTHORIZATION'],
    ['UNKNOWN', 'ACTIVE'],
  ])('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true)
  })

  it('treats staying put as allowed (a refresh that changes only details)', () => {
    for (const status of CONSENT_STATUSES) expect(canTransition(status, status)).toBe(true)
  })
})
