// Builds the graphql-ws poller (service/ws-poller.ts) over a gateway: the repositories it reads and writes are made
// here from the gateway's table, as gateway.ts makes everyone else's; the host hands in what lives above service/.
import { ConsentRepository } from '../store/consent-repository.ts'
import { EventRepository } from '../store/event-repository.ts'
import { WebSocketRepository } from '../store/ws-repository.ts'
import type { ConnectionSender } from '../service/connection-sender.ts'
import { WsPoller, type PollerOperations, type WsPollerSettings } from '../service/ws-poller.ts'
import type { Gateway } from './gateway.ts'

/** What the host provides: how to reach connections and how to run a stored document. */
export interface WsPollerPorts {
  readonly sender: ConnectionSender
  readonly operations: PollerOperations
  readonly newRunId: () => string
}

/** The parts of the gateway the poller runs on: its table, clock, feed and authenticator. */
export type WsPollerGateway = Pick<Gateway, 'db' | 'events' | 'authenticator' | 'clock' | 'logger'> & {
  readonly config: Pick<Gateway['config'], 'tableName' | 'subscriptionPollIntervalMs'>
}

/** The poller over a gateway's table, clocks and feed. */
export function createWsPoller(
  gateway: WsPollerGateway,
  ports: WsPollerPorts,
  settings: Partial<WsPollerSettings> = {},
): WsPoller {
  const { db, config } = gateway
  return new WsPoller(
    {
      store: new WebSocketRepository(db, config.tableName),
      changes: new EventRepository(db, config.tableName),
      consents: new ConsentRepository(db, config.tableName),
      events: gateway.events,
      sender: ports.sender,
      principals: gateway.authenticator,
      operations: ports.operations,
      clock: gateway.clock,
      newRunId: ports.newRunId,
      logger: gateway.logger,
    },
    { pollIntervalMs: config.subscriptionPollIntervalMs, ...settings },
  )
}
