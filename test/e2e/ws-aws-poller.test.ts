// e2e: graphql-ws on AWS, what follows a subscription's first answer: the BUILT ws-poller bundle, invoked on a
// schedule of back-to-back runs as EventBridge Scheduler would (each run a few seconds here), beside the built
// ws-connect / ws-message / ws-disconnect bundles behind the stand-in for API Gateway's WebSocket API
// (test/support/ws-api-gateway.ts), against DynamoDB Local and a local stack's tenants and sandboxes. With the
// graphql-ws client: a consent watched to ACTIVE as the user approves at the bank page, then to REVOKED and complete;
// the feed resumed from its last cursor after a dropped connection, every event once; a connection whose client is
// disabled is closed by the poller instead of being sent the change.
import { createClient, type Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { decodePublicId } from '../../domain/ids.ts'
import { buildFunction } from '../../scripts/build-functions.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { WebSocketRepository } from '../../store/ws-repository.ts'
import { setClientDisabled } from '../support/credentials.ts'
import { stream, type Result } from '../support/graphql-ws-stream.ts'
import { decideAtBank, execute, openBankPage, startStack, type Credentials, type Stack } from '../support/stack.ts'
import { functionEnvOf, startWsApiGateway, type WsApiGateway } from '../support/ws-api-gateway.ts'

const WAIT = { timeout: 30_000, interval: 50 }
const CACHE_TTL_MS = 500
/** Each poller invocation's time limit: the job keeps 5 s back, so each run polls for 3 s. */
const INVOCATION_MS = 8_000

let stack: Stack
let gateway: WsApiGateway
let repository: WebSocketRepository
let polling = true
let schedule: Promise<void> = Promise.resolve()
const pollerFailures: string[] = []
const runs: Record<string, any>[] = []
const clients: Client[] = []

beforeAll(async () => {
  const built = await Promise.all(
    (['ws-connect', 'ws-message', 'ws-disconnect', 'ws-poller'] as const).map((name) =>
      buildFunction(name, `functions/${name}.ts`, 'dist/functions-test-ws-poller'),
    ),
  )
  const [connect, message, disconnect, poller] = built.map((fn) => fn.entry)
  stack = await startStack({ authCacheTtlMs: CACHE_TTL_MS, subscriptionMaxSeconds: 600 })
  gateway = await startWsApiGateway({
    functions: {
      'ws-connect': connect as string,
      'ws-message': message as string,
      'ws-disconnect': disconnect as string,
      'ws-poller': poller as string,
    },
    env: { ...functionEnvOf(stack.gateway.config), LOG_LEVEL: 'INFO' },
  })
  repository = new WebSocketRepository(stack.table.db, stack.table.tableName)
  // The schedule: one run after another, as a minute's runs follow each other on AWS; their reports kept.
  schedule = (async () => {
    while (polling) {
      try {
        runs.push((await gateway.invoke('ws-poller', {}, { timeoutMs: INVOCATION_MS })) as Record<string, any>)
      } catch (error) {
        pollerFailures.push(error instanceof Error ? error.message : String(error))
      }
    }
  })()
}, 180_000)

afterAll(async () => {
  polling = false
  for (const client of clients) await client.dispose()
  await schedule
  await gateway?.stop()
  await stack?.close()
}, 30_000)

/** A graphql-ws client through the stand-in, no retries, its sockets kept so a test can cut them as a network would. */
function wsClient(connectionParams: Record<string, unknown>) {
  const sockets: WebSocket[] = []
  const closes: number[] = []
  class TrackedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols)
      sockets.push(this)
      this.on('close', (code) => closes.push(code))
    }
  }
  const client = createClient({
    url: gateway.url,
    webSocketImpl: TrackedWebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  })
  clients.push(client)
  return { client, sockets, closes }
}

const CREATE = `mutation ($input: CreateConsentInput!) {
  createConsent(input: $input) { __typename ... on CreateConsentPayload { consent { id status authorizationUrl } } ... on Error { code message } }
}`
const UPDATED = `subscription Watch($id: ID!) { consentUpdated(id: $id) { id status version } }`
const GET = `query Get($id: ID!) { consent(id: $id) { ... on Consent { status } } }`
const FEED = `subscription Feed($after: String) { consentEvents(after: $after) { cursor event { sequence to consent { id } } } }`

async function createConsent(credentials: Credentials) {
  const result = await execute(stack.client(credentials), CREATE, {
    input: { provider: 'FINQWARE', institutionId: 'bt_ro', userId: 'user-ws-poller', region: 'EEA' },
  })
  expect(result.data?.createConsent.__typename, JSON.stringify(result)).toBe('CreateConsentPayload')
  return result.data?.createConsent.consent as { id: string; authorizationUrl: string }
}

const statuses = (results: readonly Result[]) =>
  results.map((result) => (result.data?.consentUpdated as { status?: string } | undefined)?.status)

