// e2e: apps run only their tenant's registered documents. Over real HTTP: an end user's token runs a registered
// document by GraphQL over HTTP's `documentId` (POST and GET) and by Apollo's APQ hash, a subscription over SSE
// included, and nothing else: a document's text is refused (PERSISTED_QUERY_ONLY), APQ's "register by sending hash and
// query" stores nothing, an unknown id and another tenant's id answer alike (PERSISTED_QUERY_NOT_IN_LIST). Partners
// (Basic, bearer) still send any document. GET never runs a mutation, answers privately, and the query limits hold
// for registered documents too.
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from '@apollo/client'
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries'
import { addTypenameToDocument, print } from '@apollo/client/utilities'
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TrustedDocumentRepository } from '../../store/trusted-document-repository.ts'
import { writeTogether } from '../../store/transaction.ts'
import {
  appSse,
  documentIdOf,
  partnerToken,
  registerDocuments,
  signedToken,
  userClaims,
  userToken,
} from '../support/credentials.ts'
import { execute, startStack, type Stack } from '../support/stack.ts'

let stack: Stack
let consentId: string
let userRead: string
let userWrite: string

const GET_CONSENT = `query GetConsent($id: ID!) { consent(id: $id) { __typename ... on Consent { id userId status } } }`
const CONSENTS = `query MyConsents { consents(first: 10) { edges { node { id } } } }`
const REVOKE = `mutation Revoke($id: ID!) { revokeConsent(id: $id) { __typename ... on Error { code } } }`
const UPDATED = `subscription Updated($id: ID!) { consentUpdated(id: $id) { id status } }`
/** Tenant B's own document, under an id of its own: tenant A's callers must not find it. */
const B_ONLY_ID = 'bravo-app.GetConsent.v1'
const B_ONLY = `query BravoGetConsent($id: ID!) { consent(id: $id) { __typename } }`
/** Deeper than the server's depth limit (12): never registrable, so written to the table as an older version might. */
const DEEP = `query Deep($id: ID!) { consent(id: $id) { ... on Consent { ${'events { edges { node { consent { '.repeat(3)}id${' } } } }'.repeat(3)} } } }`

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
const apq = (document: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(document) } })

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: { data?: any; errors?: { message: string; extensions: Record<string, any> }[] }
}

async function answerOf(response: Response): Promise<Answer> {
  return { status: response.status, headers: response.headers, body: JSON.parse(await response.text()) }
}

/** POSTs a GraphQL-over-HTTP body with `authorization`. */
async function post(
  authorization: string | null,
  body: Record<string, unknown>,
  accept = 'application/graphql-response+json',
): Promise<Answer> {
  const response = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept,
      ...(authorization === null ? {} : { authorization }),
    },
    body: JSON.stringify(body),
  })
  return answerOf(response)
}

/** GETs /graphql with these parameters (objects as JSON, as GraphQL over HTTP asks). */
async function get(authorization: string, parameters: Record<string, unknown>): Promise<Answer> {
  const search = new URLSearchParams(
    Object.entries(parameters).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : JSON.stringify(value),
    ]),
  )
  const response = await fetch(`${stack.graphqlUrl}?${search}`, {
    headers: { authorization, accept: 'application/graphql-response+json' },
  })
  return answerOf(response)
}

const bearer = (token: string) => `Bearer ${token}`
const codesOf = (answer: Answer) => answer.body.errors?.map((error) => error.extensions.code)
/** An answer without what differs per request (ids, the asked key): what two refusals must share. */
const shapeOf = (answer: Answer, key: string) =>
  JSON.stringify({ status: answer.status, body: answer.body }, (name, value: unknown) =>
    name === 'requestId' || name === 'errorId' ? undefined : value,
  ).replaceAll(key, '<key>')

