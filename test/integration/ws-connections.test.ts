// connected: the graphql-ws protocol for API Gateway (schema/ws-connections.ts) driven directly, against DynamoDB
// Local, with a sender that records what would be posted: what the stand-in cannot show. A change that lands between a
// subscription's first answer and its store is sent (nothing lost); a client gone in between leaves nothing stored; a
// feed backlog longer than one answer completes after it and is resumed from the last cursor; messages the stand-in's
// frame limit never lets through (over 64 kB), binary ones and ones for a connection nobody opened are closed with the
// code logged; operations that end give their slot back.
import { monotonicFactory } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { encodePublicId } from '../../domain/ids.ts'
import { notificationFor } from '../../domain/notification.ts'
import { createGraphQLServer, graphQLServicesOf, type GraphQLServer } from '../../schema/server.ts'
import { ApiGatewayWebSocket } from '../../schema/ws-connections.ts'
import type { ConnectionSender } from '../../service/connection-sender.ts'
import { createGateway, type Gateway } from '../../composition/gateway.ts'
import { silentLogger, type Logger } from '../../runtime/logging.ts'
import { SubscriptionSnapshots } from '../../service/subscription-snapshot.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { WebSocketSessions } from '../../service/ws-sessions.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { EventRepository } from '../../store/event-repository.ts'
import { WebSocketRepository } from '../../store/ws-repository.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'
import { aConsent, aGatewayConfig, writeConsentWithTransitions } from '../support/fixtures.ts'

const TENANT = { tenantId: 'TENANT_WSPROTO', clientId: 'client-wsproto', clientSecret: 'secret-wsproto-0123456789' }
const AUTH = `Basic ${Buffer.from(`${TENANT.clientId}:${TENANT.clientSecret}`).toString('base64')}`
const UPDATED = `subscription ($id: ID!) { consentUpdated(id: $id) { id status version } }`
const FEED = `subscription ($after: String) { consentEvents(after: $after) { cursor event { sequence } } }`
const MAX_BACKLOG = 3

let table: TestTable
let gateway: Gateway
let graphql: GraphQLServer
let consents: ConsentRepository
let events: EventRepository
let repository: WebSocketRepository
const newId = monotonicFactory()

beforeAll(async () => {
  table = await createTestTable()
  gateway = createGateway(aGatewayConfig(table, { localMode: false }), { db: table.db, logger: silentLogger })
  await provisionApiClient(gateway.access, { ...TENANT, tenantName: 'Protocol' }, new Date())
  graphql = createGraphQLServer({
    services: graphQLServicesOf(gateway),
    authenticator: gateway.authenticator,
    logger: silentLogger,
  })
  consents = new ConsentRepository(table.db, table.tableName)
  events = new EventRepository(table.db, table.tableName)
  repository = new WebSocketRepository(table.db, table.tableName)
})

/** What the protocol posted and closed, and logged. */
function recorder() {
  const posted: { connectionId: string; message: Record<string, any> }[] = []
  const closed: string[] = []
  const logged: { message: string; extra?: Record<string, unknown> }[] = []
  const sender: ConnectionSender = {
    post: async (connectionId, message) => {
      if (closed.includes(connectionId)) return 'gone'
      posted.push({ connectionId, message: message as Record<string, any> })
      return 'sent'
    },
    close: async (connectionId) => void closed.push(connectionId),
  }
  const logger: Logger = {
    debug: () => undefined,
    info: (message, extra) => void logged.push({ message, extra }),
    warn: (message, extra) => void logged.push({ message, extra }),
    error: (message, extra) => void logged.push({ message, extra }),
  }
  return { posted, closed, logged, sender, logger }
}

function protocolWith(record: ReturnType<typeof recorder>, sessions?: WebSocketSessions) {
  return new ApiGatewayWebSocket({
    graphql,
    services: graphQLServicesOf(gateway),
    authenticator: gateway.authenticator,
    sessions: sessions ?? new WebSocketSessions(repository, gateway.authenticator),
    snapshots: new SubscriptionSnapshots({ consents, events }, gateway.config.cursorSecret, gateway.clock, {
      maxBacklog: MAX_BACKLOG,
    }),
    sender: record.sender,
    webOrigin: (origin) => ({ origin, allows: async () => false }),
    logger: record.logger,
  })
}

