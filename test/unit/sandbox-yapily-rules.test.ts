// Yapily sandbox rules as pure functions: callback registration, the create request, the extend rules, the list's
// required-filter rule and selection, delete outcomes, data access, lifetimes, Basic auth and status names.
import { describe, expect, test } from 'vitest'
import { authenticateApplication, basicAuthorization } from '../../sandbox/yapily/basic-auth.ts'
import { approvedCallbackUrl, deniedCallbackUrl, isRegisteredCallback } from '../../sandbox/yapily/callbacks.ts'
import type { YapilyConsent } from '../../sandbox/yapily/consent.ts'
import { MAX_LIMIT, listMeta, parseConsentQuery, selectConsents } from '../../sandbox/yapily/consent-list.ts'
import {
  parseAuthorisationRequest,
  parseExpiresAt,
  parseFeatureScope,
  parseUserReference,
} from '../../sandbox/yapily/create-request.ts'
import { dataAccess } from '../../sandbox/yapily/data-access.ts'
import { deleteOutcome, parseForceDelete } from '../../sandbox/yapily/delete-rules.ts'
import { YapilyApiError, YapilyIssueError, httpStatusName } from '../../sandbox/yapily/errors.ts'
import { FUTURE_MESSAGE, checkExtension } from '../../sandbox/yapily/extend-rules.ts'
import { findInstitution } from '../../sandbox/yapily/institutions.ts'
import { DAY_MS, authorisationDates, isDueToExpire, isoDuration } from '../../sandbox/yapily/lifetimes.ts'

const NOON = new Date('2030-06-15T12:00:00.000Z')
const UK = { id: 'modelo-sandbox', region: 'UK' as const }
const EEA = { id: 'santander-es-sandbox', region: 'EEA' as const }

/** `"<status>"` of a legacy refusal, `"<status> <issue code>: <message>"` of a newer one, undefined when accepted. */
function refusal(run: () => unknown): string | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    if (error instanceof YapilyApiError) return `${error.status}`
    if (error instanceof YapilyIssueError) return `${error.status} ${error.issues[0]?.code}: ${error.message}`
    throw error
  }
}

function consentAt(overrides: Partial<YapilyConsent>): YapilyConsent {
  return {
    id: 'c-1',
    applicationId: 'app',
    userUuid: 'u-1',
    applicationUserId: 'user-1',
    institutionId: 'modelo-sandbox',
    status: 'AUTHORIZED',
    createdAt: NOON,
    sequence: 1,
    featureScope: ['ACCOUNTS'],
    transactionFrom: null,
    transactionTo: null,
    requestedExpiresAt: null,
    expiresAt: null,
    state: 's',
    institutionConsentId: 'aac-1',
    callback: null,
    consentToken: 't',
    authorizedAt: NOON,
    lastConfirmedAt: NOON,
    reconfirmBy: null,
    isDeletedByInstitution: null,
    revokedAtBank: false,
    statusBeforeReauthorisation: null,
    pages: [],
    currentPageId: null,
    scaMethods: null,
    selectedScaMethod: null,
    ...overrides,
  }
}

describe('isRegisteredCallback', () => {
  const registered = ['https://partner.example/', 'https://app.example/auth/', 'https://exact.example/cb']

  test.each([
    'https://partner.example/',
    'https://partner.example',
    'https://partner.example/any/depth?and=query',
    'https://app.example/auth/done',
    'https://exact.example/cb',
    'HTTPS://EXACT.example/cb',
  ])('%s is covered', (callback) => {
    expect(isRegisteredCallback(callback, registered)).toBe(true)
  })

  test.each([
    'https://partner.example.evil/',
    'https://evil.example/partner.example/',
    'http://partner.example/',
    'https://partner.example:444/',
    'https://app.example/authx',
    'https://app.example/auth/../admin',
    'https://exact.example/cb/',
    'https://exact.example/cb?x=1',
    'ftp://partner.example/',
    'not a url',
  ])('%s is not covered', (callback) => {
    expect(isRegisteredCallback(callback, registered)).toBe(false)
  })

  test('nothing is registered: nothing is covered', () => {
    expect(isRegisteredCallback('https://partner.example/', [])).toBe(false)
  })

  test('the outcome is appended to the callback, its own query kept', () => {
    const consent = { consentToken: 'a.b.c', applicationUserId: 'u 1', userUuid: 'uu', institutionId: 'modelo-sandbox' }

    const approved = new URL(approvedCallbackUrl('https://p.example/cb?s=1', consent))
    const denied = new URL(deniedCallbackUrl('https://p.example/cb', consent, 'no'))

    expect(Object.fromEntries(approved.searchParams)).toEqual({
      s: '1',
      consent: 'a.b.c',
      'application-user-id': 'u 1',
      'user-uuid': 'uu',
      institution: 'modelo-sandbox',
    })
    expect(Object.fromEntries(denied.searchParams)).toEqual({
      error: 'access_denied',
      'error-description': 'no',
      'application-user-id': 'u 1',
      institution: 'modelo-sandbox',
    })
  })
})

