// e2e: Yapily through the GraphQL API over HTTP: the callback that brings the consent token and sends the browser on,
// UK reconfirmation, re-authorisation in place, revocation at the bank found by evidence, deletion; and the consent
// token never leaves the gateway in plaintext: not in an API answer, a log line, or a DynamoDB item.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sandboxControl } from '../support/provider-drivers.ts'
import { decideAtBank, eventually, execute, startStack, type Stack } from '../support/stack.ts'
import type { Logger } from '../../runtime/logging.ts'

/** Every log line the gateway writes, as text, errors included. */
const logLines: string[] = []
const recordingLogger: Logger = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as const).map((level) => [
    level,
    (message: string, extra?: Record<string, unknown>) =>
      logLines.push(
        JSON.stringify({ level, message, ...extra }, (_key, value: unknown) =>
          value instanceof Error
            ? { name: value.name, message: value.message, stack: value.stack, cause: value.cause }
            : value,
        ),
      ),
  ]),
) as unknown as Logger

/** Every answer the API gave in this file (GraphQL bodies, callback redirects and pages). */
const apiAnswers: string[] = []

let stack: Stack
const DAY_MS = 86_400_000

beforeAll(async () => {
  stack = await startStack({ logger: recordingLogger })
})
afterAll(async () => {
  await stack?.close()
})

const FIELDS = `id status statusReason providerStatus providerConsentId authorizationUrl nextAction canAccessData version
  region lastConfirmedAt reconfirmBy validUntil deletion { status deletedAtInstitution at }`

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const result = await execute(stack.client(stack.tenantA), query, variables)
  apiAnswers.push(JSON.stringify(result))
  return result
}

const get = async (id: string) =>
  (await gql(`query ($id: ID!) { consent(id: $id) { ... on Consent { ${FIELDS} } } }`, { id })).data?.consent as Record<
    string,
    any
  >

const control = (path: string, body?: unknown) => sandboxControl(stack.yapily.url, path, body)

/** The user at the bank and back: the bank redirects to our callback, our callback redirects to the partner. */
async function throughBank(authorizationUrl: string, decision: 'approve' | 'deny') {
  const atBank = await decideAtBank(authorizationUrl, decision)
  expect(atBank.status).toBe(302)
  expect(atBank.location).toContain(`${stack.http.url}/callbacks/yapily/`)
  const callback = await fetch(atBank.location ?? '', { redirect: 'manual' })
  const body = await callback.text()
  apiAnswers.push(`${callback.status} ${callback.headers.get('location') ?? ''} ${body}`)
  return { callback, tokenInCallbackUrl: new URL(atBank.location ?? '').searchParams.get('consent') }
}

async function create(userId: string, institutionId = 'modelo-sandbox', region = 'UK') {
  const result = await gql(
    `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`,
    {
      input: { provider: 'YAPILY', institutionId, userId, region, redirectUrl: 'https://partner.example/yapily-done' },
    },
  )
  expect(result.data?.createConsent.__typename, JSON.stringify(result)).toBe('CreateConsentPayload')
  return result.data?.createConsent.consent as Record<string, any>
}

async function activeConsent(userId: string, institutionId = 'modelo-sandbox', region = 'UK') {
  const consent = await create(userId, institutionId, region)
  const { callback } = await throughBank(consent.authorizationUrl, 'approve')
  expect(callback.status).toBe(302)
  return get(consent.id)
}

