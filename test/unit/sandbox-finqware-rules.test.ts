// Finqware sandbox rules as pure functions: create-body validation, the deadline rules, the redirect query pattern.
import { describe, expect, test } from 'vitest'
import { parseCreateConsent, parseScope } from '../../sandbox/finqware/create-request.ts'
import { dueStatus, type DeadlineView } from '../../sandbox/finqware/deadlines.ts'
import { FinqwareApiError } from '../../sandbox/finqware/errors.ts'
import { REDIRECT_QUERY_PATTERN } from '../../sandbox/finqware/redirect-api.ts'

function refusal(run: () => unknown): { status: number; code: string } | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    if (error instanceof FinqwareApiError) return { status: error.status, code: error.code }
    throw error
  }
}

describe('parseCreateConsent', () => {
  test('fills the defaults: link flow, full scope, 90 days, one-day link', () => {
    expect(parseCreateConsent({ consent: {} })).toEqual({
      flow: 'link',
      providerId: null,
      scope: ['accounts', 'balances', 'transactions'],
      consentValidityDays: 90,
      expiresInSeconds: 86_400,
      webhookUrl: null,
      redirectUrl: null,
    })
  })

  test('accepts both allowed scopes in any order and refuses everything else', () => {
    expect(parseScope(['balances', 'accounts'])).toEqual(['accounts', 'balances'])
    expect(parseScope(['transactions', 'accounts', 'balances'])).toEqual(['accounts', 'balances', 'transactions'])
    expect(refusal(() => parseScope(['accounts']))).toEqual({ status: 400, code: 'validation_error' })
    expect(refusal(() => parseScope(['accounts', 'accounts']))).toEqual({ status: 400, code: 'validation_error' })
  })

  test('bounds consent_validity_days to 1..180 and expires_in to 1 s..45 days', () => {
    for (const days of [0, 181, 2.5]) {
      expect(refusal(() => parseCreateConsent({ consent: { consent_validity_days: days } }))?.code).toBe(
        'validation_error',
      )
    }
    for (const seconds of [0, 3_888_001]) {
      expect(refusal(() => parseCreateConsent({ consent: {}, options: { expires_in: seconds } }))?.code).toBe(
        'validation_error',
      )
    }
    expect(parseCreateConsent({ consent: {}, options: { expires_in: 3_888_000 } }).expiresInSeconds).toBe(3_888_000)
  })

  test('an unknown provider, or a bank-bound flow without one, is a method_selection_error', () => {
    expect(refusal(() => parseCreateConsent({ consent: {}, ais_method: { provider_id: 'xx' } }))?.code).toBe(
      'method_selection_error',
    )
    expect(refusal(() => parseCreateConsent({ consent: {}, options: { type: 'wrapped_sca' } }))?.code).toBe(
      'method_selection_error',
    )
  })
})

describe('dueStatus', () => {
  const now = new Date('2030-06-01T12:00:00.000Z')
  const before = new Date(now.getTime() - 1)
  const after = new Date(now.getTime() + 1)
  const consent = (view: Partial<DeadlineView>): DeadlineView => ({
    status: 'created',
    expiresAt: after,
    authorizedUntil: null,
    activationDueAt: null,
    ...view,
  })

  test.each(['created', 'started', 'requested', 'sca_url_retrieved', 'awaiting_authz'])(
    'a %s consent expires once expires_at is reached',
    (status) => {
      expect(dueStatus(consent({ status, expiresAt: now }), now, 'revoked')).toBe('expired')
      expect(dueStatus(consent({ status, expiresAt: after }), now, 'revoked')).toBeNull()
    },
  )

  test('expires_at does not touch an authorized or active consent', () => {
    const active = consent({ status: 'active', expiresAt: before, authorizedUntil: after })

    expect(dueStatus(active, now, 'revoked')).toBeNull()
  })

  test('an authorized consent becomes active once its activation is due', () => {
    const authorized = consent({ status: 'authorized', activationDueAt: before, authorizedUntil: after })

    expect(dueStatus(authorized, now, 'revoked')).toBe('active')
  })

  test.each(['revoked', 'deactivated'] as const)('validity end gives the configured %s', (validityEndStatus) => {
    const active = consent({ status: 'active', authorizedUntil: now })

    expect(dueStatus(active, now, validityEndStatus)).toBe(validityEndStatus)
  })

  test('terminal statuses have no deadline', () => {
    for (const status of ['expired', 'revoked', 'failed', 'suspended', 'deactivated']) {
      expect(dueStatus(consent({ status, expiresAt: before, authorizedUntil: before }), now, 'revoked')).toBeNull()
    }
  })
})

describe('REDIRECT_QUERY_PATTERN', () => {
  test.each(['state=abc', 'code=1&state=abc', 'state=&code=1', 'a=1&state=x&b=2', 'error=access_denied&state=s'])(
    'accepts %s',
    (query) => {
      expect(REDIRECT_QUERY_PATTERN.test(query)).toBe(true)
    },
  )

  test.each(['', 'code=1', 'stateless=1', '&state=x', 'state', 'code=1&&state=x'])('refuses %j', (query) => {
    expect(REDIRECT_QUERY_PATTERN.test(query)).toBe(false)
  })
})