describe('the create request', () => {
  const rules = { callbacks: ['https://partner.example/'], now: NOON }
  const modelo = findInstitution('modelo-sandbox')!
  const santander = findInstitution('santander-es-sandbox')!

  test('a minimal request gets the institution, the user and the default scope', () => {
    const request = parseAuthorisationRequest({ institutionId: 'modelo-sandbox', applicationUserId: 'u' }, rules)

    expect(request).toMatchObject({ user: { applicationUserId: 'u' }, callback: null, requestedExpiresAt: null })
    expect(request.institution.id).toBe('modelo-sandbox')
    expect(request.featureScope).toContain('ACCOUNTS')
    expect(request.featureScope).not.toContain('INITIATE_ACCOUNT_REQUEST')
  })

  test.each([
    [null, '400'],
    [{}, '400'],
    [{ institutionId: 'nope', applicationUserId: 'u' }, '404'],
    [{ institutionId: 'modelo-sandbox', applicationUserId: 'u', callback: 'https://other.example/' }, '400'],
    [{ institutionId: 'modelo-sandbox', applicationUserId: 'u', accountRequest: [] }, '400'],
    [{ institutionId: 'modelo-sandbox', applicationUserId: 'u', oneTimeToken: true }, '400'],
  ])('%j is refused with %s', (body, status) => {
    expect(refusal(() => parseAuthorisationRequest(body, rules))).toBe(status)
  })

  test('exactly one of applicationUserId and userUuid', () => {
    const uuid = '6b082877-b137-4743-bba3-07b6a8148b42'

    expect(parseUserReference('u', undefined)).toEqual({ applicationUserId: 'u' })
    expect(parseUserReference(null, uuid.toUpperCase())).toEqual({ userUuid: uuid })
    expect(refusal(() => parseUserReference('u', uuid))).toBe('400')
    expect(refusal(() => parseUserReference(undefined, undefined))).toBe('400')
    expect(refusal(() => parseUserReference(42, undefined))).toBe('400')
  })

  test('featureScope: FeatureEnum values only, duplicates dropped, empty means the default', () => {
    expect(parseFeatureScope(['ACCOUNTS', 'IDENTITY', 'ACCOUNTS'], modelo)).toEqual(['ACCOUNTS', 'IDENTITY'])
    expect(parseFeatureScope([], santander)).toEqual([
      'ACCOUNTS',
      'ACCOUNT',
      'ACCOUNT_BALANCES',
      'ACCOUNT_TRANSACTIONS',
    ])
    expect(refusal(() => parseFeatureScope(['ACCOUNTS', 'accounts'], modelo))).toBe('400')
    expect(refusal(() => parseFeatureScope([1], modelo))).toBe('400')
  })

  test('expiresAt: honoured in the future where supported, ignored elsewhere, malformed refused everywhere', () => {
    expect(parseExpiresAt('2030-07-01T00:00:00+01:00', modelo, NOON)?.toISOString()).toBe('2030-06-30T23:00:00.000Z')
    expect(parseExpiresAt('2030-07-01T00:00:00Z', santander, NOON)).toBeNull()
    expect(parseExpiresAt('2020-01-01T00:00:00Z', santander, NOON)).toBeNull()
    expect(refusal(() => parseExpiresAt('2030-06-15T12:00:00Z', modelo, NOON))).toBe('400')
    expect(refusal(() => parseExpiresAt('2030-07-01', modelo, NOON))).toBe('400')
    expect(refusal(() => parseExpiresAt('soon', santander, NOON))).toBe('400')
  })
})