describe('Yapily through the gateway', () => {
  it('takes the token from the callback, sends the browser on to the partner, and shows the consent ACTIVE', async () => {
    // Prepare
    const consent = await create('y-user-flow')
    expect(consent).toMatchObject({
      status: 'AWAITING_AUTHORIZATION',
      providerStatus: 'AWAITING_AUTHORIZATION',
      region: 'UK',
    })

    // Act
    const { callback, tokenInCallbackUrl } = await throughBank(consent.authorizationUrl, 'approve')

    // Assess: the browser goes on to the partner with our consent id and status, and nothing secret
    expect(tokenInCallbackUrl).toBeTruthy()
    const location = new URL(callback.headers.get('location') ?? '')
    expect(location.origin + location.pathname).toBe('https://partner.example/yapily-done')
    expect(Object.fromEntries(location.searchParams)).toEqual({ consent_id: consent.id, status: 'ACTIVE' })
    expect(callback.headers.get('referrer-policy')).toBe('no-referrer')
    const active = await get(consent.id)
    expect(active).toMatchObject({ status: 'ACTIVE', canAccessData: true, authorizationUrl: null })
    // UK: Yapily's own reconfirmation clock, 90 days from the authorisation.
    expect(Date.parse(active.reconfirmBy) - Date.parse(active.lastConfirmedAt)).toBe(90 * DAY_MS)
  })

  it('answers a callback link it did not sign with 404 and changes nothing', async () => {
    const response = await fetch(`${stack.http.url}/callbacks/yapily/Zm9yZ2Vk.AAAAAAAAAAAAAAAAAAAAAA?consent=stolen`, {
      redirect: 'manual',
    })
    apiAnswers.push(`${response.status} ${await response.text()}`)
    expect(response.status).toBe(404)
  })

  it('records a denial as REJECTED, USER_DENIED, and still sends the browser back to the partner', async () => {
    const consent = await create('y-user-deny')
    const { callback } = await throughBank(consent.authorizationUrl, 'deny')
    expect(Object.fromEntries(new URL(callback.headers.get('location') ?? '').searchParams)).toEqual({
      consent_id: consent.id,
      status: 'REJECTED',
      status_reason: 'USER_DENIED',
    })
    expect(await get(consent.id)).toMatchObject({ status: 'REJECTED', statusReason: 'USER_DENIED' })
  })

  it("answers a link re-aimed at another tenant's consent with 404 and changes neither", async () => {
    // Prepare: tenant A's genuine link, and a consent of tenant B's
    const mine = await create('y-user-reaim')
    const theirs = (
      await execute(
        stack.client(stack.tenantB),
        `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { ... on CreateConsentPayload { consent { id version } } } }`,
        {
          input: {
            provider: 'YAPILY',
            institutionId: 'modelo-sandbox',
            userId: 'y-user-reaim',
            region: 'UK',
            redirectUrl: 'https://other-partner.example/done',
          },
        },
      )
    ).data?.createConsent.consent as { id: string; version: number }
    const atBank = await decideAtBank(mine.authorizationUrl, 'approve')
    // Yapily's webhook brings the approval without the browser; wait for it, so nothing else moves A meanwhile
    await eventually(async () => (await get(mine.id)).status === 'ACTIVE')
    const before = await get(mine.id)
    const link = new URL(atBank.location ?? '')
    const signature = link.pathname.split('/').at(-1)?.split('.')[1] ?? ''
    const body = Buffer.from(`${stack.tenantB.tenantId}.${theirs.id.replace(/^consent_/, '')}`).toString('base64url')

    // Act
    const response = await fetch(`${stack.http.url}/callbacks/yapily/${body}.${signature}${link.search}`, {
      redirect: 'manual',
    })
    apiAnswers.push(`${response.status} ${await response.text()}`)

    // Assess
    expect(response.status).toBe(404)
    expect(await get(mine.id)).toMatchObject({ version: before.version })
    const theirsNow = await execute(
      stack.client(stack.tenantB),
      `query ($id: ID!) { consent(id: $id) { ... on Consent { version } } }`,
      { id: theirs.id },
    )
    expect(theirsNow.data?.consent.version).toBe(theirs.version)
  })

  describe('UK reconfirmation', () => {
    const RECONFIRM = `mutation ($id: ID!, $at: DateTime!) {
      reconfirmConsent(id: $id, confirmedAt: $at) {
        __typename
        ... on ReconfirmConsentPayload { consent { ${FIELDS} } }
        ... on Error { code message }
        ... on ValidationError { issues { path message } }
      }
    }`

    it('moves reconfirmBy to confirmedAt + 90 days', async () => {
      // Prepare: a month passes at Yapily after the authorisation
      const consent = await activeConsent('y-user-reconfirm')
      await control('clock', { advanceSeconds: 30 * 86_400 })
      const confirmedAt = new Date().toISOString()

      // Act
      const result = await gql(RECONFIRM, { id: consent.id, at: confirmedAt }).finally(() =>
        control('clock', { set: new Date().toISOString() }),
      )

      // Assess
      const reconfirmed = result.data?.reconfirmConsent.consent
      expect(result.data?.reconfirmConsent.__typename, JSON.stringify(result.data)).toBe('ReconfirmConsentPayload')
      expect(reconfirmed.lastConfirmedAt).toBe(confirmedAt)
      expect(Date.parse(reconfirmed.reconfirmBy)).toBe(Date.parse(confirmedAt) + 90 * DAY_MS)
      expect(reconfirmed.version).toBeGreaterThan(consent.version)
    })

    it.each([
      ['in the future', () => new Date(Date.now() + 60_000).toISOString(), /must not be in the future/],
      ['not later than the last confirmation', (last: string) => last, /must be later than the last confirmation/],
      [
        'before the last confirmation',
        (last: string) => new Date(Date.parse(last) - DAY_MS).toISOString(),
        /later than/,
      ],
    ])('refuses a confirmedAt %s with a typed error, leaving the version unchanged', async (_name, at, message) => {
      const consent = await activeConsent(`y-user-bad-${Math.random().toString(36).slice(2)}`)
      const result = await gql(RECONFIRM, { id: consent.id, at: at(consent.lastConfirmedAt) })
      expect(result.data?.reconfirmConsent).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR' })
      expect(result.data?.reconfirmConsent.issues[0]).toMatchObject({
        path: 'confirmedAt',
        message: expect.stringMatching(message),
      })
      expect((await get(consent.id)).version).toBe(consent.version)
    })

    it('refuses an EEA consent, and a consent that is not ACTIVE, before calling Yapily', async () => {
      const eea = await activeConsent('y-user-eea', 'santander-es-sandbox', 'EEA')
      const refused = await gql(RECONFIRM, { id: eea.id, at: new Date().toISOString() })
      expect(refused.data?.reconfirmConsent).toMatchObject({ code: 'VALIDATION_ERROR' })
      expect(refused.data?.reconfirmConsent.issues).toContainEqual({
        path: 'id',
        message: 'reconfirmation applies to UK consents only',
      })
      const pending = await create('y-user-pending')
      const notActive = await gql(RECONFIRM, { id: pending.id, at: new Date().toISOString() })
      expect(notActive.data?.reconfirmConsent).toMatchObject({
        __typename: 'ConsentNotActiveError',
        code: 'CONSENT_NOT_ACTIVE',
      })
      expect((await get(pending.id)).version).toBe(pending.version)
    })
  })

  it('re-authorises in place: same consent id and provider consent, AWAITING_REAUTHORIZATION, then ACTIVE again', async () => {
    // Prepare
    const consent = await activeConsent('y-user-reauth')
    const tokenBefore = ((await control('consents')).consents as any[]).find(
      (c) => c.id === consent.providerConsentId,
    )?.consentToken

    // Act
    const started = await gql(
      `mutation ($id: ID!) { reauthorizeConsent(id: $id) { __typename ... on ReauthorizeConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`,
      { id: consent.id },
    )

    // Assess
    const waiting = started.data?.reauthorizeConsent.consent
    expect(waiting).toMatchObject({
      id: consent.id,
      providerConsentId: consent.providerConsentId,
      status: 'AWAITING_REAUTHORIZATION',
      nextAction: 'REDIRECT_USER',
    })
    expect(waiting.authorizationUrl).toBeTruthy()
    await throughBank(waiting.authorizationUrl, 'approve')
    expect(await get(consent.id)).toMatchObject({
      id: consent.id,
      status: 'ACTIVE',
      providerConsentId: consent.providerConsentId,
    })
    const tokenAfter = ((await control('consents')).consents as any[]).find(
      (c) => c.id === consent.providerConsentId,
    )?.consentToken
    expect(tokenAfter).toBe(tokenBefore)
  })

  it('finds a consent revoked at the bank through refreshConsent, though Yapily still says AUTHORIZED', async () => {
    const consent = await activeConsent('y-user-bank-revoke')
    await control(`consents/${consent.providerConsentId}/revoke-at-bank`, {})
    const refreshed = await gql(
      `mutation ($id: ID!) { refreshConsent(id: $id) { __typename ... on RefreshConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`,
      { id: consent.id },
    )
    expect(refreshed.data?.refreshConsent.consent).toMatchObject({
      status: 'REVOKED',
      statusReason: 'REVOKED_AT_BANK',
      providerStatus: 'AUTHORIZED',
      canAccessData: false,
      nextAction: 'CREATE_NEW',
    })
  })

  it('keeps every consent of a bank that returns one consent per account: the least healthy shows, delete deletes all', async () => {
    const consent = await activeConsent('y-user-per-account', 'per-account-gb-sandbox')
    expect(consent).toMatchObject({ status: 'ACTIVE', canAccessData: true })
    const sibling = async () =>
      ((await control('consents')).consents as any[]).find((c) => c.siblingOf === consent.providerConsentId)
    const other = await sibling()
    expect(other?.status).toBe('AUTHORIZED')

    await control(`consents/${other.id}/revoke-at-bank`, {})
    const refreshed = await gql(
      `mutation ($id: ID!) { refreshConsent(id: $id) { __typename ... on RefreshConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`,
      { id: consent.id },
    )
    expect(refreshed.data?.refreshConsent.consent).toMatchObject({ status: 'REVOKED', statusReason: 'REVOKED_AT_BANK' })

    const deleted = await gql(
      `mutation ($id: ID!) { deleteConsent(id: $id) { __typename ... on DeleteConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`,
      { id: consent.id },
    )
    expect(deleted.data?.deleteConsent.consent).toMatchObject({ deletion: { status: 'SUCCESS' } })
    expect((await sibling())?.isDeletedByInstitution).not.toBeNull()
  })

  it('keeps every consent of a per-account bank when a read that began before the callback records after it', async () => {
    // A read of the consent that opened its secret before the callback brought the further tokens, and records after
    // the callback did (in the wild: Yapily's webhook about the approval, delivered while the browser comes back).
    // Held at the adapter, after it opened the stored secret, until the callback has recorded; nothing else waits.
    const consent = await create('y-user-per-account-race', 'per-account-gb-sandbox')
    const adapter = await stack.gateway.providers.get('YAPILY')
    const read = adapter.fetch.bind(adapter)
    let held: () => void = () => undefined
    const entered = new Promise<void>((resolve) => (held = resolve))
    let release: () => void = () => undefined
    const released = new Promise<void>((resolve) => (release = resolve))
    adapter.fetch = async (ref, context) => {
      if (ref.providerConsentId === consent.providerConsentId && !ref.callbackSecrets) {
        held()
        await released
      }
      return read(ref, context)
    }
    // Only the refresh below reads across the callback: Yapily's own webhooks of this approval are not sent.
    await control('webhooks', { drop: 10 })
    try {
      const atBank = await decideAtBank(consent.authorizationUrl, 'approve')
      expect(atBank.status).toBe(302)
      const early = gql(
        `mutation ($id: ID!) { refreshConsent(id: $id) { __typename ... on Error { code message } } }`,
        { id: consent.id },
      )
      await entered
      const callback = await fetch(atBank.location ?? '', { redirect: 'manual' })
      await callback.text()
      expect(callback.status).toBe(302)
      release()
      expect((await early).data?.refreshConsent.__typename).toBe('RefreshConsentPayload')
    } finally {
      release()
      adapter.fetch = read
      await control('webhooks', { drop: 0 })
    }

    const other = ((await control('consents')).consents as any[]).find((c) => c.siblingOf === consent.providerConsentId)
    await control(`consents/${other.id}/revoke-at-bank`, {})
    const refreshed = await gql(
      `mutation ($id: ID!) { refreshConsent(id: $id) { ... on RefreshConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`,
      { id: consent.id },
    )
    expect(refreshed.data?.refreshConsent.consent).toMatchObject({ status: 'REVOKED', statusReason: 'REVOKED_AT_BANK' })
  })

  it('deletes at Yapily and at the bank, keeps the outcome, and destroys the sealed token', async () => {
    const DELETE = `mutation ($id: ID!) { deleteConsent(id: $id) { __typename ... on DeleteConsentPayload { consent { ${FIELDS} } } ... on Error { code message } } }`
    // Bank reachable
    const consent = await activeConsent('y-user-delete')
    const secretItems = async (id: string) =>
      (await stack.table.scanAll()).filter(
        (item) => item.entityType === 'CONSENT_SECRET' && String(item.pk).endsWith(id.replace('consent_', '')),
      )
    expect(await secretItems(consent.id)).toHaveLength(1)
    const deleted = await gql(DELETE, { id: consent.id })
    expect(deleted.data?.deleteConsent.consent).toMatchObject({
      status: 'REVOKED',
      statusReason: 'REVOKED_BY_TPP',
      canAccessData: false,
      deletion: { status: 'SUCCESS', deletedAtInstitution: true },
    })
    expect(await secretItems(consent.id)).toHaveLength(0)
    // Deleting again changes nothing.
    expect((await gql(DELETE, { id: consent.id })).data?.deleteConsent.consent.version).toBe(
      deleted.data?.deleteConsent.consent.version,
    )

    // Bank unreachable: gone at Yapily (forceDelete), the bank's copy may survive
    const orphan = await activeConsent('y-user-delete-bank-fails')
    await control('bank-delete-fails', { enabled: true })
    try {
      const result = await gql(DELETE, { id: orphan.id })
      expect(result.data?.deleteConsent.consent).toMatchObject({
        status: 'REVOKED',
        deletion: { status: 'SUCCESS', deletedAtInstitution: false },
      })
    } finally {
      await control('bank-delete-fails', { enabled: false })
    }
  })

  it('follows signed Yapily webhooks, and refuses unsigned ones', async () => {
    const consent = await create('y-user-webhook')
    await control(`consents/${consent.providerConsentId}/status`, { status: 'FAILED' })
    await eventually(async () => (await get(consent.id)).status === 'FAILED')
    const forged = await fetch(`${stack.http.url}/webhooks/yapily`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-yapily-signature': `sha256=${'0'.repeat(64)}` },
      body: JSON.stringify({
        type: 'consent.status',
        event: { consentId: consent.providerConsentId, status: 'AUTHORIZED' },
      }),
    })
    expect(forged.status).toBe(401)
  })

  it('never lets a consent token out in plaintext: no API answer, no log line, no DynamoDB item holds one', async () => {
    // Every token Yapily issued during this file's flows.
    const tokens = ((await control('consents')).consents as any[])
      .map((c) => c.consentToken as string | null)
      .filter((t): t is string => Boolean(t))
    expect(tokens.length).toBeGreaterThanOrEqual(5)
    const items = (await stack.table.scanAll()).map((item) => JSON.stringify(item))
    expect(apiAnswers.length).toBeGreaterThan(20)
    expect(logLines.length).toBeGreaterThan(20)
    expect(items.length).toBeGreaterThan(20)
    for (const token of tokens) {
      for (const [where, texts] of [
        ['API answers', apiAnswers],
        ['log lines', logLines],
        ['DynamoDB items', items],
      ] as const) {
        const found = texts.find((text) => text.includes(token))
        expect(found, `a consent token appears in ${where}`).toBeUndefined()
      }
    }
    // The sealed form is there instead.
    expect(items.filter((item) => item.includes('"entityType":"CONSENT_SECRET"')).length).toBeGreaterThan(0)
    console.log(
      `token search: ${tokens.length} tokens; ${apiAnswers.length} API answers, ${logLines.length} log lines, ${items.length} DynamoDB items; 0 matches`,
    )
  })
})
