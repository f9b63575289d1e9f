// e2e: everything a client can send wrong gets a clear, typed error, never a 500, and changes nothing: not the
// table, not the provider.
import { serverAudits } from 'graphql-http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execute, startStack, type Stack, type Credentials } from '../support/stack.ts'
import { fetchControl } from '../support/provider-drivers.ts'

let stack: Stack
let existingId: string
let otherTenantsId: string

const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) {
    __typename
    ... on CreateConsentPayload { consent { id } }
    ... on Error { code message retryable }
    ... on ValidationError { issues { path message } }
    ... on UnsupportedScopeError { supportedScopes { scopes } }
    ... on InstitutionNotFoundError { institutionId }
  }
}`

const input = (overrides: Record<string, unknown> = {}) => ({
  provider: 'FINQWARE',
  institutionId: 'bt_ro',
  userId: 'user-1',
  region: 'EEA',
  ...overrides,
})

async function sandboxConsentCount(): Promise<number> {
  const response = await fetchControl(`${stack.finqware.url}/__sandbox/consents`)
  return ((await response.json()) as { consents: unknown[] }).consents.length
}

let itemsBefore: number
let providerConsentsBefore: number

beforeAll(async () => {
  stack = await startStack()
  const mine = await execute(stack.client(stack.tenantA), CREATE, { input: input() })
  existingId = mine.data?.createConsent.consent.id
  const theirs = await execute(stack.client(stack.tenantB), CREATE, { input: input() })
  otherTenantsId = theirs.data?.createConsent.consent.id
  itemsBefore = (await stack.table.scanAll()).length
  providerConsentsBefore = await sandboxConsentCount()
})

afterAll(async () => {
  // Assess, once for the whole file: no bad request changed anything anywhere.
  expect((await stack.table.scanAll()).length).toBe(itemsBefore)
  expect(await sandboxConsentCount()).toBe(providerConsentsBefore)
  await stack?.close()
})

describe('createConsent rejects bad input with typed errors', () => {
  it.each([
    [
      'validity above the UK maximum',
      { region: 'UK', validityDays: 91 },
      'input.validityDays',
      /at most 90 days \(UK\)/,
    ],
    ['validity above the EEA maximum', { validityDays: 181 }, 'input.validityDays', /at most 180 days \(EEA\)/],
    ['a link longer than 45 days', { linkExpiresInDays: 46 }, 'input.linkExpiresInDays', /at most 45 days/],
    ['zero days', { validityDays: 0 }, 'input.validityDays', /at least 1 day/],
    ['an empty user id', { userId: '' }, 'input.userId', /./],
    ['a user id of 129 characters', { userId: 'u'.repeat(129) }, 'input.userId', /./],
    ['control characters in the user id', { userId: 'a\u0000b' }, 'input.userId', /control characters/],
    ['an institution id of 10 kB', { institutionId: 'x'.repeat(10_000) }, 'input.institutionId', /./],
    ['a redirect URL that is not a URL', { redirectUrl: 'not a url' }, 'input.redirectUrl', /absolute URL/],
    ['a javascript: redirect', { redirectUrl: 'javascript:alert(1)' }, 'input.redirectUrl', /not allowed/],
    ['a redirect URL of 3 kB', { redirectUrl: `https://x.example/${'a'.repeat(3_000)}` }, 'input.redirectUrl', /./],
    ['an http webhook to another host', { webhookUrl: 'http://partner.example/hook' }, 'input.webhookUrl', /https/],
    [
      'a webhook URL with credentials',
      { webhookUrl: 'https://u:p@partner.example/hook' },
      'input.webhookUrl',
      /credentials/,
    ],
    ['a webhook to a private address', { webhookUrl: 'https://10.1.2.3/hook' }, 'input.webhookUrl', /private/],
    [
      'a webhook to the cloud metadata address',
      { webhookUrl: 'https://169.254.169.254/latest' },
      'input.webhookUrl',
      /link-local/,
    ],
    ['an empty scope', { scope: [] }, 'input.scope', /empty/],
    ['an idempotency key with spaces', { idempotencyKey: 'a b' }, 'input.idempotencyKey', /printable/],
    ['a UK consent at an EEA bank', { region: 'UK' }, 'input.region', /EEA/],
  ])('%s', async (_name, overrides, path, message) => {
    const result = await execute(stack.client(stack.tenantA), CREATE, { input: input(overrides) })
    expect(result.errors).toBeUndefined()
    const error = result.data?.createConsent
    expect(error).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR', retryable: false })
    expect(error.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]))
    expect(error.issues.find((issue: { path: string }) => issue.path === path).message).toMatch(message)
  })

  it('names the scopes a provider can grant when asked for another combination', async () => {
    const result = await execute(stack.client(stack.tenantA), CREATE, { input: input({ scope: ['TRANSACTIONS'] }) })
    expect(result.data?.createConsent).toEqual({
      __typename: 'UnsupportedScopeError',
      code: 'UNSUPPORTED_SCOPE',
      message: expect.stringContaining('FINQWARE cannot grant scope [TRANSACTIONS]'),
      retryable: false,
      supportedScopes: [{ scopes: ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'] }, { scopes: ['ACCOUNTS', 'BALANCES'] }],
    })
  })

  it('answers an unknown institution with INSTITUTION_NOT_FOUND', async () => {
    const result = await execute(stack.client(stack.tenantA), CREATE, {
      input: input({ institutionId: 'no_such_bank' }),
    })
    expect(result.data?.createConsent).toMatchObject({
      __typename: 'InstitutionNotFoundError',
      institutionId: 'no_such_bank',
    })
  })

  it('answers an operation the provider lacks with UNSUPPORTED_BY_PROVIDER, calling nothing', async () => {
    for (const mutation of [
      `mutation ($id: ID!) { op: reauthorizeConsent(id: $id) { __typename ... on Error { code } } }`,
      `mutation ($id: ID!) { op: reconfirmConsent(id: $id, confirmedAt: "2026-01-01T00:00:00Z") { __typename ... on Error { code } } }`,
      `mutation ($id: ID!) { op: deleteConsent(id: $id) { __typename ... on Error { code } } }`,
    ]) {
      const result = await execute(stack.client(stack.tenantA), mutation, { id: existingId })
      expect(result.data?.op).toEqual({ __typename: 'UnsupportedByProviderError', code: 'UNSUPPORTED_BY_PROVIDER' })
    }
  })

  it('answers a wrong enum or type with a GraphQL validation error (HTTP 400 with graphql-response+json)', async () => {
    const response = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: {
        authorization: stack.authorization(stack.tenantA),
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
      },
      body: JSON.stringify({ query: CREATE, variables: { input: input({ region: 'MARS', validityDays: 'many' }) } }),
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as {
      errors: { extensions: { code: string; requestId: string; errorId: string } }[]
    }
    expect(body.errors[0]?.extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      requestId: expect.any(String),
      errorId: expect.any(String),
    })
  })
})