describe('checkExtension', () => {
  const before = new Date(NOON.getTime() - DAY_MS)
  const authorised = consentAt({ lastConfirmedAt: before })

  test('an AUTHORIZED UK consent takes a strictly later, non-future lastConfirmedAt', () => {
    const accepted = checkExtension(authorised, UK, { lastConfirmedAt: '2030-06-15T11:59:59.000Z' }, NOON)
    const exactlyNow = checkExtension(authorised, UK, { lastConfirmedAt: NOON.toISOString() }, NOON)

    expect(accepted.toISOString()).toBe('2030-06-15T11:59:59.000Z')
    expect(exactlyNow.getTime()).toBe(NOON.getTime())
  })

  test.each([
    ['no body', undefined],
    ['an array', []],
    ['missing', {}],
    ['null', { lastConfirmedAt: null }],
    ['a number', { lastConfirmedAt: 1_700_000_000 }],
    ['a date only', { lastConfirmedAt: '2030-06-15' }],
    ['no offset', { lastConfirmedAt: '2030-06-15T11:00:00' }],
  ])('lastConfirmedAt %s: 400 issue 10600', (_case, body) => {
    expect(refusal(() => checkExtension(authorised, UK, body, NOON))).toMatch(/^400 10600: /)
  })

  test('a future time: the exact documented message', () => {
    const body = { lastConfirmedAt: '2030-06-15T12:00:00.001Z' }

    expect(refusal(() => checkExtension(authorised, UK, body, NOON))).toBe(`400 10600: ${FUTURE_MESSAGE}`)
    expect(FUTURE_MESSAGE).toBe('lastConfirmedAt cannot be a future date and time')
  })

  test('not later than the current lastConfirmedAt, not AUTHORIZED, not UK: 400', () => {
    const body = { lastConfirmedAt: '2030-06-15T11:00:00Z' }

    expect(refusal(() => checkExtension(authorised, UK, { lastConfirmedAt: before.toISOString() }, NOON))).toMatch(
      /^400 10600: lastConfirmedAt must be later/,
    )
    for (const status of ['EXPIRED', 'AWAITING_RE_AUTHORIZATION', 'REVOKED', 'AWAITING_AUTHORIZATION'] as const) {
      expect(refusal(() => checkExtension({ ...authorised, status }, UK, body, NOON))).toContain(status)
    }
    expect(refusal(() => checkExtension(authorised, EEA, body, NOON))).toMatch(/not a UK consent/)
  })

  test('the checks run in order: syntax, institution, status, future, not later', () => {
    const pendingEea = { ...authorised, status: 'AWAITING_AUTHORIZATION' as const }

    expect(refusal(() => checkExtension(pendingEea, EEA, {}, NOON))).toContain('required')
    expect(refusal(() => checkExtension(pendingEea, EEA, { lastConfirmedAt: '2031-01-01T00:00:00Z' }, NOON))).toContain(
      'not a UK consent',
    )
    expect(refusal(() => checkExtension(pendingEea, UK, { lastConfirmedAt: '2031-01-01T00:00:00Z' }, NOON))).toContain(
      'AWAITING_AUTHORIZATION',
    )
  })
})

