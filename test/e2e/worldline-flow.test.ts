// e2e: Worldline through the GraphQL API over HTTP: multi-level SCA, supersession, DELETE when the bank cannot be told,
// and expiry shown only by a data call (code 123) after Worldline stopped notifying.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sandboxControl } from '../support/provider-drivers.ts'
import {
  decideAtBank,
  eventually,
  execute,
  follow,
  openBankPage,
  queryOf,
  startStack,
  type Stack,
} from '../support/stack.ts'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack?.close()
})

const FIELDS = `id status statusReason providerStatus providerConsentId authorizationUrl nextAction canAccessData version
  supersededBy { id status } supersedes { id status }`

const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { ${FIELDS} } } ... on Error { code message } }
}`
const GET = `query ($id: ID!) { consent(id: $id) { ... on Consent { ${FIELDS} events { edges { node { from to providerStatus source } } } } } }`
const REFRESH = `mutation ($id: ID!) { refreshConsent(id: $id) { __typename ... on RefreshConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`
const REVOKE = `mutation ($id: ID!) { revokeConsent(id: $id) { __typename ... on RevokeConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`

const control = (path: string, body?: unknown) => sandboxControl(stack.worldline.url, path, body)
const DAY_SECONDS = 86_400

async function create(userId: string, institutionId = '20101') {
  const result = await execute(stack.client(stack.tenantA), CREATE, {
    input: {
      provider: 'WORLDLINE',
      institutionId,
      userId,
      region: 'EEA',
      validityDays: 90,
      redirectUrl: 'https://partner.example/wl',
    },
  })
  expect(result.data?.createConsent.__typename, JSON.stringify(result)).toBe('CreateConsentPayload')
  return result.data?.createConsent.consent as Record<string, any>
}

const get = async (id: string) =>
  (await execute(stack.client(stack.tenantA), GET, { id })).data?.consent as Record<string, any>
const statusIs = (id: string, status: string) => eventually(async () => (await get(id)).status === status)

async function activeConsent(userId: string) {
  const consent = await create(userId)
  await decideAtBank(consent.authorizationUrl, 'approve')
  await statusIs(consent.id, 'ACTIVE')
  return get(consent.id)
}

describe('Worldline through the gateway', () => {
  it('creates an Open consent with the bank link, not yet granted', async () => {
    const consent = await create('wl-user-open')
    expect(consent).toMatchObject({
      status: 'CREATED',
      providerStatus: 'Open',
      nextAction: 'REDIRECT_USER',
      canAccessData: false,
    })
    expect(consent.authorizationUrl).toContain(stack.worldline.url)
  })

  it('needs every account holder: two holders -> PARTIALLY_AUTHORIZED with the next holder link -> ACTIVE', async () => {
    // Prepare
    const consent = await create('wl-user-joint')
    const firstLink = consent.authorizationUrl as string

    // Act: the first holder approves and says two holders must; Worldline sends the browser back through the gateway
    const firstAtBank = await decideAtBank(firstLink, 'approve', { holders: '2' })
    expect(firstAtBank.location).toMatch(new RegExp(`^${stack.http.url}/callbacks/worldline/`))
    const firstBack = await follow(firstAtBank.location)

    // Assess: the partner page hears it is partially authorised; the consent has a new link for the second holder
    expect(queryOf(firstBack.location)).toEqual({ consent_id: consent.id, status: 'PARTIALLY_AUTHORIZED' })
    await statusIs(consent.id, 'PARTIALLY_AUTHORIZED')
    const partial = await get(consent.id)
    expect(partial).toMatchObject({
      providerStatus: 'PartiallyAuthorised',
      nextAction: 'REDIRECT_USER',
      canAccessData: false,
    })
    expect(partial.authorizationUrl).toBeTruthy()
    expect(partial.authorizationUrl).not.toBe(firstLink)

    // Act: the second holder approves on their own page, and comes back through the gateway too
    const secondBack = await follow((await decideAtBank(partial.authorizationUrl, 'approve')).location)

    // Assess
    expect(queryOf(secondBack.location)).toEqual({ consent_id: consent.id, status: 'ACTIVE' })
    await statusIs(consent.id, 'ACTIVE')
    const active = await get(consent.id)
    expect(active).toMatchObject({ providerStatus: 'Authorised', canAccessData: true, authorizationUrl: null })
    const path = active.events.edges.map((edge: any) => edge.node.to)
    expect(path).toEqual(expect.arrayContaining(['CREATED', 'PARTIALLY_AUTHORIZED', 'ACTIVE']))
    expect(path.indexOf('PARTIALLY_AUTHORIZED')).toBeLessThan(path.indexOf('ACTIVE'))
  })

  it('sends the browser from the bank through the gateway to the partner page, with our consent id and status', async () => {
    // Prepare
    const consent = await create('wl-user-back')

    // Act
    const atBank = await decideAtBank(consent.authorizationUrl, 'approve')

    // Assess: Worldline's own parameters (its consent id, its raw status) stay with the gateway
    expect(atBank.location).toMatch(new RegExp(`^${stack.http.url}/callbacks/worldline/`))
    const back = await follow(atBank.location)
    expect(back.status).toBe(302)
    const location = new URL(back.location ?? '')
    expect(location.origin + location.pathname).toBe('https://partner.example/wl')
    expect(queryOf(back.location)).toEqual({ consent_id: consent.id, status: 'ACTIVE' })
    expect(await get(consent.id)).toMatchObject({ status: 'ACTIVE', canAccessData: true })
  })

  it('records a denial as REJECTED, USER_DENIED, and tells the partner page so', async () => {
    // Prepare
    const consent = await create('wl-user-deny')

    // Act
    const atBank = await decideAtBank(consent.authorizationUrl, 'deny')

    // Assess
    expect(atBank.location).toMatch(new RegExp(`^${stack.http.url}/callbacks/worldline/`))
    const back = await follow(atBank.location)
    expect(queryOf(back.location)).toEqual({
      consent_id: consent.id,
      status: 'REJECTED',
      status_reason: 'USER_DENIED',
    })
    expect(await get(consent.id)).toMatchObject({ status: 'REJECTED', statusReason: 'USER_DENIED' })
  })

  it('answers an altered callback link with 404, and a replayed one changes nothing', async () => {
    // Prepare
    const consent = await create('wl-user-tamper')
    const atBank = await decideAtBank(consent.authorizationUrl, 'approve')
    await statusIs(consent.id, 'ACTIVE')
    const before = await get(consent.id)
    const link = new URL(atBank.location ?? '')
    const [body = '', signature = ''] = (link.pathname.split('/').at(-1) ?? '').split('.')
    // The first character: all six of its bits are signature bits (the last one's low bits are padding)
    const altered = `${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`

    // Act
    const forged = await follow(`${stack.http.url}/callbacks/worldline/${altered}${link.search}`)
    // The genuine link again, claiming a refusal: only Worldline's own record counts
    link.searchParams.set('status', 'Rejected')
    const replayed = await follow(link.toString())

    // Assess
    expect(forged).toMatchObject({ status: 404, location: null })
    expect(queryOf(replayed.location)).toEqual({ consent_id: consent.id, status: 'ACTIVE' })
    expect(await get(consent.id)).toMatchObject({ status: 'ACTIVE', version: before.version })
  })

  it('marks the older consent SUPERSEDED when a second one for the same user and bank is authorised, linked both ways', async () => {
    // Prepare
    const first = await activeConsent('wl-user-twice')

    // Act
    const second = await activeConsent('wl-user-twice')

    // Assess
    await statusIs(first.id, 'SUPERSEDED')
    await eventually(async () => (await get(first.id)).supersededBy?.id === second.id)
    expect(await get(first.id)).toMatchObject({
      providerStatus: 'Inactive',
      statusReason: 'SUPERSEDED',
      canAccessData: false,
      nextAction: 'CREATE_NEW',
      supersededBy: { id: second.id, status: 'ACTIVE' },
    })
    expect(await get(second.id)).toMatchObject({ status: 'ACTIVE', supersedes: { id: first.id, status: 'SUPERSEDED' } })
  })

  it('finds the superseded consent even after Worldline stopped notifying about it', async () => {
    // Prepare: a consent authorised, then four days pass (Worldline notifies for three)
    const first = await activeConsent('wl-user-later')
    await control('clock', { advanceSeconds: 4 * DAY_SECONDS })

    // Act: a new consent for the same user and bank
    const second = await activeConsent('wl-user-later')

    // Assess: no notification came for the first one; the gateway re-read it when the second became ACTIVE
    await statusIs(first.id, 'SUPERSEDED')
    expect((await get(first.id)).supersededBy?.id).toBe(second.id)
    const sources = (await get(first.id)).events.edges.map((edge: any) => edge.node.source)
    expect(sources.at(-2)).toBe('PROVIDER_POLL')
  })

  it('revokes with DELETE: REVOKED when the bank confirmed it, REVOKED with reason REVOKED_AT_TPP when it could not', async () => {
    // Bank reachable
    const confirmed = await activeConsent('wl-user-delete-ok')
    const revoked = await execute(stack.client(stack.tenantA), REVOKE, { id: confirmed.id })
    expect(revoked.data?.revokeConsent.consent).toMatchObject({
      status: 'REVOKED',
      statusReason: 'REVOKED_BY_TPP',
      providerStatus: 'Revoked',
    })

    // Bank unreachable: revoked at Worldline only
    const orphan = await activeConsent('wl-user-delete-fails')
    await control('bank-delete-fails', { enabled: true })
    try {
      const result = await execute(stack.client(stack.tenantA), REVOKE, { id: orphan.id })
      expect(result.data?.revokeConsent.consent).toMatchObject({
        status: 'REVOKED',
        statusReason: 'REVOKED_AT_TPP',
        providerStatus: 'RevokedAtTpp',
        canAccessData: false,
      })
    } finally {
      await control('bank-delete-fails', { enabled: false })
    }
  })

  it('reads a 401 with code 123 on a data call as EXPIRED, though Worldline still says Authorised', async () => {
    // Prepare: ACTIVE, then past the notification window, the bank expires it; Worldline does not learn
    const consent = await activeConsent('wl-user-expired-at-bank')
    await control('clock', { advanceSeconds: 4 * DAY_SECONDS })
    const expiry = await control(`consents/${consent.providerConsentId}/bank-expiry`, {})
    expect(expiry.outcome).toBe('hidden')
    expect(await get(consent.id)).toMatchObject({ status: 'ACTIVE' })

    // Act
    const refreshed = await execute(stack.client(stack.tenantA), REFRESH, { id: consent.id })

    // Assess: evidence beats the label
    expect(refreshed.data?.refreshConsent.consent).toMatchObject({
      status: 'EXPIRED',
      statusReason: 'VALIDITY_ENDED',
      providerStatus: 'Authorised',
      canAccessData: false,
      nextAction: 'CREATE_NEW',
    })
  })

  it('refuses notifications without the configured bearer token (401), and answers 404 for a consent it does not know', async () => {
    const body = JSON.stringify({ ConsentId: 'nope', ConsentStatus: 'Authorised' })
    const path = `${stack.http.url}/webhooks/worldline/v3/notification/status`
    const post = (headers: Record<string, string>) =>
      fetch(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
    expect((await post({})).status).toBe(401)
    expect((await post({ authorization: 'Bearer wrong' })).status).toBe(401)
    // Authentic, but about no consent of ours: 404 lets Worldline retry (it may have raced our own write), and the
    // retry of the same request is not taken for a replay.
    const authentic = {
      authorization: 'Bearer contract-notification-token',
      'x-request-id': randomUUID(),
      // Worldline dates it by its own clock (moved forward by the tests above).
      messagecreatedatetime: String((await control('clock')).now),
    }
    expect((await post(authentic)).status).toBe(404)
    expect((await post(authentic)).status).toBe(404)
    // Without the headers Worldline's spec requires: 400.
    expect((await post({ authorization: 'Bearer contract-notification-token' })).status).toBe(400)
  })

  it('keeps listing the user and bank consents in one place', async () => {
    const consent = await create('wl-user-list')
    await openBankPage(consent.authorizationUrl)
    await statusIs(consent.id, 'AWAITING_AUTHORIZATION')
    const list = await execute(
      stack.client(stack.tenantA),
      `{ consents(first: 10, filter: { provider: WORLDLINE, userId: "wl-user-list" }) { edges { node { status providerStatus } } } }`,
    )
    expect(list.data?.consents.edges).toEqual([
      { node: { status: 'AWAITING_AUTHORIZATION', providerStatus: 'Pending' } },
    ])
  })
})