describe('ids', () => {
  const GET = `query ($id: ID!) { consent(id: $id) { __typename ... on Error { code message } ... on Consent { id } } }`

  it("answers another tenant's consent exactly like a missing one", async () => {
    const theirs = await execute(stack.client(stack.tenantA), GET, { id: otherTenantsId })
    const missing = await execute(stack.client(stack.tenantA), GET, { id: 'consent_01JD00000000000000000000ZZ' })
    expect(theirs.data?.consent).toMatchObject({ __typename: 'ConsentNotFoundError', code: 'CONSENT_NOT_FOUND' })
    expect(missing.data?.consent).toMatchObject({ __typename: 'ConsentNotFoundError', code: 'CONSENT_NOT_FOUND' })
    expect(theirs.data?.consent.message.replace(otherTenantsId, 'ID')).toBe(
      missing.data?.consent.message.replace('consent_01JD00000000000000000000ZZ', 'ID'),
    )
  })

  it.each(['', 'nope', 'cevt_01JD00000000000000000000ZZ', 'consent_lowercase0000000000000000', 'x'.repeat(65)])(
    'refuses the malformed id %j with VALIDATION_ERROR',
    async (id) => {
      const result = await execute(stack.client(stack.tenantA), GET, { id })
      expect(result.data?.consent).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR' })
    },
  )

  it("cannot refresh, revoke or watch another tenant's consent", async () => {
    const client = stack.client(stack.tenantA)
    const refresh = await execute(
      client,
      `mutation ($id: ID!) { refreshConsent(id: $id) { __typename ... on Error { code } } }`,
      { id: otherTenantsId },
    )
    const revoke = await execute(
      client,
      `mutation ($id: ID!) { revokeConsent(id: $id) { __typename ... on Error { code } } }`,
      { id: otherTenantsId },
    )
    expect(refresh.data?.refreshConsent).toEqual({ __typename: 'ConsentNotFoundError', code: 'CONSENT_NOT_FOUND' })
    expect(revoke.data?.revokeConsent).toEqual({ __typename: 'ConsentNotFoundError', code: 'CONSENT_NOT_FOUND' })
    const node = await execute(client, `query ($id: ID!) { node(id: $id) { id } }`, { id: otherTenantsId })
    expect(node.data?.node ?? null).toBeNull()

    const errors = await new Promise<unknown[]>((resolve) => {
      const sse = stack.sse(stack.tenantA)
      sse.subscribe(
        { query: `subscription ($id: ID!) { consentUpdated(id: $id) { status } }`, variables: { id: otherTenantsId } },
        {
          next: (result) => resolve([...(result.errors ?? [])]),
          error: (error) => resolve([error]),
          complete: () => resolve([]),
        },
      )
    })
    expect(errors[0]).toMatchObject({ extensions: { code: 'CONSENT_NOT_FOUND' } })
  })
})

