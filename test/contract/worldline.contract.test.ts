// The Worldline adapter against the Worldline simulator through a recording proxy, every exchange held to what
// Worldline publishes: its OAuth spec v1.4.5 (the token request and answers), the error model and shared headers of its
// Open Banking services (PIS v3.6.0, shared by AIS) and its Open Banking Notification spec v3.3.1. Worldline publishes
// no AIS or directory schema: those paths are listed below, and only their requests' shared headers and their error
// answers are checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InstitutionNotFoundError, ProviderRejectedError } from '../../domain/errors.ts'
import { createWorldlineAdapter, type WorldlineAdapter } from '../../providers/worldline/adapter.ts'
import {
  aConsentRequest,
  eventually,
  institutionOf,
  rejectionOf,
  startWorldlineHarness,
  submitBankDecision,
  testCallContext,
  type WorldlineHarness,
} from '../support/provider-drivers.ts'
import { startRecordingProxy, startRecordingReceiver, type Recorder } from './support/recording-proxy.ts'
import { ContractTally, ContractValidator, type UnpublishedPath } from './support/validate.ts'

const S = '/xs2a/routingservice/services'
const A = `${S}/ob/ais/v3`
const NO_AIS_SPEC = 'Worldline publishes no AIS v3 schema; its Open Banking headers and error model apply'

/** Every path the adapter calls that Worldline publishes no schema for. */
const UNPUBLISHED: readonly UnpublishedPath[] = [
  { method: 'POST', path: `${A}/psus/{psuId}/consents`, reason: NO_AIS_SPEC, sharedParameters: true },
  { method: 'GET', path: `${A}/psus/{psuId}/consents/{consentId}/status`, reason: NO_AIS_SPEC, sharedParameters: true },
  { method: 'DELETE', path: `${A}/psus/{psuId}/consents/{consentId}`, reason: NO_AIS_SPEC, sharedParameters: true },
  {
    method: 'POST',
    path: `${A}/psus/{psuId}/consents/{consentId}/authorisations`,
    reason: NO_AIS_SPEC,
    sharedParameters: true,
  },
  { method: 'GET', path: `${A}/psus/{psuId}/aspsps/{aspspId}/accounts`, reason: NO_AIS_SPEC, sharedParameters: true },
  // The directory takes the token and `Service`; Worldline publishes neither its schema nor its headers.
  { method: 'GET', path: `${S}/directory/v3/aspsps`, reason: 'Worldline publishes no directory schema' },
]

/**
 * The error tables the specs publish in their `Error` descriptions (prose, so not in the extracted schemas): the codes
 * each HTTP status may carry. The schema only says "one to three digits"; these say which.
 */
const DOCUMENTED_CODES: Readonly<Record<number, readonly string[]>> = {
  400: ['001', '002', '008', '101', '102', '105', '122', '133', '136'],
  401: [
    '003',
    '021',
    '123',
    '132',
    '135',
    '140',
    '141',
    '142',
    '143',
    '144',
    '145',
    '146',
    '147',
    '148',
    '149',
    '153',
    '154',
  ],
  403: ['007', '017', '119', '120', '134'],
  404: ['104', '110', '150'],
  405: ['137'],
  415: ['158'],
  500: ['004', '116', '152'],
  502: ['012'],
  503: ['016'],
}
/** Worldline's OAuth spec v1.4.5, its `Error` table for the token endpoint. */
const DOCUMENTED_TOKEN_CODES: Readonly<Record<number, readonly string[]>> = {
  401: ['001', '003', '007', '101', '102'],
  500: ['004'],
}

/** Where the notification receiver is mounted: the adapter's notification URL, to which Worldline adds /v3/... */
const HOOKS = '/webhooks/worldline'

let harness: WorldlineHarness
let proxy: Recorder
let receiver: Recorder
let adapter: WorldlineAdapter
const validator = new ContractValidator({
  provider: 'worldline',
  mounts: { 'notification.json': `${HOOKS}/v3/notification` },
  unpublished: UNPUBLISHED,
  errorModel: 'error-model.json',
})
const tally = new ContractTally()
/** The operations and error cases driven below, each counted once. */
const exercised = new Set<string>()

