// Lambda entry: `$disconnect` of the WebSocket API (graphql-ws): the connection and its subscriptions are forgotten.
// API Gateway calls it at best effort; a connection it misses is removed when the poller's post finds it gone (410),
// and by TTL.
import type { Context } from 'aws-lambda'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { WebSocketSessions } from '../service/ws-sessions.ts'
import { WebSocketRepository } from '../store/ws-repository.ts'
import type { WebSocketEvent } from './ws-management.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())
const sessions = new WebSocketSessions(
  new WebSocketRepository(gateway.db, gateway.config.tableName),
  gateway.authenticator,
)

async function handle(event: WebSocketEvent, context: Pick<Context, 'awsRequestId'>) {
  return runInRequestScope({ requestId: context.awsRequestId }, async () => {
    await sessions.close(event.requestContext.connectionId)
    return { statusCode: 200 }
  })
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