describe('consent events as nodes', () => {
  const NODE = `query ($id: ID!) { node(id: $id) { __typename id ... on ConsentEvent { sequence to consent { id } } } }`
  const eventIdOf = async (credentials: Credentials, consentId: string) =>
    (
      await execute(
        stack.client(credentials),
        `query ($id: ID!) { consent(id: $id) { ... on Consent { events { edges { node { id } } } } } }`,
        { id: consentId },
      )
    ).data?.consent.events.edges[0].node.id as string

  it("resolves a tenant's own event, and answers another tenant's event id exactly like an unknown one", async () => {
    // Prepare
    const mine = await eventIdOf(stack.tenantA, existingId)
    const theirs = await eventIdOf(stack.tenantB, otherTenantsId)
    const unknown = 'cevt_01JD00000000000000000000ZZ'
    // Act
    const own = await execute(stack.client(stack.tenantA), NODE, { id: mine })
    const other = await execute(stack.client(stack.tenantA), NODE, { id: theirs })
    const missing = await execute(stack.client(stack.tenantA), NODE, { id: unknown })
    const asOwner = await execute(stack.client(stack.tenantB), NODE, { id: theirs })
    // Assess
    expect(own.errors).toBeUndefined()
    expect(own.data?.node).toEqual({
      __typename: 'ConsentEvent',
      id: mine,
      sequence: 1,
      to: 'CREATED',
      consent: { id: existingId },
    })
    expect(asOwner.data?.node).toMatchObject({ __typename: 'ConsentEvent', id: theirs })
    for (const result of [other, missing]) {
      expect(result.data?.node).toBeNull()
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['CONSENT_EVENT_NOT_FOUND'])
    }
    const shown = (result: typeof other, id: string) =>
      result.errors?.map((error) => ({ message: error.message.replaceAll(id, 'ID'), code: error.extensions?.code }))
    expect(shown(other, theirs)).toEqual(shown(missing, unknown))
    expect(JSON.stringify(other)).not.toContain(otherTenantsId)
  })
})