/** Sessions that run `first` (something racing it) just before each subscription is stored. */
function sessionsThatFirst(first: (connectionId: string) => Promise<unknown>): WebSocketSessions {
  const base = new WebSocketSessions(repository, gateway.authenticator)
  return Object.assign(Object.create(base) as WebSocketSessions, {
    subscribe: async (...args: Parameters<WebSocketSessions['subscribe']>) => {
      await first(args[0])
      return base.subscribe(...args)
    },
  })
}

/** A connection opened and acknowledged; its id. */
async function acknowledged(protocol: ApiGatewayWebSocket, record: ReturnType<typeof recorder>): Promise<string> {
  const connectionId = `conn-${newId()}=`
  expect(
    await protocol.connect({
      connectionId,
      protocols: 'graphql-transport-ws',
      origin: null,
      clientAddress: '203.0.113.5',
    }),
  ).toMatchObject({ accepted: true })
  await send(protocol, connectionId, { type: 'connection_init', payload: { authorization: AUTH } })
  expect(record.posted.filter((post) => post.connectionId === connectionId).map((post) => post.message)).toEqual([
    { type: 'connection_ack' },
  ])
  return connectionId
}

const send = (protocol: ApiGatewayWebSocket, connectionId: string, message: unknown) =>
  protocol.message({
    connectionId,
    body: typeof message === 'string' ? message : JSON.stringify(message),
    clientAddress: '203.0.113.5',
  })

async function aStoredConsent(transitions: Consent['status'][] = [], idAt: () => string = () => newId()) {
  return writeConsentWithTransitions(
    consents,
    aConsent({
      id: newId(),
      tenantId: TENANT.tenantId,
      providerConsentId: `fq-${newId()}`,
      // Its link still open: the status it shows is its own (a past link would show EXPIRED, and end every stream).
      linkExpiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    }),
    transitions,
    idAt,
  )
}