describe('the consent list', () => {
  const query = (text: string) => parseConsentQuery(new URLSearchParams(text))

  test('at least one of filter[applicationUserId], filter[userUuid] or limit is required', () => {
    expect(refusal(() => query(''))).toBe('400')
    expect(refusal(() => query('filter[institution]=modelo-sandbox&filter[status]=AUTHORIZED&offset=0'))).toBe('400')
    expect(refusal(() => query('filter[applicationUserId]='))).toBe('400')
    expect(query('filter[applicationUserId]=a').limit).toBe(MAX_LIMIT)
    expect(query('filter[userUuid]=U-1').userUuids).toEqual(['u-1'])
    expect(query('limit=1')).toMatchObject({ limit: 1, offset: 0 })
  })

  test('filters repeat and are not split on commas', () => {
    expect(query('filter[applicationUserId]=a,b&filter[applicationUserId]=c').applicationUserIds).toEqual(['a,b', 'c'])
    expect(query('limit=5&filter[status]=REJECTED&filter[status]=EXPIRED').statuses).toEqual(['REJECTED', 'EXPIRED'])
  })

  test.each(['limit=0', 'limit=1001', 'limit=1.5', 'limit=', 'limit=5&offset=x', 'limit=5&filter[status]=active'])(
    '%s is 400',
    (text) => {
      expect(refusal(() => query(text))).toBe('400')
    },
  )

  test('selection: every given filter must match, any of its values; newest first, ties by creation order', () => {
    const at = (ms: number) => new Date(NOON.getTime() + ms)
    const consents = [
      consentAt({ id: 'a1', applicationUserId: 'a', createdAt: at(0), sequence: 1 }),
      consentAt({ id: 'a2', applicationUserId: 'a', createdAt: at(0), sequence: 2, status: 'REJECTED' }),
      consentAt({ id: 'b1', applicationUserId: 'b', createdAt: at(10), sequence: 3, institutionId: 'other' }),
      consentAt({ id: 'c1', applicationUserId: 'c', createdAt: at(20), sequence: 4 }),
    ]
    const ids = (text: string) => selectConsents(consents, query(text)).page.map((consent) => consent.id)

    expect(ids('filter[applicationUserId]=a&filter[applicationUserId]=b')).toEqual(['b1', 'a2', 'a1'])
    expect(ids('limit=10&filter[status]=AUTHORIZED&filter[institution]=modelo-sandbox')).toEqual(['c1', 'a1'])
    expect(ids(`limit=10&from=${at(10).toISOString()}`)).toEqual(['c1', 'b1'])
    expect(ids(`limit=10&before=${at(10).toISOString()}`)).toEqual(['b1', 'a2', 'a1'])
    expect(ids('limit=2&offset=1')).toEqual(['b1', 'a2'])
    expect(selectConsents(consents, query('limit=2&offset=1')).totalCount).toBe(4)
  })

  test('meta reports count, totalCount and the page asked for', () => {
    expect(listMeta(query('limit=2&offset=4'), 1, 5)).toEqual({
      count: 1,
      pagination: { totalCount: 5, self: { limit: 2, sort: '-date', offset: 4 } },
    })
  })
})

describe('delete', () => {
  test('the three bank/forceDelete cases', () => {
    expect(deleteOutcome(false, true)).toEqual({ deleteStatus: 'SUCCESS', deleted: true, isDeletedByInstitution: true })
    expect(deleteOutcome(false, false)).toEqual({
      deleteStatus: 'SUCCESS',
      deleted: true,
      isDeletedByInstitution: true,
    })
    expect(deleteOutcome(true, true)).toEqual({ deleteStatus: 'SUCCESS', deleted: true, isDeletedByInstitution: false })
    expect(deleteOutcome(true, false)).toMatchObject({ deleteStatus: 'FAILED', deleted: false })
  })

  test('forceDelete defaults to true and reads true/false in any case', () => {
    expect(parseForceDelete(null)).toBe(true)
    expect(parseForceDelete('')).toBe(true)
    expect(parseForceDelete('FALSE')).toBe(false)
    expect(parseForceDelete('true')).toBe(true)
    expect(refusal(() => parseForceDelete('0'))).toBe('400')
  })
})

