// Worldline sandbox rules as pure functions: create-request validation (permissions, ValidUntilDate, notification
// URL forms), the holder count, expiry and the notification window, which consent a data call uses.
import { describe, expect, test } from 'vitest'
import type { WorldlineConsent } from '../../sandbox/worldline/consent.ts'
import {
  parseConsentRequest,
  parsePermissions,
  parseValidUntilDate,
  resolveNotificationTarget,
} from '../../sandbox/worldline/create-request.ts'
import { dataAccess } from '../../sandbox/worldline/data-access.ts'
import { insideNotificationWindow, isDueToExpire, validityEnd } from '../../sandbox/worldline/deadlines.ts'
import { WorldlineApiError } from '../../sandbox/worldline/errors.ts'
import { consentStatusNotification, notificationHeaders } from '../../sandbox/worldline/notification.ts'
import { parseHolders } from '../../sandbox/worldline/sca-pages.ts'

const NOON = new Date('2030-06-15T12:00:00.000Z')

function refusal(run: () => unknown): string | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    if (error instanceof WorldlineApiError) return `${error.status} ${error.code}`
    throw error
  }
}

describe('parsePermissions', () => {
  test('accepts the four combinations in any order, canonically ordered', () => {
    expect(parsePermissions(['Accounts'])).toEqual(['Accounts'])
    expect(parsePermissions(['Balances', 'Accounts'])).toEqual(['Accounts', 'Balances'])
    expect(parsePermissions(['Transactions', 'Accounts'])).toEqual(['Accounts', 'Transactions'])
    expect(parsePermissions(['Transactions', 'Accounts', 'Balances'])).toEqual(['Accounts', 'Balances', 'Transactions'])
  })

  test.each([
    [[]],
    [['Balances']],
    [['Accounts', 'Accounts']],
    [['Accounts', 'Balances', 'Balances']],
    ['Accounts'],
    [null],
    [[1]],
  ])('%j is 400 code 001 (Bad client request: not one of the allowed sets)', (value) => {
    expect(refusal(() => parsePermissions(value))).toBe('400 001')
  })
})

describe('parseValidUntilDate', () => {
  test('today through today + 180 days are accepted; absent is today + 180', () => {
    expect(parseValidUntilDate('2030-06-15', NOON)).toBe('2030-06-15')
    expect(parseValidUntilDate('2030-12-12', NOON)).toBe('2030-12-12')
    expect(parseValidUntilDate(undefined, NOON)).toBe('2030-12-12')
  })

  test.each(['2030-06-14', '2030-12-13'])('%j (outside today to today + 180 days) is 400 code 001', (value) => {
    expect(refusal(() => parseValidUntilDate(value, NOON))).toBe('400 001')
  })

  test.each(['2030-02-29', '2030-13-01', '2030-6-20', 20300620])(
    '%j (not a date) is 400 code 002 (not as the schema defines it)',
    (value) => {
      expect(refusal(() => parseValidUntilDate(value, NOON))).toBe('400 002')
    },
  )

  test('the day is the UTC day of the sandbox clock', () => {
    const lateEvening = new Date('2030-06-15T23:59:59.000Z')
    expect(refusal(() => parseValidUntilDate('2030-06-15', lateEvening))).toBeUndefined()
    expect(refusal(() => parseValidUntilDate('2030-06-15', new Date('2030-06-16T00:00:00.000Z')))).toBe('400 001')
  })
})

describe('resolveNotificationTarget', () => {
  test('form A: a URL ending in /v2 or /v3 gets /notification/status, query kept', () => {
    expect(resolveNotificationTarget('https://tpp.example/hooks/v3', undefined)).toEqual({
      url: 'https://tpp.example/hooks/v3/notification/status',
      form: 'A',
      version: 'v3',
    })
    expect(resolveNotificationTarget('https://tpp.example/v2?tenant=7', undefined)).toEqual({
      url: 'https://tpp.example/v2/notification/status?tenant=7',
      form: 'A',
      version: 'v2',
    })
  })

  test('form A forbids NotificationVersion (400 code 001)', () => {
    expect(refusal(() => resolveNotificationTarget('https://tpp.example/v3', 'v3'))).toBe('400 001')
  })

  test('form B is used as is and requires NotificationVersion v2 or v3 (400 code 133, a conditional field)', () => {
    expect(resolveNotificationTarget('https://tpp.example/hooks/status', 'v3')).toEqual({
      url: 'https://tpp.example/hooks/status',
      form: 'B',
      version: 'v3',
    })
    // A trailing slash or a longer segment is not form A.
    for (const url of ['https://tpp.example/v3/', 'https://tpp.example/v33', 'https://tpp.example/hooks']) {
      expect(refusal(() => resolveNotificationTarget(url, undefined))).toBe('400 133')
    }
    expect(refusal(() => resolveNotificationTarget('https://tpp.example/x', 'V3'))).toBe('400 133')
  })

  test('no URL means no notifications; a non-http URL is 400 code 002', () => {
    expect(resolveNotificationTarget(undefined, 'v3')).toBeNull()
    expect(refusal(() => resolveNotificationTarget('mailto:tpp@example.test', 'v3'))).toBe('400 002')
  })
})

