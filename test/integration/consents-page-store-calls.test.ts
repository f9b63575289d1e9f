// connected: what one page of `consents` costs the store, counted in DynamoDB commands (a count, not a timing): the
// page's nodes and every nested field read from the consent items themselves (institution, deletion, the derived
// status and next action) cost one Query whatever the page size; the consents a page links to (supersededBy,
// supersedes) one BatchGetItem for the whole page, not one read per item.
import { monotonicFactory } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { createGraphQLServer, graphQLServicesOf, type GraphQLServer } from '../../schema/server.ts'
import { createGateway } from '../../composition/gateway.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { countingClient, createTestTable } from '../support/dynamo.ts'
import { aConsent, aGatewayConfig, writeConsentWithTransitions } from '../support/fixtures.ts'

const TENANT = { tenantId: 'TENANT_PAGECOST', clientId: 'client-pagecost', clientSecret: 'secret-pagecost-0123456789' }
const AUTH = `Basic ${Buffer.from(`${TENANT.clientId}:${TENANT.clientSecret}`).toString('base64')}`
const CONSENTS = 101

const CONSENT_FIELDS = `id provider providerConsentId providerStatus userId status statusReason nextAction
  canAccessData authorizationUrl linkExpiresAt validUntil scope region validityDays version createdAt updatedAt
  institution { id name country region } deletion { status deletedAtInstitution at }`
const PAGE = `query Page($first: Int!) {
  consents(first: $first) { edges { cursor node { ${CONSENT_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`
const LINKED_PAGE = `query LinkedPage($first: Int!) {
  consents(first: $first) {
    edges { node { id status supersededBy { id status nextAction } supersedes { id status institution { name } } } }
  }
}`

let graphql: GraphQLServer
/** The DynamoDB commands the gateway sent, by name, in order. */
let commands: string[]

beforeAll(async () => {
  const table = await createTestTable()
  const counting = countingClient(table.endpoint)
  commands = counting.commands
  const gateway = createGateway(aGatewayConfig(table, { localMode: false }), {
    db: counting.db,
    logger: silentLogger,
  })
  await provisionApiClient(gateway.access, { ...TENANT, tenantName: 'Page cost' }, new Date())
  graphql = createGraphQLServer({
    services: graphQLServicesOf(gateway),
    authenticator: gateway.authenticator,
    logger: silentLogger,
  })
  const repo = new ConsentRepository(table.db, table.tableName)
  const newId = monotonicFactory()
  const ids = Array.from({ length: CONSENTS }, () => newId())
  // Every second consent superseded by the next one; some deleted: each nested object has something to show.
  // Ten writes at a time: a hundred concurrent transactions can outwait DynamoDB Local's lock timeout on a busy machine.
  const write = (id: string, index: number) =>
    writeConsentWithTransitions(
      repo,
      aConsent({
        id,
        tenantId: TENANT.tenantId,
        providerConsentId: `fq-page-${index}`,
        supersededBy: index % 2 === 0 ? (ids[index + 1] ?? null) : null,
        supersedes: index % 2 === 1 ? (ids[index - 1] ?? null) : null,
        deletion:
          index % 10 === 0 ? { status: 'SUCCESS', deletedAtInstitution: true, at: new Date().toISOString() } : null,
      }),
      [],
      () => newId(),
    )
  for (let start = 0; start < ids.length; start += 10) {
    await Promise.all(ids.slice(start, start + 10).map((id, offset) => write(id, start + offset)))
  }
  // Authenticated once, so the API client's read is cached and the counts below are the page's alone.
  await ask('{ __typename }', {})
}, 120_000)

async function ask(query: string, variables: Record<string, unknown>) {
  const response = await graphql.fetch('http://gateway.test/graphql', {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await response.json()) as { data?: any; errors?: unknown[] }
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined()
  expect(response.status).toBe(200)
  return body.data
}

/** The commands one request sends, by name: `{ Query: 1 }`. */
async function commandsOf(query: string, first: number) {
  commands.length = 0
  const data = await ask(query, { first })
  expect(data.consents.edges).toHaveLength(first)
  const counted: Record<string, number> = {}
  for (const name of commands) counted[name] = (counted[name] ?? 0) + 1
  return counted
}

describe('one page of consents, counted in store calls', () => {
  it.each([10, 50, 100])('%i consents with their nested fields: one Query', async (first) => {
    expect(await commandsOf(PAGE, first)).toEqual({ QueryCommand: 1 })
  })

  it.each([10, 50, 100])(
    '%i consents with the consents they link to: one Query and one BatchGetItem',
    async (first) => {
      expect(await commandsOf(LINKED_PAGE, first)).toEqual({ QueryCommand: 1, BatchGetItemCommand: 1 })
    },
  )
})
