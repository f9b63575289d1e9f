// Lambda entry: the graphql-ws poller of the WebSocket API, every minute (infra/websocket.ts): each run leases the
// change-feed shards no other run holds and polls them every SUBSCRIPTION_POLL_INTERVAL_MS until just before the next
// run is due, posting through the management API (service/ws-poller.ts). The schema is built here (its documents run
// against each change); provider adapters load on first use, if a document asks for what needs one.
import { randomUUID } from 'node:crypto'
import type { Context } from 'aws-lambda'
import { graphQLServicesOf } from '../schema/server.ts'
import { storedOperations } from '../schema/stored-operations.ts'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { createWsPoller } from '../composition/ws-poller.ts'
import { runScheduledJob } from './scheduled-job.ts'
import { managementSender } from './ws-management.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())
const endpoint = process.env.WS_MANAGEMENT_ENDPOINT
if (!endpoint) {
  throw new Error(
    "WS_MANAGEMENT_ENDPOINT is not set: the WebSocket API's management endpoint (https://<api>.execute-api.<region>.amazonaws.com/<stage>)",
  )
}
const poller = createWsPoller(gateway, {
  sender: managementSender(endpoint),
  operations: storedOperations(graphQLServicesOf(gateway), gateway.logger),
  newRunId: () => randomUUID(),
})

/** Invoked by EventBridge Scheduler with an empty event. */
async function handle(_event: unknown, context: Context) {
  return runScheduledJob('graphql-ws poller', gateway.logger, context, () => poller.run())
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