describe('graphql-ws on AWS: the poller', () => {
  it('sends the consent going ACTIVE after the bank page approves, then REVOKED and complete', async () => {
    // Prepare: a consent, its bank page open (the provider tells: AWAITING_AUTHORIZATION); a client watching it
    const created = await createConsent(stack.tenantA)
    await openBankPage(created.authorizationUrl)
    await vi.waitFor(async () => {
      const read = await execute(stack.client(stack.tenantA), GET, { id: created.id })
      expect(read.data?.consent.status).toBe('AWAITING_AUTHORIZATION')
    }, WAIT)
    const { client } = wsClient({ authorization: stack.authorization(stack.tenantA) })
    const watch = stream(client, UPDATED, { id: created.id })
    await vi.waitFor(() => expect(watch.results.length).toBeGreaterThan(0), WAIT)
    // Stored for the poller: what follows is the poller's to send (not the subscribe handler's catch-up)
    const consentId = decodePublicId(created.id)?.id ?? ''
    await vi.waitFor(async () => expect(await repository.watchersOfConsent(consentId)).toHaveLength(1), WAIT)

    // Act: the user approves; then the partner revokes
    await decideAtBank(created.authorizationUrl, 'approve')
    await vi.waitFor(() => expect(statuses(watch.results)).toContain('ACTIVE'), WAIT)
    await execute(stack.client(stack.tenantA), `mutation ($id: ID!) { revokeConsent(id: $id) { __typename } }`, {
      id: created.id,
    })
    await watch.done

    // Assess: the first answer, then what the poller sent, each a version newer than the one before, each with the
    // answer's cost; REVOKED completes the stream
    expect(statuses(watch.results)[0]).toBe('AWAITING_AUTHORIZATION')
    expect(statuses(watch.results).at(-1)).toBe('REVOKED')
    const versions = watch.results.map((result) => result.data?.consentUpdated.version as number)
    expect(versions).toEqual([...versions].sort((a, b) => a - b))
    expect(new Set(versions).size).toBe(versions.length)
    for (const result of watch.results.slice(1)) {
      expect(result.extensions).toEqual({ cost: { requested: expect.any(Number), limit: 5000 } })
    }
    expect(watch.completed()).toBe(true)
    expect(watch.errors).toEqual([])
  }, 90_000)

  it('resumes the feed from its last cursor after a dropped connection: every event of the consent once, in order', async () => {
    // Prepare: tenant B's feed, followed until the new consent's first event arrives (sent by the poller)
    const created = await createConsent(stack.tenantB)
    const ofConsent = (results: readonly Result[]) =>
      results.flatMap((result) => {
        const item = result.data?.consentEvents as
          { cursor: string; event: { sequence: number; to: string; consent: { id: string } } } | undefined
        return item?.event.consent.id === created.id
          ? [{ cursor: item.cursor, sequence: item.event.sequence, to: item.event.to }]
          : []
      })
    const first = wsClient({ authorization: stack.authorization(stack.tenantB) })
    const feed = stream(first.client, FEED)
    await vi.waitFor(() => expect(ofConsent(feed.results)).toHaveLength(1), WAIT)
    const lastCursor = feed.results.at(-1)?.data?.consentEvents.cursor as string

    // Act: the connection drops (the network, or API Gateway's 2 hours); the user approves meanwhile; the app
    // subscribes again from the last cursor it got
    first.sockets[0]?.terminate()
    await feed.done
    await openBankPage(created.authorizationUrl)
    await decideAtBank(created.authorizationUrl, 'approve')
    const second = wsClient({ authorization: stack.authorization(stack.tenantB) })
    const resumed = stream(second.client, FEED, { after: lastCursor })
    await vi.waitFor(() => expect(ofConsent(resumed.results).map((item) => item.to)).toContain('ACTIVE'), WAIT)
    resumed.stop()

    // Assess: across both connections, the consent's events 1..n once each, ending ACTIVE
    const all = [...ofConsent(feed.results), ...ofConsent(resumed.results)]
    expect(all.map((item) => item.sequence)).toEqual(all.map((_, index) => index + 1))
    expect(all.at(-1)?.to).toBe('ACTIVE')
    const everything = [...feed.results, ...resumed.results].map((result) => result.data?.consentEvents.cursor)
    expect(new Set(everything).size).toBe(everything.length)
  }, 90_000)

  it('closes a connection whose client was disabled instead of sending it the change', async () => {
    // Prepare: a second client of tenant A watching a consent
    const credentials: Credentials = { ...stack.tenantA, clientId: 'client-ws-poller-lapse' }
    await provisionApiClient(stack.gateway.access, { ...credentials, tenantName: 'Alpha' }, new Date())
    const created = await createConsent(stack.tenantA)
    const { client, closes } = wsClient({ authorization: stack.authorization(credentials) })
    const watch = stream(client, UPDATED, { id: created.id })
    await vi.waitFor(() => expect(watch.results).toHaveLength(1), WAIT)

    // Act: the client is disabled; once its trust has run out, the consent changes
    await setClientDisabled(stack, credentials.clientId, true)
    const disabledAt = Date.now()
    const [subscription] = await repository.watchersOfConsent(decodePublicId(created.id)?.id ?? '')
    expect(subscription).toBeDefined()
    // Its trust has run out once both the trust stored for its connection and one cache period since the client was
    // disabled have passed (a check within that period may still find the client enabled and trust it once more).
    await vi.waitFor(async () => {
      const now = Date.now()
      const connection = await repository.getConnection(subscription?.connectionId ?? '')
      expect(now).toBeGreaterThan(Math.max(connection?.trustedUntil ?? 0, disabledAt + CACHE_TTL_MS))
    }, WAIT)
    await execute(stack.client(stack.tenantA), `mutation ($id: ID!) { revokeConsent(id: $id) { __typename } }`, {
      id: created.id,
    })

    // Assess: the socket is closed (API Gateway sends no code of ours), and the change never reached it
    await vi.waitFor(() => expect(closes.length).toBeGreaterThan(0), WAIT)
    expect(statuses(watch.results)).toEqual(['CREATED'])
    await vi.waitFor(() => expect(runs.some((run) => run.lapsed > 0)).toBe(true), WAIT)
  }, 60_000)

  it('ran every poller invocation to its end, and nothing a client sent failed an invocation', () => {
    expect(pollerFailures).toEqual([])
    expect(gateway.failures).toEqual([])
    expect(runs.every((run) => run.failedTicks === 0)).toBe(true)
  })
})