describe('webhooks and history', () => {
  const REPLAY = `mutation ($consentId: ID!, $sequence: Int!) {
    replayWebhookDelivery(consentId: $consentId, sequence: $sequence) {
      __typename ... on Error { code message } ... on ReplayWebhookDeliveryPayload { delivery { state } }
    }
  }`
  const SET_ENDPOINT = `mutation ($url: String) {
    setWebhookEndpoint(url: $url) {
      __typename ... on Error { code message } ... on ValidationError { issues { path message } }
    }
  }`

  it.each([
    ['http://partner.example/hooks', /https/],
    ['https://192.168.0.10/hooks', /private/],
    ['ftp://partner.example/hooks', /scheme/],
    ['not a url', /absolute URL/],
    [`https://partner.example/${'a'.repeat(2_100)}`, /./],
  ])('refuses the webhook endpoint %s', async (url, message) => {
    const result = await execute(stack.client(stack.tenantA), SET_ENDPOINT, { url })
    expect(result.errors).toBeUndefined()
    expect(result.data?.setWebhookEndpoint).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR' })
    expect(result.data?.setWebhookEndpoint.message).toMatch(message)
  })

  /** Every server of the local stack: the gateway, the three sandboxes, DynamoDB Local. */
  const ownServers = () => [
    stack.http.url,
    stack.finqware.url,
    stack.worldline.url,
    stack.yapily.url,
    stack.table.endpoint ?? '',
  ]

  it("refuses a webhook endpoint on any of the local stack's own servers", async () => {
    for (const base of ownServers()) {
      const { port } = new URL(base)
      for (const url of [`http://localhost:${port}/__sandbox/reset`, `http://127.0.0.1:${port}/hooks`]) {
        const result = await execute(stack.client(stack.tenantA), SET_ENDPOINT, { url })
        expect(result.data?.setWebhookEndpoint, url).toMatchObject({ code: 'VALIDATION_ERROR' })
        expect(result.data?.setWebhookEndpoint.message).toMatch(/this gateway.s own/)
      }
    }
  })

  it("refuses a consent whose webhook would reset a sandbox, which keeps every tenant's consents", async () => {
    // Prepare
    const before = await sandboxConsentCount()
    expect(before).toBeGreaterThan(0)

    // Act
    const result = await execute(stack.client(stack.tenantA), CREATE, {
      input: input({ webhookUrl: `http://localhost:${new URL(stack.finqware.url).port}/__sandbox/reset` }),
    })

    // Assess
    expect(result.data?.createConsent).toMatchObject({ code: 'VALIDATION_ERROR' })
    expect(result.data?.createConsent.issues).toEqual([
      expect.objectContaining({ path: 'input.webhookUrl', message: expect.stringMatching(/this gateway.s own/) }),
    ])
    expect(await sandboxConsentCount()).toBe(before)
  })

  it("cannot replay another tenant's webhook, a message that does not exist, or a nonsense sequence", async () => {
    const client = stack.client(stack.tenantA)
    const theirs = await execute(client, REPLAY, { consentId: otherTenantsId, sequence: 1 })
    expect(theirs.data?.replayWebhookDelivery).toMatchObject({ code: 'CONSENT_NOT_FOUND' })
    for (const [consentId, sequence] of [
      [existingId, 999],
      [existingId, 0],
      ['nope', 1],
    ] as const) {
      const result = await execute(client, REPLAY, { consentId, sequence })
      expect(result.data?.replayWebhookDelivery, JSON.stringify(result)).toMatchObject({ code: 'VALIDATION_ERROR' })
    }
  })

  it('answers a malformed or foreign feed cursor with INVALID_CURSOR, and bad page sizes with VALIDATION_ERROR', async () => {
    const client = stack.client(stack.tenantA)
    const page = await execute(client, '{ consents(first: 1) { pageInfo { endCursor } } }')
    const foreign = page.data?.consents.pageInfo.endCursor as string
    for (const [args, code] of [
      ['after: "garbage"', 'INVALID_CURSOR'],
      [`after: "${foreign}"`, 'INVALID_CURSOR'],
      ['first: 0', 'VALIDATION_ERROR'],
      ['first: 101', 'VALIDATION_ERROR'],
    ] as const) {
      const result = await execute(client, `{ consentEvents(${args}) { edges { cursor } } }`)
      expect(result.data ?? null).toBeNull()
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result)).toBe(code)
    }
  })
})

describe('credentials', () => {
  const post = (headers: Record<string, string>) =>
    fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: '{ providers { provider } }' }),
    })

  // A bad bearer token is challenged as RFC 6750 asks (error="invalid_token"); anything else with HTTP Basic first.
  const BASIC = /^Basic realm="consent-gateway"/
  const INVALID_TOKEN = /^Bearer realm="consent-gateway", error="invalid_token"/
  it.each([
    ['no credentials', {}, BASIC],
    [
      'a wrong secret',
      { authorization: `Basic ${Buffer.from('client-alpha:wrong-secret-0000000000').toString('base64')}` },
      BASIC,
    ],
    [
      'an unknown client',
      { authorization: `Basic ${Buffer.from('nobody:secret-0000000000000000').toString('base64')}` },
      BASIC,
    ],
    ['a bearer token we never issued', { authorization: 'Bearer abc' }, INVALID_TOKEN],
    ['garbage', { authorization: 'Basic !!!' }, BASIC],
    ['an oversized header', { authorization: `Basic ${'A'.repeat(5_000)}` }, BASIC],
  ])('answers %s with 401 UNAUTHORIZED', async (_name, headers, challenge) => {
    const response = await post(headers)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(challenge)
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] }
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHORIZED')
  })

  it("never lets one tenant's credentials act for another", async () => {
    const result = await execute(stack.client(stack.tenantB), `query ($id: ID!) { consent(id: $id) { __typename } }`, {
      id: existingId,
    })
    expect(result.data?.consent.__typename).toBe('ConsentNotFoundError')
  })
})