describe('the API Gateway graphql-ws protocol', () => {
  it('sends a change that lands between the first answer and the store, once, and records it as sent', async () => {
    // Prepare: sessions that, just before the subscription is stored, see the consent change (as a webhook would)
    const consent = await aStoredConsent()
    const record = recorder()
    const protocol = protocolWith(
      record,
      sessionsThatFirst(async () => {
        const next = { ...consent, status: 'AWAITING_AUTHORIZATION' as const, version: 2 }
        const event = newConsentEvent(next, consent.status, { id: newId(), source: 'API', initiator: 'test' })
        await consents.update(next, 1, event, notificationFor(event, next))
      }),
    )
    const connectionId = await acknowledged(protocol, record)

    // Act
    await send(protocol, connectionId, {
      id: 'w',
      type: 'subscribe',
      payload: { query: UPDATED, variables: { id: encodePublicId('Consent', consent.id) } },
    })

    // Assess: the first answer, then the change, each once; the stored subscription says version 2 was sent
    const answers = record.posted.filter((post) => post.message.id === 'w').map((post) => post.message)
    expect(answers.map((answer) => [answer.type, answer.payload?.data?.consentUpdated?.version])).toEqual([
      ['next', 1],
      ['next', 2],
    ])
    expect((await repository.getSubscription(connectionId, 'w'))?.lastVersion).toBe(2)
  })

  it('stores nothing for a subscription whose connection closes between its first answer and its store', async () => {
    // Prepare: sessions that, just before the subscription is stored, see its client go ($disconnect runs)
    const consent = await aStoredConsent()
    const record = recorder()
    const protocol: ApiGatewayWebSocket = protocolWith(
      record,
      sessionsThatFirst((connectionId) => protocol.disconnect(connectionId)),
    )
    const connectionId = await acknowledged(protocol, record)

    // Act
    await send(protocol, connectionId, {
      id: 'w',
      type: 'subscribe',
      payload: { query: UPDATED, variables: { id: encodePublicId('Consent', consent.id) } },
    })

    // Assess: the first answer went out; nothing of the connection is left, and no close was made up for it
    const answers = record.posted.filter((post) => post.message.id === 'w').map((post) => post.message.type)
    expect(answers).toEqual(['next'])
    expect(await repository.getConnection(connectionId)).toBeNull()
    expect(await repository.getSubscription(connectionId, 'w')).toBeNull()
    expect(await repository.watchersOfConsent(consent.id)).toEqual([])
    expect(record.logged.filter((line) => line.message === 'graphql-ws connection closed')).toEqual([])
  })

  it('completes a feed whose backlog is longer than one answer sends, storing nothing; resumed, it goes on', async () => {
    // Prepare: a tenant feed of 4 settled events (their ids a minute old)
    const record = recorder()
    const protocol = protocolWith(record)
    const connectionId = await acknowledged(protocol, record)
    const minuteAgo = monotonicFactory()
    await aStoredConsent(['AWAITING_AUTHORIZATION', 'ACTIVE', 'REVOKED'], () => minuteAgo(Date.now() - 60_000))

    // Act
    await send(protocol, connectionId, { id: 'f1', type: 'subscribe', payload: { query: FEED } })
    const first = record.posted.filter((post) => post.message.id === 'f1').map((post) => post.message)
    const last = first.filter((message) => message.type === 'next').at(-1)?.payload.data.consentEvents.cursor
    await send(protocol, connectionId, {
      id: 'f2',
      type: 'subscribe',
      payload: { query: FEED, variables: { after: last } },
    })
    const second = record.posted.filter((post) => post.message.id === 'f2').map((post) => post.message)

    // Assess
    expect(first.map((message) => [message.type, message.payload?.data?.consentEvents.event.sequence])).toEqual([
      ['next', 1],
      ['next', 2],
      ['next', 3],
      ['complete', undefined],
    ])
    expect(await repository.getSubscription(connectionId, 'f1')).toBeNull()
    expect(second.map((message) => [message.type, message.payload?.data?.consentEvents.event.sequence])).toEqual([
      ['next', 4],
    ])
    expect(await repository.getSubscription(connectionId, 'f2')).toMatchObject({
      field: 'consentEvents',
      cursor: second[0]?.payload.data.consentEvents.cursor,
    })
    expect((await repository.getConnection(connectionId))?.operations).toBe(1)
  })

  it('closes a message over 64 kB, a binary one, and one for a connection nobody opened, logging why', async () => {
    // Prepare
    const record = recorder()
    const protocol = protocolWith(record)
    const big = await acknowledged(protocol, record)
    const binary = await acknowledged(protocol, record)

    // Act
    await send(protocol, big, { type: 'ping', payload: { pad: 'x'.repeat(70_000) } })
    await protocol.message({ connectionId: binary, body: null, clientAddress: '203.0.113.5' })
    await send(protocol, 'nobody=', { type: 'ping' })

    // Assess
    const closes = record.logged
      .filter((line) => line.message === 'graphql-ws connection closed')
      .map((line) => [line.extra?.connectionId, line.extra?.code])
    expect(closes).toEqual([
      [big, 1009],
      [binary, 4400],
      ['nobody=', 4404],
    ])
    expect(record.closed).toEqual([big, binary, 'nobody='])
    expect(await repository.getConnection(big)).toBeNull()
    expect(record.posted.filter((post) => post.message.type === 'pong')).toEqual([])
  })

  it('gives the slot of every query and every refused operation back', async () => {
    // Prepare
    const record = recorder()
    const protocol = protocolWith(record)
    const connectionId = await acknowledged(protocol, record)

    // Act: 25 operations one after another, more than the 20 slots, none of them stored
    for (let index = 0; index < 25; index++) {
      await send(protocol, connectionId, {
        id: `q${index}`,
        type: 'subscribe',
        payload: { query: index % 2 ? '{ __typename }' : '{ nope }' },
      })
    }

    // Assess
    const answers = record.posted.filter((post) => post.connectionId === connectionId && post.message.id)
    expect(answers.filter((post) => post.message.type === 'complete')).toHaveLength(12)
    expect(answers.filter((post) => post.message.type === 'error')).toHaveLength(13)
    expect(JSON.stringify(answers)).not.toContain('BAD_REQUEST')
    expect((await repository.getConnection(connectionId))?.operations).toBe(0)
  })
})
