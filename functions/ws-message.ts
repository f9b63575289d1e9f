// Lambda entry: `$default` of the WebSocket API: every graphql-ws message, one invocation each, through the protocol
// (schema/ws-connections.ts) with the connection's state in the table and answers posted through the management API.
// Per-tenant request limits count here, per container (API Gateway's usage plans do not apply to WebSocket messages).
import type { Context } from 'aws-lambda'
import { pageOrigins } from '../http/cors.ts'
import { createGraphQLServer, graphQLServicesOf } from '../schema/server.ts'
import { ApiGatewayWebSocket } from '../schema/ws-connections.ts'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { TenantRateLimiter } from '../service/rate-limiter.ts'
import { SubscriptionSnapshots } from '../service/subscription-snapshot.ts'
import { WebSocketSessions } from '../service/ws-sessions.ts'
import { ConsentRepository } from '../store/consent-repository.ts'
import { EventRepository } from '../store/event-repository.ts'
import { WebSocketRepository } from '../store/ws-repository.ts'
import { senderFor, sourceIpOf, type WebSocketEvent } from './ws-management.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())
const { config } = gateway
const services = {
  ...graphQLServicesOf(gateway),
  rateLimits:
    gateway.rateLimits ??
    new TenantRateLimiter(
      async (tenantId) => (await gateway.access.tenants.get(tenantId))?.rateLimits ?? null,
      config.rateLimits,
    ),
}
const graphql = createGraphQLServer({ services, authenticator: gateway.authenticator, logger: gateway.logger })
const sessions = new WebSocketSessions(new WebSocketRepository(gateway.db, config.tableName), gateway.authenticator)
const snapshots = new SubscriptionSnapshots(
  {
    consents: new ConsentRepository(gateway.db, config.tableName),
    events: new EventRepository(gateway.db, config.tableName),
  },
  config.cursorSecret,
  gateway.clock,
)
const origins = pageOrigins({ configured: config.corsAllowedOrigins ?? [], registered: gateway.webOrigins })

/** A message is handled with this much of the invocation left, at least: what is started is finished. */
const DEADLINE_MARGIN_MS = 2_000

async function handle(event: WebSocketEvent, context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>) {
  const protocol = new ApiGatewayWebSocket(
    {
      graphql,
      services,
      authenticator: gateway.authenticator,
      sessions,
      snapshots,
      sender: senderFor(event),
      webOrigin: (origin) => origins.checkFor(origin),
      logger: gateway.logger,
    },
    { subscriptionMaxMs: config.subscriptionMaxSeconds * 1000 },
  )
  const deadline = Date.now() + Math.max(0, context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS)
  await runInRequestScope({ requestId: context.awsRequestId, deadline }, () =>
    protocol.message({
      connectionId: event.requestContext.connectionId,
      // A binary frame arrives base64-encoded: graphql-ws speaks text only.
      body: event.isBase64Encoded ? null : (event.body ?? ''),
      clientAddress: sourceIpOf(event),
    }),
  )
  return { statusCode: 200 }
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