describe('transport', () => {
  const auth = () => ({ authorization: stack.authorization(stack.tenantA) })

  it('refuses a body over 64 kB with 413', async () => {
    const response = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ providers { provider } } # ${'x'.repeat(70_000)}` }),
    })
    expect(response.status).toBe(413)
    const body: any = await response.json()
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('refuses malformed JSON with 400', async () => {
    const response = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: '{"query": ',
    })
    expect(response.status).toBe(400)
  })

  it('refuses queries past the depth, alias and token limits without running them', async () => {
    const deep = `{ consents { edges { node { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { id } } } } } } } } } } } } }`
    const aliases = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: providers { provider }`).join(' ')} }`
    // 2,001 tokens (`{ providers {` + 1,996 fields + `} }`) and nothing else wrong: 18 kB, depth 2, no aliases.
    const tokens = `{ providers { ${Array.from({ length: 1_996 }, () => 'provider').join(' ')} } }`
    for (const query of [deep, aliases, tokens]) {
      const result = await execute(stack.client(stack.tenantA), query)
      expect(result.data ?? null).toBeNull()
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' })
    }
    // The parse stopped at the token limit (not cost or validation, which would also refuse this document).
    const refused = await execute(stack.client(stack.tenantA), tokens)
    expect(refused.errors?.[0]?.message).toBe('The query exceeds the token limit of 2000.')
  })

  it('says plainly which limit a refused query exceeds: no "Syntax Error" for a query that parsed', async () => {
    // Cost: many nested lists at depth, under the depth, alias and token limits.
    const nested = 'events { edges { node { consent { events { edges { node { id kind at } } } } } } }'
    const costly = `{ consents(first: 100) { edges { node { ${Array.from({ length: 12 }, (_, i) => `e${i}: ${nested}`).join(' ')} } } } }`
    const deep = `{ consents { edges { node { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { supersededBy { id } } } } } } } } } } } } }`
    const aliases = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: providers { provider }`).join(' ')} }`
    const cases = [
      [costly, /^The query exceeds the cost limit of 5000 \(its cost is \d+\)\.$/],
      [deep, /^The query exceeds the depth limit of 12 \(its depth is \d+\)\.$/],
      [aliases, /^The query exceeds the alias limit of 15 \(it has \d+\)\.$/],
    ] as const
    for (const [query, message] of cases) {
      const result = await execute(stack.client(stack.tenantA), query)
      expect(result.errors?.[0], query.slice(0, 40)).toMatchObject({
        message: expect.stringMatching(message),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      })
    }
    // A real syntax error still says so.
    const broken = await execute(stack.client(stack.tenantA), '{ consents { ')
    expect(broken.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Syntax Error/),
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    })
  })

  it('does not suggest field names to strangers probing the schema', async () => {
    const result = await execute(stack.client(stack.tenantA), '{ consentz { id } }')
    expect(result.errors?.[0]?.message).not.toMatch(/Did you mean/)
  })

  it('answers malformed cursors and page sizes with typed errors', async () => {
    for (const args of ['after: "garbage"', `after: "${'a'.repeat(600)}"`, 'first: 0', 'first: 101', 'last: 5']) {
      const result = await execute(stack.client(stack.tenantA), `{ consents(${args}) { edges { cursor } } }`)
      expect(result.data ?? null).toBeNull()
      expect(['INVALID_CURSOR', 'VALIDATION_ERROR']).toContain(result.errors?.[0]?.extensions?.code)
    }
  })

  it('answers provider webhooks without a valid signature with 401 and records nothing', async () => {
    const body = JSON.stringify({ type: 'consent_status_update', consent_id: 'whatever', status: 'revoked' })
    const unsigned = await fetch(`${stack.http.url}/webhooks/finqware`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    })
    expect(unsigned.status).toBe(401)
    const forged = await fetch(`${stack.http.url}/webhooks/finqware`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-signature': 'eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.e30.c2ln' },
    })
    expect(forged.status).toBe(401)
  })

  it('passes every graphql-http server audit', async () => {
    const audits = serverAudits({
      url: stack.graphqlUrl,
      fetchFn: (url: RequestInfo | URL, init?: RequestInit) =>
        fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth() } }),
    })
    const results = []
    for (const audit of audits) results.push(await audit.fn())
    const notOk = results.filter((result) => result.status !== 'ok')
    console.log(`graphql-http audits: ${results.length - notOk.length} of ${results.length} ok`)
    expect(notOk).toEqual([])
  })
})
