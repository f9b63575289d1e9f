// Lambda entry: `$connect` of the WebSocket API (graphql-ws). Accepts only the `graphql-transport-ws` subprotocol
// (named back in `Sec-WebSocket-Protocol`; anything else: 400, no connection) and stores the connection: its address,
// and a page's origin, judged once the caller's tenant is known (`connection_init`, functions/ws-message.ts).
import type { Context } from 'aws-lambda'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { acceptConnection, WebSocketSessions } from '../service/ws-sessions.ts'
import { WebSocketRepository } from '../store/ws-repository.ts'
import { headerOf, sourceIpOf, type WebSocketEvent } from './ws-management.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())
const sessions = new WebSocketSessions(
  new WebSocketRepository(gateway.db, gateway.config.tableName),
  gateway.authenticator,
)

async function handle(event: WebSocketEvent, context: Pick<Context, 'awsRequestId'>) {
  const { connectionId, domainName } = event.requestContext
  const origin = headerOf(event, 'origin')
  return runInRequestScope({ requestId: context.awsRequestId }, async () => {
    const answer = await acceptConnection(sessions, {
      connectionId,
      protocols: headerOf(event, 'sec-websocket-protocol'),
      // A page of the API's own origin is not cross-origin (there is none today; the rule is HTTP's).
      origin: origin && origin !== `https://${domainName}` ? origin : null,
      clientAddress: sourceIpOf(event),
    })
    if (!answer.accepted) {
      gateway.logger.info('graphql-ws connection refused', { connectionId, error: answer.error })
      // The only refusal is a handshake the client got wrong (no subprotocol of ours): a client error.
      return { statusCode: 400, body: JSON.stringify({ error: answer.error }) }
    }
    return { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': answer.protocol } }
  })
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