describe('data access', () => {
  test('granted while AUTHORIZED, or awaiting a re-authorisation started from AUTHORIZED', () => {
    expect(dataAccess(consentAt({}), NOON)).toEqual({ outcome: 'granted' })
    expect(
      dataAccess(consentAt({ status: 'AWAITING_RE_AUTHORIZATION', statusBeforeReauthorisation: 'AUTHORIZED' }), NOON),
    ).toEqual({ outcome: 'granted' })
  })

  test.each([
    ['revoked at the bank (status still AUTHORIZED)', { revokedAtBank: true }],
    ['deleted', { isDeletedByInstitution: false }],
    ['EXPIRED', { status: 'EXPIRED' }],
    ['REVOKED', { status: 'REVOKED' }],
    [
      'awaiting re-authorisation from EXPIRED',
      { status: 'AWAITING_RE_AUTHORIZATION', statusBeforeReauthorisation: 'EXPIRED' },
    ],
    ['AUTHORIZED but past expiresAt (before the sweep)', { expiresAt: NOON }],
    ['AUTHORIZED but past reconfirmBy (UK, not reconfirmed)', { reconfirmBy: NOON }],
  ] as Array<[string, Partial<YapilyConsent>]>)('%s: forbidden', (_case, overrides) => {
    expect(dataAccess(consentAt(overrides), NOON).outcome).toBe('forbidden')
  })
})

describe('lifetimes', () => {
  test('UK: reconfirmBy and expiresAt 90 days on; EEA: no reconfirmBy, 180 days; a requested expiresAt stays', () => {
    const requested = new Date('2030-07-01T00:00:00Z')

    expect(authorisationDates(UK, null, NOON)).toEqual({
      authorizedAt: NOON,
      lastConfirmedAt: NOON,
      reconfirmBy: new Date(NOON.getTime() + 90 * DAY_MS),
      expiresAt: new Date(NOON.getTime() + 90 * DAY_MS),
    })
    expect(authorisationDates(EEA, null, NOON)).toMatchObject({
      reconfirmBy: null,
      expiresAt: new Date(NOON.getTime() + 180 * DAY_MS),
    })
    expect(authorisationDates(UK, requested, NOON).expiresAt).toBe(requested)
  })

  test('only an AUTHORIZED consent at or past expiresAt is due to expire', () => {
    expect(isDueToExpire({ status: 'AUTHORIZED', expiresAt: NOON }, NOON)).toBe(true)
    expect(isDueToExpire({ status: 'AUTHORIZED', expiresAt: new Date(NOON.getTime() + 1) }, NOON)).toBe(false)
    expect(isDueToExpire({ status: 'AWAITING_RE_AUTHORIZATION', expiresAt: NOON }, NOON)).toBe(false)
    expect(isDueToExpire({ status: 'AUTHORIZED', expiresAt: null }, NOON)).toBe(false)
  })

  test.each([
    [0, 'PT0S'],
    [1_500, 'PT1.5S'],
    [89 * DAY_MS + 12 * 3_600_000 + 12 * 60_000 + 35_472, 'P89DT12H12M35.472S'],
    [2 * DAY_MS, 'P2D'],
    [-5, 'PT0S'],
  ])('isoDuration(%d) is %s', (ms, expected) => {
    expect(isoDuration(ms)).toBe(expected)
  })
})

describe('Basic authentication and status names', () => {
  const applications = [
    { key: 'k1', secret: 's1', id: 'a1' },
    { key: 'k2', secret: 's:2', id: 'a2' },
  ]

  test('the matching application, a secret with a colon included; anything else is undefined', () => {
    expect(authenticateApplication(basicAuthorization('k1', 's1'), applications)?.id).toBe('a1')
    expect(authenticateApplication(basicAuthorization('k2', 's:2'), applications)?.id).toBe('a2')
    expect(authenticateApplication(basicAuthorization('k1', 's2'), applications)).toBeUndefined()
    expect(authenticateApplication(undefined, applications)).toBeUndefined()
    expect(authenticateApplication('Bearer x', applications)).toBeUndefined()
  })

  test.each([
    [400, 'BAD_REQUEST'],
    [401, 'UNAUTHORIZED'],
    [403, 'FORBIDDEN'],
    [404, 'NOT_FOUND'],
    [406, 'NOT_ACCEPTABLE'],
    [424, 'FAILED_DEPENDENCY'],
    [500, 'INTERNAL_SERVER_ERROR'],
  ])('%d is %s', (status, name) => {
    expect(httpStatusName(status)).toBe(name)
  })
})