describe('parseConsentRequest', () => {
  test('reads the PascalCase body and the URL headers; RecurringIndicator defaults to true', () => {
    const request = parseConsentRequest(
      { AspspId: '20102', Permissions: ['Accounts'], ValidUntilDate: '2030-07-01', Extra: 1 },
      {
        initiatingpartyreturnurl: 'https://tpp.example/back',
        initiatingpartynotificationurl: 'https://tpp.example/v3',
      },
      NOON,
    )

    expect(request).toEqual({
      aspspId: '20102',
      permissions: ['Accounts'],
      validUntilDate: '2030-07-01',
      recurringIndicator: true,
      returnUrl: 'https://tpp.example/back',
      notification: { url: 'https://tpp.example/v3/notification/status', form: 'A', version: 'v3' },
    })
  })

  test('a non-object body is 400 code 002; an unknown bank 404 code 104', () => {
    expect(refusal(() => parseConsentRequest([], {}, NOON))).toBe('400 002')
    expect(refusal(() => parseConsentRequest({ AspspId: '1', Permissions: ['Accounts'] }, {}, NOON))).toBe('404 104')
  })
})

describe('parseHolders', () => {
  test('absent or empty is 1; whole numbers 1..5 are accepted; anything else is null', () => {
    expect(parseHolders(null)).toBe(1)
    expect(parseHolders('')).toBe(1)
    expect(parseHolders('5')).toBe(5)
    for (const value of ['0', '6', '2.0', '-1', 'two']) expect(parseHolders(value)).toBeNull()
  })
})

describe('deadlines', () => {
  test('validity ends at the next UTC midnight after ValidUntilDate', () => {
    expect(validityEnd('2030-06-15').toISOString()).toBe('2030-06-16T00:00:00.000Z')
  })

  test('only Authorised and PartiallyAuthorised consents are due to expire, from the end of the day on', () => {
    const end = new Date('2030-06-16T00:00:00.000Z')
    const before = new Date(end.getTime() - 1)
    expect(isDueToExpire({ status: 'Authorised', validUntilDate: '2030-06-15' }, before)).toBe(false)
    expect(isDueToExpire({ status: 'Authorised', validUntilDate: '2030-06-15' }, end)).toBe(true)
    expect(isDueToExpire({ status: 'PartiallyAuthorised', validUntilDate: '2030-06-15' }, end)).toBe(true)
    expect(isDueToExpire({ status: 'Open', validUntilDate: '2030-06-15' }, end)).toBe(false)
    expect(isDueToExpire({ status: 'Revoked', validUntilDate: '2030-06-15' }, end)).toBe(false)
  })

  test('the notification window is open strictly less than windowMs after initiation', () => {
    const createdAt = new Date(0)
    expect(insideNotificationWindow(createdAt, new Date(999), 1000)).toBe(true)
    expect(insideNotificationWindow(createdAt, new Date(1000), 1000)).toBe(false)
  })
})

describe('dataAccess', () => {
  let sequence = 0
  function consent(overrides: Partial<WorldlineConsent>): WorldlineConsent {
    sequence += 1
    return {
      consentId: `c-${sequence}`,
      psuId: 'psu',
      aspspId: '20101',
      permissions: ['Accounts'],
      validUntilDate: '2030-12-01',
      recurringIndicator: true,
      status: 'Authorised',
      createdAt: new Date(0),
      authorisedAt: new Date(sequence * 1000),
      returnUrl: null,
      notification: null,
      holdersRequired: 1,
      holdersDone: 1,
      authorisations: [],
      bankExpired: false,
      accounts: [],
      ...overrides,
    }
  }

  test("the newest Authorised consent of that PSU at that bank is used; others' are ignored", () => {
    const older = consent({})
    const newer = consent({})
    const otherBank = consent({ aspspId: '20116' })
    const otherPsu = consent({ psuId: 'someone' })

    expect(dataAccess([newer, older, otherBank, otherPsu], 'psu', '20101')).toEqual({
      outcome: 'granted',
      consent: newer,
    })
  })

  test('expired at the bank only, or Expired, answers expired', () => {
    const hidden = consent({ bankExpired: true })
    const expired = consent({ status: 'Expired' })

    expect(dataAccess([hidden], 'psu', '20101').outcome).toBe('expired')
    expect(dataAccess([expired], 'psu', '20101').outcome).toBe('expired')
  })

  test('an Authorised consent wins over a newer revoked one; never authorised or revoked means none', () => {
    const authorised = consent({})
    const revokedLater = consent({ status: 'Revoked' })

    expect(dataAccess([authorised, revokedLater], 'psu', '20101').outcome).toBe('granted')
    expect(dataAccess([consent({ status: 'Revoked' })], 'psu', '20101').outcome).toBe('none')
    expect(dataAccess([consent({ status: 'Pending', authorisedAt: null })], 'psu', '20101').outcome).toBe('none')
    expect(dataAccess([], 'psu', '20101').outcome).toBe('none')
  })

  test('a newer revoked consent hides an older expired one', () => {
    const expired = consent({ status: 'Expired' })
    const revoked = consent({ status: 'Revoked' })

    expect(dataAccess([expired, revoked], 'psu', '20101').outcome).toBe('none')
  })
})

describe('consentStatusNotification', () => {
  test("is the spec's ConsentDetailedInformation body: the consent, its status and its ASPSP", () => {
    const body = consentStatusNotification({ consentId: 'c-1', status: 'Expired', aspspId: '20101' })

    expect(JSON.parse(body)).toEqual({ ConsentId: 'c-1', ConsentStatus: 'Expired', AspspId: '20101' })
  })

  test('every request has its own X-Request-ID and is dated by the given clock', () => {
    const now = new Date('2030-06-16T00:00:00.000Z')

    const first = notificationHeaders('tok', now)
    const second = notificationHeaders('tok', now)

    expect(first).toEqual({
      authorization: 'Bearer tok',
      'X-Request-ID': expect.stringMatching(/^[0-9a-f-]{36}$/),
      MessageCreateDateTime: '2030-06-16T00:00:00.000Z',
    })
    expect(second['X-Request-ID']).not.toBe(first['X-Request-ID'])
  })
})
