// GraphQL over WebSocket on AWS (graphql-ws, subprotocol `graphql-transport-ws`): an API Gateway WebSocket API whose
// $connect, $default and $disconnect routes invoke three gateway functions (the connection, the protocol, the goodbye),
// and a poller on a schedule that reads the change feed and posts to the watching connections through the API's
// management endpoint. API Gateway holds the sockets: no function runs while a watcher waits.
import { baseUrl } from './api.ts'
import { gatewayFunction } from './functions.ts'

/**
 * API Gateway gives up on a WebSocket route's integration after 29 s: a route's function has no use for longer. A
 * `connection_init` (one credential check) or a `subscribe` (one operation and its first answer) takes milliseconds.
 */
const ROUTE_TIMEOUT = '30 seconds'

/**
 * How often the poller's run starts (EventBridge Scheduler's shortest rate). Each run polls until shortly before the
 * next is due (functions/ws-poller.ts), so one run at a time holds a shard's lease.
 */
const POLLER_SCHEDULE = 'rate(1 minute)'

/**
 * The poller's run polls for most of its minute (58 s), then stores its cursors and gives its leases back (held 3 s
 * past the polling window). The timeout is past both, so the last tick and the storing finish before Lambda could cut
 * the run; the leases, not the timeout, keep two runs off one shard.
 */
const POLLER_TIMEOUT = '70 seconds'

/** The WebSocket API (regional; stage `$default`). Clients connect to {@link outputs}' `graphqlWsUrl`. */
export const webSocket = new sst.aws.ApiGatewayWebSocket('Ws', {
  transform: {
    api: (args) => {
      args.description = 'consent-gateway: GraphQL over WebSocket (graphql-ws)'
    },
  },
})

/**
 * Where the functions that post reach the connections (`https://<id>.execute-api.<region>.amazonaws.com/$default`):
 * `WS_MANAGEMENT_ENDPOINT`, read by functions/ws-management.ts.
 */
export const managementEndpoint = webSocket.managementEndpoint

/**
 * Posting to and closing this API's connections, and nothing else: `POST` and `DELETE` on `@connections`
 * (PostToConnection, DeleteConnection), on any stage of this API only.
 */
const manageConnections = {
  actions: ['execute-api:ManageConnections'],
  resources: (['POST', 'DELETE'] as const).map(
    (method) => $interpolate`${webSocket.nodes.api.executionArn}/*/${method}/@connections/*`,
  ),
}

/** The gateway function settings plus the management endpoint, for the functions that post. */
function postingFunction() {
  const shared = gatewayFunction(baseUrl)
  return {
    ...shared,
    environment: $util.all([shared.environment, managementEndpoint]).apply(([variables, endpoint]) => ({
      ...variables,
      WS_MANAGEMENT_ENDPOINT: endpoint,
    })),
    permissions: [manageConnections],
  }
}

/**
 * `$connect`: accepts only the `graphql-transport-ws` subprotocol (answered in the `Sec-WebSocket-Protocol` header,
 * anything else refused 400 before a connection exists) and records the connection; the caller authenticates later,
 * with `connection_init`.
 */
export const wsConnect = new sst.aws.Function('WsConnect', {
  ...gatewayFunction(baseUrl),
  handler: 'functions/ws-connect.handler',
  description: 'GraphQL over WebSocket: $connect (subprotocol, the connection item)',
  timeout: ROUTE_TIMEOUT,
  memory: '512 MB',
})

/**
 * `$default`: the graphql-ws protocol, one message per invocation (state in the table): `connection_init`
 * authenticates, `subscribe` runs the operation and stores the subscription. 1024 MB as the GraphQL function: the same
 * schema to load, and a Basic credential seen first costs one scrypt check, whose speed follows Lambda's CPU share.
 */
export const wsMessage = new sst.aws.Function('WsMessage', {
  ...postingFunction(),
  handler: 'functions/ws-message.handler',
  description: 'GraphQL over WebSocket: $default (connection_init, subscribe, complete, ping)',
  timeout: ROUTE_TIMEOUT,
  memory: '1024 MB',
})

/** `$disconnect`: deletes the connection and its subscriptions. */
export const wsDisconnect = new sst.aws.Function('WsDisconnect', {
  ...gatewayFunction(baseUrl),
  handler: 'functions/ws-disconnect.handler',
  description: 'GraphQL over WebSocket: $disconnect (the connection and its subscriptions deleted)',
  timeout: ROUTE_TIMEOUT,
  memory: '512 MB',
})

// Routed by ARN, as in infra/api.ts: a handler path would make each route build a function of its own.
webSocket.route('$connect', wsConnect.arn)
webSocket.route('$default', wsMessage.arn)
webSocket.route('$disconnect', wsDisconnect.arn)

/**
 * The poller (functions/ws-poller.ts), built here and handed to CronV2 for the reason infra/jobs.ts gives at
 * `scheduledJob` (declared like every other gateway function). No retries: Scheduler invokes asynchronously and
 * Lambda would retry a failed run into the next one's minute; the next run is the retry, resuming from the stored
 * cursors.
 */
export const wsPollerFunction = new sst.aws.Function('WsPollerJob', {
  ...postingFunction(),
  handler: 'functions/ws-poller.handler',
  description: 'GraphQL over WebSocket: polls the change feed, posts to the watching connections (every minute)',
  timeout: POLLER_TIMEOUT,
  // One run sends every ping and change from one thread, so its CPU share (in proportion to memory) bounds how many
  // watchers a deployment holds: about 17,700 at 512 MB, 36,500 at 1,024 MB, 64,000 at 1,769 MB (one vCPU, the most
  // one thread uses). It also runs all the time: $17 a month at 512 MB with nobody connected (docs/cost.md).
  memory: '512 MB',
  retries: 0,
})

export const wsPoller = new sst.aws.CronV2('WsPoller', { schedule: POLLER_SCHEDULE, function: wsPollerFunction })

/** What `sst deploy` prints: where graphql-ws clients connect. */
export const outputs = {
  graphqlWsUrl: webSocket.url,
}