beforeAll(async () => {
  stack = await startStack()
  const created = await execute(
    stack.client(stack.tenantA),
    `mutation { createConsent(input: { provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA }) {
      ... on CreateConsentPayload { consent { id } } } }`,
  )
  consentId = created.data?.createConsent.consent.id as string
  await registerDocuments(stack, stack.tenantA.tenantId, [GET_CONSENT, CONSENTS, REVOKE, UPDATED])
  await registerDocuments(stack, stack.tenantB.tenantId, { [B_ONLY_ID]: B_ONLY })
  userRead = await userToken(stack, stack.tenantA, { userId: 'user-1' })
  userWrite = await userToken(stack, stack.tenantA, { userId: 'user-1', scopes: ['consents:read', 'consents:write'] })
})
afterAll(async () => {
  await stack?.close()
})

describe("an end user's token runs its tenant's registered documents", () => {
  const expected = { __typename: 'Consent', id: '', userId: 'user-1', status: 'CREATED' }

  it('by documentId and by APQ hash over POST; the answers are as partners get them', async () => {
    // Act
    const byId = await post(bearer(userRead), { documentId: documentIdOf(GET_CONSENT), variables: { id: consentId } })
    const byHash = await post(bearer(userRead), { extensions: apq(GET_CONSENT), variables: { id: consentId } })
    const byBareHash = await post(bearer(userRead), {
      documentId: sha256(GET_CONSENT),
      variables: { id: consentId },
    })

    // Assess
    for (const answer of [byId, byHash, byBareHash]) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)
      expect(answer.body.data?.consent).toMatchObject({ ...expected, id: consentId })
      expect(answer.headers.get('cache-control')).toBeNull()
    }
  })

  it('by documentId and APQ hash over GET, answered privately (Cache-Control: private, Vary: Authorization)', async () => {
    for (const parameters of [
      { documentId: documentIdOf(GET_CONSENT), variables: { id: consentId } },
      { extensions: apq(GET_CONSENT), variables: { id: consentId } },
      { documentId: documentIdOf(CONSENTS) },
    ]) {
      const answer = await get(bearer(userRead), parameters)
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)
      expect(answer.body.errors).toBeUndefined()
      expect(answer.headers.get('cache-control')).toBe('private')
      expect(answer.headers.get('vary')?.toLowerCase().split(/,\s*/)).toEqual(
        expect.arrayContaining(['authorization', 'origin']),
      )
    }
  })

  it('through Apollo Client with its persisted-query link, hashes sent by GET', async () => {
    // Prepare: an app's Apollo Client; its build registers the documents as Apollo sends them (with __typename)
    const sent = print(addTypenameToDocument(gql(GET_CONSENT)))
    await registerDocuments(stack, stack.tenantA.tenantId, [sent])
    const seen: string[] = []
    const recording: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input)
      seen.push(`${init?.method ?? 'GET'} ${url.searchParams.has('query') ? 'text' : 'hash'}`)
      return fetch(input, init)
    }
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([
        createPersistedQueryLink({ sha256, useGETForHashedQueries: true }),
        new HttpLink({ uri: stack.graphqlUrl, headers: { authorization: bearer(userRead) }, fetch: recording }),
      ]),
    })

    // Act
    const result = await client.query({ query: gql(GET_CONSENT), variables: { id: consentId } })

    // Assess
    expect(result.data).toMatchObject({ consent: { ...expected, id: consentId } })
    expect(seen).toEqual(['GET hash'])
  })

  it('subscribes by documentId over SSE (graphql-sse) and sees the change', async () => {
    // Prepare
    const results: any[] = []
    const done = new Promise<void>((resolve, reject) => {
      appSse(stack, userWrite).subscribe(
        { query: UPDATED, variables: { id: consentId } },
        { next: (value) => results.push(value), error: reject, complete: resolve },
      )
    })
    await vi.waitFor(() => expect(results.length).toBeGreaterThan(0), { timeout: 10_000 })

    // Act
    const revoked = await post(bearer(userWrite), { documentId: documentIdOf(REVOKE), variables: { id: consentId } })

    // Assess
    expect(revoked.body.data?.revokeConsent.__typename, JSON.stringify(revoked.body)).toBe('RevokeConsentPayload')
    await done
    expect(results.at(0)).toEqual({
      data: { consentUpdated: { id: consentId, status: 'CREATED' } },
      extensions: { cost: { requested: expect.any(Number) as unknown, limit: 5000 } },
    })
    expect(results.at(-1)).toEqual({
      data: { consentUpdated: { id: consentId, status: 'REVOKED' } },
      extensions: { cost: { requested: expect.any(Number) as unknown, limit: 5000 } },
    })
  })
})

