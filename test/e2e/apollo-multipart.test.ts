// e2e: Apollo's multipart HTTP subscriptions (`Accept: multipart/mixed;subscriptionSpec=1.0`, what Apollo iOS 2,
// Apollo Kotlin and Apollo Client speak) at /graphql, with Apollo Client 4's HttpLink and with raw fetches: the consent
// watched to ACTIVE as the user approves at the bank, a dropped connection resumed with nothing lost, the wire format
// (boundary, parts, heartbeats, the closing delimiter, a lapsed credential as a transport-level error), and what a
// client must not get: another tenant's consent, an end user's raw query, no credential. Never a 5xx, never a stack.
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { documentIdOf, registerDocuments, userToken } from '../support/credentials.ts'
import { decideAtBank, execute, openBankPage, startStack, type Credentials, type Stack } from '../support/stack.ts'

const WAIT = { timeout: 15_000, interval: 50 }
const ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'
let stack: Stack

beforeAll(async () => {
  stack = await startStack({
    subscriptionMaxSeconds: 120,
    tokens: { revocationCacheMs: 300, clockToleranceSeconds: 0 },
    apolloMultipart: { heartbeatMs: 100 },
  })
})

afterAll(async () => {
  await stack?.close()
})

const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { id authorizationUrl } } ... on Error { code message } }
}`
const UPDATED = `subscription Watch($id: ID!) { consentUpdated(id: $id) { id status version } }`
const FEED = `subscription Feed($after: String) { consentEvents(after: $after) { cursor event { sequence to consent { id } } } }`
const REVOKE = `mutation ($id: ID!) { revokeConsent(id: $id) { __typename } }`

async function createConsent(credentials: Credentials, userId = 'user-1') {
  const result = await execute(stack.client(credentials), CREATE, {
    input: { provider: 'FINQWARE', institutionId: 'bt_ro', userId, region: 'EEA' },
  })
  expect(result.data?.createConsent.__typename, JSON.stringify(result)).toBe('CreateConsentPayload')
  return result.data?.createConsent.consent as { id: string; authorizationUrl: string }
}

/**
 * An Apollo Client (HttpLink: multipart subscriptions built in) acting as the tenant, over a fetch whose open answers
 * a test can cut as a dropped network would.
 */
function apolloClient(authorization: string) {
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>()
  const cuttable: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    if (!response.body) return response
    const reader = response.body.getReader()
    let controller: ReadableStreamDefaultController<Uint8Array>
    const body = new ReadableStream<Uint8Array>({
      start: (given) => {
        controller = given
        open.add(given)
      },
      async pull(given) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }))
        if (!open.has(given)) return
        if (done) {
          open.delete(given)
          given.close()
        } else if (value) given.enqueue(value)
      },
      cancel: (reason) => {
        open.delete(controller)
        return reader.cancel(reason)
      },
    })
    return new Response(body, { status: response.status, headers: response.headers })
  }
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new HttpLink({ uri: stack.graphqlUrl, headers: { authorization }, fetch: cuttable }),
  })
  return {
    client,
    /** Every open answer fails as a dropped connection makes it fail. */
    dropConnections() {
      for (const controller of open) controller.error(new TypeError('network connection lost'))
      open.clear()
    },
  }
}

interface Watched {
  readonly values: { data?: any; error?: unknown }[]
  readonly errors: unknown[]
  readonly done: Promise<void>
  completed(): boolean
  stop(): void
}

function watch(client: ApolloClient, query: string, variables: Record<string, unknown>): Watched {
  const values: Watched['values'] = []
  const errors: unknown[] = []
  let completed = false
  let stop = () => undefined as void
  const done = new Promise<void>((resolve) => {
    const subscription = client.subscribe({ query: gql(query), variables }).subscribe({
      next: (value) => values.push(value),
      error: (error: unknown) => {
        errors.push(error)
        resolve()
      },
      complete: () => {
        completed = true
        resolve()
      },
    })
    stop = () => subscription.unsubscribe()
  })
  return { values, errors, done, completed: () => completed, stop: () => stop() }
}

const statuses = (values: Watched['values']) =>
  values.map((value) => (value.data?.consentUpdated as { status?: string } | undefined)?.status)

/** The parts of a multipart answer read to its end, and the raw text. */
async function readParts(response: Response): Promise<{ text: string; parts: unknown[] }> {
  const text = await response.text()
  const parts = text
    .split('\r\n--graphql')
    .slice(1, -1)
    .map((part) => JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4)) as unknown)
  return { text, parts }
}

const post = (authorization: string | null, body: Record<string, unknown>, accept = ACCEPT) =>
  fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept,
      ...(authorization === null ? {} : { authorization }),
    },
    body: JSON.stringify(body),
  })

describe("Apollo's multipart subscriptions on the wire", () => {
  it('answer a subscription as multipart/mixed (it was 406): parts, heartbeats, the closing delimiter', async () => {
    // Prepare
    const created = await createConsent(stack.tenantA)

    // Act: subscribe as Apollo iOS does; revoke once the first part is in (a terminal status ends the stream)
    const response = await post(stack.authorization(stack.tenantA), {
      query: UPDATED,
      variables: { id: created.id },
    })
    const [forReading, forRevoking] = (response.body ?? new Response('').body)!.tee()
    const reader = forRevoking.getReader()
    let seen = ''
    const readUntil = async (text: string) => {
      while (!seen.includes(text)) {
        const { done, value } = await reader.read()
        if (done) throw new Error(`the answer ended without ${text}: ${response.status} ${seen}`)
        seen += new TextDecoder().decode(value)
      }
    }
    expect(response.status).toBe(200)
    await readUntil('"payload"')
    await readUntil('\r\n\r\n{}\r\n--graphql')
    await execute(stack.client(stack.tenantA), REVOKE, { id: created.id })
    void reader.cancel()
    const { text, parts } = await readParts(new Response(forReading))

    // Assess
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"')
    expect(text.startsWith('\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n')).toBe(true)
    expect(text.endsWith('\r\n--graphql--\r\n')).toBe(true)
    const results = parts.filter((part) => JSON.stringify(part) !== '{}')
    expect(results[0]).toEqual({
      payload: {
        data: { consentUpdated: { id: created.id, status: 'CREATED', version: 1 } },
        extensions: { cost: { requested: expect.any(Number), limit: 5000 } },
      },
    })
    expect(results.at(-1)).toMatchObject({ payload: { data: { consentUpdated: { status: 'REVOKED' } } } })
    expect(parts).toContainEqual({})
  })

  it('end a stream whose token lapsed with a transport-level error ({payload: null, errors}), then the delimiter', async () => {
    // Prepare: an end user's token that lives 2 s, its registered document
    const created = await createConsent(stack.tenantA, 'user-lapsing')
    await registerDocuments(stack, stack.tenantA.tenantId, [UPDATED])
    const token = await userToken(stack, stack.tenantA, { userId: 'user-lapsing', expiresInSeconds: 2 })

    // Act
    const response = await post(`Bearer ${token}`, { documentId: documentIdOf(UPDATED), variables: { id: created.id } })
    const { text, parts } = await readParts(response)

    // Assess
    const results = parts.filter((part) => JSON.stringify(part) !== '{}')
    expect(results[0]).toMatchObject({ payload: { data: { consentUpdated: { id: created.id } } } })
    expect(results.at(-1)).toMatchObject({
      payload: null,
      errors: [{ message: expect.stringMatching(/no longer valid/), extensions: { code: 'UNAUTHORIZED' } }],
    })
    expect(text.endsWith('\r\n--graphql--\r\n')).toBe(true)
    expect(text).not.toMatch(/"http"|INTERNAL_SERVER_ERROR|stack/)
  }, 30_000)

  it("refuse as JSON what never starts: no credential (401), an end user's raw query (403), an invalid document (a request error)", async () => {
    const token = await userToken(stack, stack.tenantA, { userId: 'user-1' })
    const none = await post(null, { query: UPDATED, variables: { id: 'consent_x' } })
    const raw = await post(`Bearer ${token}`, { query: UPDATED, variables: { id: 'consent_x' } })
    const invalid = await post(stack.authorization(stack.tenantA), { query: 'subscription { nope }' })

    for (const [response, status, code] of [
      [none, 401, 'UNAUTHORIZED'],
      [raw, 403, 'PERSISTED_QUERY_ONLY'],
      [invalid, 200, 'GRAPHQL_VALIDATION_FAILED'],
    ] as const) {
      expect(response.status).toBe(status)
      expect(response.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/)
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] }
      expect(body.errors[0]?.extensions.code).toBe(code)
    }
  })

  it("answer another tenant's consent exactly like a missing one", async () => {
    const theirs = await createConsent(stack.tenantB)
    const missingId = theirs.id.replace(/.{4}$/, '0000')
    const strip = async (response: Response) =>
      JSON.stringify((await readParts(response)).parts, (key, value: unknown) =>
        key === 'requestId' || key === 'errorId' ? undefined : value,
      )
    const multipartOnly = 'multipart/mixed;subscriptionSpec="1.0"'
    const other = await post(
      stack.authorization(stack.tenantA),
      { query: UPDATED, variables: { id: theirs.id } },
      multipartOnly,
    )
    const missing = await post(
      stack.authorization(stack.tenantA),
      { query: UPDATED, variables: { id: missingId } },
      multipartOnly,
    )

    expect([other.status, missing.status]).toEqual([200, 200])
    const [otherParts, missingParts] = [await strip(other), await strip(missing)]
    expect(otherParts).toContain('CONSENT_NOT_FOUND')
    expect(otherParts.replace(theirs.id, missingId)).toBe(missingParts)
  })
})

describe('Apollo Client (HttpLink, multipart subscriptions)', () => {
  it('receives the consent going ACTIVE after the bank page approves', async () => {
    // Prepare
    const created = await createConsent(stack.tenantA)
    await openBankPage(created.authorizationUrl)
    const { client } = apolloClient(stack.authorization(stack.tenantA))

    // Act
    const watched = watch(client, UPDATED, { id: created.id })
    await vi.waitFor(() => expect(watched.values.length).toBeGreaterThan(0), WAIT)
    await decideAtBank(created.authorizationUrl, 'approve')

    // Assess
    await vi.waitFor(() => expect(statuses(watched.values)).toContain('ACTIVE'), WAIT)
    expect(watched.errors).toEqual([])
    await execute(stack.client(stack.tenantA), REVOKE, { id: created.id })
    await watched.done
    expect(watched.completed()).toBe(true)
    expect(statuses(watched.values).at(-1)).toBe('REVOKED')
  }, 60_000)

  it('resubscribes after a dropped connection and gets the current state first: the approval made meanwhile', async () => {
    // Prepare
    const created = await createConsent(stack.tenantA)
    const app = apolloClient(stack.authorization(stack.tenantA))
    const first = watch(app.client, UPDATED, { id: created.id })
    await vi.waitFor(() => expect(first.values.length).toBeGreaterThan(0), WAIT)

    // Act: the network drops the answer; the user approves meanwhile; the app subscribes again
    app.dropConnections()
    await first.done
    await decideAtBank(created.authorizationUrl, 'approve')
    await vi.waitFor(async () => {
      const now = await execute(
        stack.client(stack.tenantA),
        `query ($id: ID!) { consent(id: $id) { ... on Consent { status } } }`,
        { id: created.id },
      )
      expect(now.data?.consent.status).toBe('ACTIVE')
    }, WAIT)
    const second = watch(app.client, UPDATED, { id: created.id })

    // Assess: the first stream failed as the network did (Apollo Client 4 hands the error over as the last value); the
    // second starts with the consent as it is now
    expect([...first.errors, ...first.values.flatMap((value) => (value.error ? [value.error] : []))]).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/network connection lost/) }),
    ])
    await vi.waitFor(() => expect(second.values.length).toBeGreaterThan(0), WAIT)
    expect(statuses(second.values)[0]).toBe('ACTIVE')
    second.stop()
  }, 60_000)

  it('resumes the consentEvents feed from its last cursor after a dropped connection: no gap, no repeat', async () => {
    // Prepare: tenant B's feed up to the consent's first event
    const created = await createConsent(stack.tenantB)
    const app = apolloClient(stack.authorization(stack.tenantB))
    const items = (values: Watched['values']) =>
      values.flatMap((value) => {
        const item = value.data?.consentEvents as
          { cursor: string; event: { sequence: number; to: string; consent: { id: string } } } | undefined
        return item
          ? [{ cursor: item.cursor, sequence: item.event.sequence, to: item.event.to, id: item.event.consent.id }]
          : []
      })
    const first = watch(app.client, FEED, {})
    await vi.waitFor(() => expect(items(first.values).some((item) => item.id === created.id)).toBe(true), WAIT)

    // Act: the connection drops; the user approves meanwhile; the app resumes from the last cursor it got
    app.dropConnections()
    await first.done
    const lastCursor = items(first.values).at(-1)?.cursor
    await openBankPage(created.authorizationUrl)
    await decideAtBank(created.authorizationUrl, 'approve')
    const resumed = watch(app.client, FEED, { after: lastCursor })
    await vi.waitFor(
      () => expect(items(resumed.values).some((item) => item.id === created.id && item.to === 'ACTIVE')).toBe(true),
      { timeout: 30_000, interval: 100 },
    )
    resumed.stop()

    // Assess
    const all = [...items(first.values), ...items(resumed.values)]
    const ofConsent = all.filter((item) => item.id === created.id)
    expect(ofConsent.map((item) => item.sequence)).toEqual(ofConsent.map((_, index) => index + 1))
    expect(new Set(all.map((item) => item.cursor)).size).toBe(all.length)
  }, 90_000)
})
