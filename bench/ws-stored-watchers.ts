// The stored watchers both graphql-ws poller benches seed (bench/ws-poller.ts, bench/ws-fanout.ts): one tenant's
// client, one consent per connection, each connection with one subscription to its consent; and the changes they make.
import { randomUUID } from 'node:crypto'
import { monotonicFactory } from 'ulid'
import { newConsentEvent, type Consent } from '../domain/consent.ts'
import { encodePublicId } from '../domain/ids.ts'
import { notificationFor } from '../domain/notification.ts'
import { configFromEnv } from '../service/config.ts'
import { createGateway } from '../composition/gateway.ts'
import { silentLogger } from '../runtime/logging.ts'
import { provisionApiClient } from '../service/tenants.ts'
import { AccessRepository } from '../store/access-repository.ts'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { ConsentRepository } from '../store/consent-repository.ts'
import { WebSocketRepository } from '../store/ws-repository.ts'
import { benchConsent } from './consent-fixture.ts'

const DOCUMENT = 'subscription Watch($id: ID!) { consentUpdated(id: $id) { id status version updatedAt } }'

const newId = monotonicFactory()

/** A consent waiting for its user, the kind a watcher is subscribed to: the bench consent, its own and awaited. */
function watchedConsent(tenantId: string): Consent {
  return {
    ...benchConsent(new Date()),
    id: newId(),
    tenantId,
    providerConsentId: `fq-${newId()}`,
    userId: 'bench-user',
    scope: ['ACCOUNTS'],
    status: 'AWAITING_AUTHORIZATION',
    authorizationUrl: 'https://bank.example/link',
    linkExpiresAt: null,
  }
}

export interface WatcherSeed {
  readonly db: DynamoDBDocumentClient
  readonly tableName: string
  readonly tenantId: string
  readonly client: { readonly clientId: string; readonly clientSecret: string }
  readonly subscriptions: number
}

/**
 * Seeds the tenant's client and `subscriptions` watchers, 25 at a time. Reads the gateway's configuration from
 * `process.env`, so the bench sets it first.
 */
export async function seedWatchers({ db, tableName, tenantId, client, subscriptions }: WatcherSeed) {
  const consents = new ConsentRepository(db, tableName)
  const ws = new WebSocketRepository(db, tableName)
  await provisionApiClient(
    new AccessRepository(db, tableName),
    { tenantId, tenantName: 'Bench', ...client },
    new Date(),
  )
  const gateway = createGateway(configFromEnv(), { db, logger: silentLogger })
  const principal = gateway.authenticator.describe(
    await gateway.authenticator.authenticate(
      `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
    ),
  )
  const watched: Consent[] = []
  const connections: string[] = []
  for (let i = 0; i < subscriptions; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, subscriptions - i) }, async () => {
        const consent = watchedConsent(tenantId)
        const event = newConsentEvent(consent, null, { id: newId(), source: 'API', initiator: 'api-client:bench' })
        await consents.create(consent, event, notificationFor(event, consent))
        const connectionId = `${randomUUID().slice(0, 15)}=`
        const now = new Date()
        await ws.putConnection(
          {
            connectionId,
            connectedAt: now.toISOString(),
            clientAddress: '203.0.113.1',
            origin: null,
            principal,
            trustedUntil: Date.now() + 3_600_000,
          },
          now,
          new Date(Date.now() + 3_600_000),
        )
        const stored = await ws.putSubscription({
          connectionId,
          operationId: '1',
          tenantId,
          principal,
          query: DOCUMENT,
          variables: { id: encodePublicId('Consent', consent.id) },
          operationName: 'Watch',
          field: 'consentUpdated',
          consentId: consent.id,
          cursor: null,
          lastVersion: 1,
          deadline: Date.now() + 3_600_000,
        })
        if (stored !== 'stored') throw new Error(`a subscription was not stored (${stored})`)
        watched.push(consent)
        connections.push(connectionId)
      }),
    )
  }

  let next = 0
  /** Changes `count` watched consents (round robin, 25 at a time), as a provider poll would. */
  const change = async (count: number) => {
    for (let i = 0; i < count; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, count - i) }, async () => {
          const index = next++ % watched.length
          const current = watched[index] as Consent
          const updated = { ...current, version: current.version + 1, updatedAt: new Date().toISOString() }
          const event = newConsentEvent(updated, current.status, {
            id: newId(),
            source: 'PROVIDER_POLL',
            initiator: 'provider:finqware',
          })
          await consents.update(updated, current.version, event, notificationFor(event, updated))
          watched[index] = updated
        }),
      )
    }
  }
  return { ws, connections, change }
}