describe("an end user's token runs nothing else", () => {
  it('answers an unknown id PERSISTED_QUERY_NOT_IN_LIST: 400 as graphql-response+json, 200 as application/json', async () => {
    const unknown = documentIdOf('query { __typename }')
    const asGraphQLResponse = await post(bearer(userRead), { documentId: unknown })
    const asJson = await post(bearer(userRead), { documentId: unknown }, 'application/json')
    const byHash = await post(bearer(userRead), { extensions: apq('{ __typename }') })
    const malformed = await post(bearer(userRead), { documentId: 'no#such id' })

    expect(asGraphQLResponse.status).toBe(400)
    expect(asJson.status).toBe(200)
    for (const answer of [asGraphQLResponse, asJson, byHash, malformed]) {
      expect(codesOf(answer), JSON.stringify(answer.body)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST'])
      expect(answer.body.data).toBeUndefined()
    }
  })

  it("answers another tenant's document id exactly like an unknown one", async () => {
    const unknownId = 'bravo-app.GetConsent.v2'
    const [theirs, unknown] = [
      await post(bearer(userRead), { documentId: B_ONLY_ID, variables: { id: consentId } }),
      await post(bearer(userRead), { documentId: unknownId, variables: { id: consentId } }),
    ]
    const [theirHash, unknownHash] = [
      await post(bearer(userRead), { extensions: apq(B_ONLY), variables: { id: consentId } }),
      await post(bearer(userRead), { extensions: apq(`${B_ONLY} `), variables: { id: consentId } }),
    ]

    expect(shapeOf(theirs, B_ONLY_ID)).toBe(shapeOf(unknown, unknownId))
    expect(shapeOf(theirHash, sha256(B_ONLY))).toBe(shapeOf(unknownHash, sha256(`${B_ONLY} `)))
    expect(codesOf(theirs)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST'])
    // The partner of tenant A does not find it either; tenant B's own user does.
    const partner = await post(stack.authorization(stack.tenantA), { documentId: B_ONLY_ID, variables: { id: 'x' } })
    expect(codesOf(partner)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST'])
    const own = await post(bearer(await userToken(stack, stack.tenantB, { userId: 'user-1' })), {
      documentId: B_ONLY_ID,
      variables: { id: consentId },
    })
    expect(own.body.data?.consent.__typename).toBe('ConsentNotFoundError')
  })

  it("refuses a document's text with PERSISTED_QUERY_ONLY (403), registered or not, and runs nothing", async () => {
    const before = await execute(stack.client(stack.tenantA), CONSENTS)
    for (const body of [
      { query: GET_CONSENT, variables: { id: consentId } },
      { query: '{ __typename }' },
      { query: GET_CONSENT, documentId: documentIdOf(GET_CONSENT), variables: { id: consentId } },
      {
        query: `mutation { createConsent(input: { provider: FINQWARE, institutionId: "bt_ro", region: EEA }) { __typename } }`,
      },
    ]) {
      const answer = await post(bearer(userWrite), body)
      expect(answer.status, JSON.stringify(body)).toBe(403)
      expect(codesOf(answer), JSON.stringify(body)).toEqual(['PERSISTED_QUERY_ONLY'])
      expect(answer.body.data).toBeUndefined()
    }
    const overGet = await get(bearer(userRead), { query: CONSENTS })
    expect([overGet.status, codesOf(overGet)]).toEqual([403, ['PERSISTED_QUERY_ONLY']])
    expect(await execute(stack.client(stack.tenantA), CONSENTS)).toEqual(before)
  })

  it("stores nothing for APQ's registration (hash and text sent together): only administration registers", async () => {
    // Prepare
    const document = 'query Sneaky { consents(first: 100) { edges { node { id userId } } } }'

    // Act
    const register = await post(bearer(userWrite), { query: document, extensions: apq(document) })
    const again = await post(bearer(userWrite), { extensions: apq(document) })

    // Assess
    expect(codesOf(register)).toEqual(['PERSISTED_QUERY_ONLY'])
    expect(codesOf(again)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST'])
    const documents = new TrustedDocumentRepository(stack.table.db, stack.table.tableName)
    expect(await documents.get(stack.tenantA.tenantId, sha256(document))).toBeNull()
    // A partner's APQ registration runs its query (it may send any), and stores nothing either.
    const partner = await post(stack.authorization(stack.tenantA), { query: document, extensions: apq(document) })
    expect(partner.body.data?.consents.edges.length).toBeGreaterThan(0)
    expect(await documents.get(stack.tenantA.tenantId, sha256(document))).toBeNull()
  })

  it('asks for credentials before looking anything up: no, forged and expired tokens get 401', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = userClaims(stack, stack.tenantA, 'user-1')
    for (const authorization of [
      null,
      bearer(await signedToken(stack, { ...claims, iat: now - 3_600, exp: now - 600 })),
      bearer(`${userRead.slice(0, -4)}AAAA`),
    ]) {
      const answer = await post(authorization, { documentId: documentIdOf(GET_CONSENT), variables: { id: consentId } })
      expect(answer.status).toBe(401)
      expect(codesOf(answer)).toEqual(['UNAUTHORIZED'])
    }
  })
})

describe('partners', () => {
  it('still send any document, with Basic and with their bearer token, and may use their documents by id', async () => {
    for (const authorization of [
      stack.authorization(stack.tenantA),
      bearer(await partnerToken(stack, stack.tenantA)),
    ]) {
      const raw = await post(authorization, { query: GET_CONSENT, variables: { id: consentId } })
      const byId = await post(authorization, { documentId: documentIdOf(GET_CONSENT), variables: { id: consentId } })
      const byHash = await post(authorization, { extensions: apq(GET_CONSENT), variables: { id: consentId } })
      for (const answer of [raw, byId, byHash]) {
        expect(answer.status, JSON.stringify(answer.body)).toBe(200)
        expect(answer.body.data?.consent.id).toBe(consentId)
      }
      const neither = await post(authorization, { variables: { id: consentId } })
      expect([neither.status, codesOf(neither)]).toEqual([400, ['BAD_REQUEST']])
    }
  })
})

describe('limits', () => {
  it('never runs a registered mutation over GET (405, Allow: POST), and nothing changes', async () => {
    // Prepare
    const created = await execute(
      stack.client(stack.tenantA),
      `mutation { createConsent(input: { provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA }) {
        ... on CreateConsentPayload { consent { id } } } }`,
    )
    const id = created.data?.createConsent.consent.id as string

    // Act
    const answer = await get(bearer(userWrite), { documentId: documentIdOf(REVOKE), variables: { id } })

    // Assess
    expect(answer.status).toBe(405)
    expect(answer.headers.get('allow')).toBe('POST')
    const after = await post(bearer(userRead), { documentId: documentIdOf(GET_CONSENT), variables: { id } })
    expect(after.body.data?.consent.status).toBe('CREATED')
  })

  it('applies the query limits to registered documents too (one stored before a limit was lowered)', async () => {
    // Prepare: administration refuses it, so it is written as an older gateway with a higher limit would have
    const documents = new TrustedDocumentRepository(stack.table.db, stack.table.tableName)
    const document = {
      tenantId: stack.tenantA.tenantId,
      documentId: 'deep-query',
      document: DEEP,
      sha256: sha256(DEEP),
      operations: ['query Deep'],
      registeredAt: new Date().toISOString(),
    }
    await writeTogether(stack.table.db, [documents.register(document, 'deep-query')])

    // Act
    const answer = await post(bearer(userRead), { documentId: 'deep-query', variables: { id: consentId } })

    // Assess
    expect(answer.status).toBe(400)
    expect(codesOf(answer), JSON.stringify(answer.body)).toEqual(['GRAPHQL_VALIDATION_FAILED'])
    expect(answer.body.errors?.[0]?.message).toMatch(/depth limit of 12/)
  })
})