beforeAll(async () => {
  harness = await startWorldlineHarness()
  proxy = await startRecordingProxy(harness.sandbox.url)
  receiver = await startRecordingReceiver()
  adapter = createWorldlineAdapter({ ...harness.adapterConfig, baseUrl: proxy.url })
})

afterAll(async () => {
  console.log(tally.line('worldline'))
  await proxy?.close()
  await receiver?.close()
  await harness?.teardown()
})

async function authorisedConsent(userRef: string, holders = '1') {
  const institution = await institutionOf(adapter, '20101')
  const created = await adapter.create(
    aConsentRequest(adapter, institution, `${receiver.url}${HOOKS}`, { userRef }),
    testCallContext(),
  )
  await submitBankDecision(created.authorizationUrl ?? '', 'approve', { holders })
  return { providerConsentId: created.providerConsentId, userRef, institutionId: '20101' }
}

/** A raw call through the proxy with the adapter's own token, for answers the adapter never provokes. */
async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const token = [...proxy.exchanges].reverse().find((exchange) => exchange.headers.authorization?.startsWith('Bearer'))
  return fetch(`${proxy.url}${path}`, {
    method,
    headers: {
      authorization: token?.headers.authorization ?? '',
      'x-request-id': crypto.randomUUID(),
      MessageCreateDateTime: new Date().toISOString(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

describe('the Worldline adapter and simulator against Worldline’s published schemas', () => {
  it('lists the ASPSP directory (token first)', async () => {
    const institutions = await adapter.listInstitutions(testCallContext())
    expect(institutions.length).toBeGreaterThan(0)
    // The OAuth spec's token operation: `Date` "ISO 8601 DateTime" (its schema says only string, so checked here).
    const tokenDates = proxy.exchanges.filter((e) => e.path === `${S}/authorize/token`).map((e) => e.headers.date)
    expect(tokenDates.length).toBeGreaterThan(0)
    for (const date of tokenDates) expect(date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
    exercised.add('token').add('directory')
  })

  it('creates, reads, starts the next holder’s authorisation, probes accounts and deletes a consent', async () => {
    const ref = await authorisedConsent('contract-user-1', '2')
    const partial = await adapter.fetch(ref, testCallContext())
    expect(partial.providerStatus).toBe('PartiallyAuthorised')
    await harness.decideAtBank(partial.authorizationUrl ?? '', 'approve')
    const active = await adapter.fetch(ref, testCallContext())
    expect(active.status).toBe('ACTIVE')
    const revoked = await adapter.revoke(ref, testCallContext())
    expect(revoked.status).toBe('REVOKED')
    exercised.add('create').add('status').add('authorisations').add('accounts').add('delete')
  })

  it('sends status notifications the adapter accepts', async () => {
    await authorisedConsent('contract-user-notified')
    const notifications = await eventually(
      () => Promise.resolve(receiver.exchanges.filter((exchange) => exchange.path.startsWith(HOOKS))),
      (found) => found.some((exchange) => (exchange.requestBody as any)?.ConsentStatus === 'Authorised'),
      'an Authorised notification',
    )
    for (const notification of notifications) {
      const events = await adapter.verifyNotification({
        headers: notification.headers,
        body: JSON.stringify(notification.requestBody),
        path: notification.path.slice(HOOKS.length),
      })
      expect(events).toHaveLength(1)
    }
    exercised.add('notification')
  })

  it('reports an unknown bank (404 Code 104) as INSTITUTION_NOT_FOUND', async () => {
    const known = await institutionOf(adapter, '20101')
    const error = await rejectionOf(
      adapter.create(
        aConsentRequest(adapter, { ...known, id: '99999' }, `${receiver.url}${HOOKS}`, { userRef: 'contract-unknown' }),
        testCallContext(),
      ),
    )
    expect(error).toBeInstanceOf(InstitutionNotFoundError)
    exercised.add('error: unknown bank')
  })

  it('renews an expired access token (403 Code 017) and reads a bank-expired consent (401 Code 123)', async () => {
    const ref = await authorisedConsent('contract-user-expiry')
    await harness.control('clock', { advanceSeconds: 2 * 3_600 })
    expect((await adapter.fetch(ref, testCallContext())).status).toBe('ACTIVE')
    expect(proxy.exchanges.some((exchange) => exchange.status === 403)).toBe(true)
    await harness.control('clock', { advanceSeconds: 4 * 86_400 })
    await harness.control(`consents/${ref.providerConsentId}/bank-expiry`, {})
    expect((await adapter.fetch(ref, testCallContext())).status).toBe('EXPIRED')
    exercised.add('error: expired token').add('error: consent expired')
  })

  it('reports a consent Worldline does not know (404 Code 110) as PROVIDER_REJECTED with that code, not retryable', async () => {
    const ref = { providerConsentId: crypto.randomUUID(), userRef: 'contract-user-1', institutionId: '20101' }
    const error = await rejectionOf(adapter.fetch(ref, testCallContext()))
    expect(error).toBeInstanceOf(ProviderRejectedError)
    expect(error).toMatchObject({ providerCode: '110', providerHttpStatus: 404, retryable: false })
    exercised.add('error: unknown consent')
  })

  it('reports refused client credentials (401 with the OAuth spec’s code) as PROVIDER_REJECTED', async () => {
    const stranger = createWorldlineAdapter({ ...harness.adapterConfig, baseUrl: proxy.url, keyId: 'unknown-key' })
    const error = await rejectionOf(stranger.listInstitutions(testCallContext()))
    expect(error).toBeInstanceOf(ProviderRejectedError)
    expect(error).toMatchObject({ providerCode: '003', providerHttpStatus: 401 })
    exercised.add('error: bad client credentials')
  })

  it('answers in the published error model where the adapter never asks wrongly', async () => {
    const consents = `${A}/psus/contract-raw/consents`
    const answers = [
      // Unknown consent, a permission set Worldline does not offer, a past ValidUntilDate, both notification-URL forms
      // refused, a data call with no consent,
      // and a further authorisation of a consent that does not exist.
      await raw('GET', `${consents}/unknown-consent/status`),
      await raw('POST', consents, { AspspId: '20101', Permissions: ['Balances'], RecurringIndicator: true }),
      await raw('POST', consents, {
        AspspId: '20101',
        Permissions: ['Accounts'],
        ValidUntilDate: '2000-01-01',
        RecurringIndicator: true,
      }),
      await raw(
        'POST',
        consents,
        { AspspId: '20101', Permissions: ['Accounts'], RecurringIndicator: true },
        { InitiatingPartyNotificationUrl: 'https://tpp.example/hooks/v3', NotificationVersion: 'v3' },
      ),
      await raw(
        'POST',
        consents,
        { AspspId: '20101', Permissions: ['Accounts'], RecurringIndicator: true },
        { InitiatingPartyNotificationUrl: 'https://tpp.example/hooks' },
      ),
      await raw('GET', `${A}/psus/contract-raw/aspsps/20101/accounts`),
      await raw('POST', `${consents}/unknown-consent/authorisations`, {}),
    ]
    for (const answer of answers) expect(answer.status).toBeGreaterThanOrEqual(400)
    const ref = await authorisedConsent('contract-raw-authorised')
    const refused = await raw('POST', `${A}/psus/${ref.userRef}/consents/${ref.providerConsentId}/authorisations`, {})
    expect(refused.status).toBeGreaterThanOrEqual(400)
    exercised.add('error: refused requests')
  })

  it('validates every request and answer, and every notification, with no violation', () => {
    for (const exchange of proxy.exchanges) tally.add(validator.validate(exchange))
    for (const notification of receiver.exchanges) tally.addNotification(validator.validateRequest(notification))
    const undocumented = proxy.exchanges.flatMap((exchange) => {
      if (exchange.status < 400) return []
      const token = exchange.path === `${S}/authorize/token`
      const body = exchange.responseBody as any
      const code = token ? body?.code : body?.Code
      const table = token ? DOCUMENTED_TOKEN_CODES : DOCUMENTED_CODES
      return table[exchange.status]?.includes(code)
        ? []
        : [
            `${exchange.method} ${exchange.path} -> ${exchange.status}: code ${JSON.stringify(code)} is not in the table`,
          ]
    })
    tally.violations.push(...undocumented)
    expect(tally.violations).toEqual([])
    expect(exercised.size).toBeGreaterThanOrEqual(12)
    expect(tally.requests).toBeGreaterThanOrEqual(exercised.size)
    expect(tally.answers).toBeGreaterThanOrEqual(exercised.size)
  })
})
