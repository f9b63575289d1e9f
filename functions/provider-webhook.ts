// Lambda entry: provider notifications (`POST /webhooks/<provider>[/...]` on the HTTP API). The raw body reaches the
// adapter byte for byte: signatures are checked over it.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { configFromEnv } from '../service/config.ts'
import { createGateway } from '../service/gateway.ts'
import { runInRequestScope } from '../service/logging.ts'
import { receiveProviderNotification } from '../service/notification-endpoint.ts'
import { notificationRoute } from '../service/public-paths.ts'
import { eventBody, eventHeaders, plainResult } from './lambda-http.ts'

const MAX_NOTIFICATION_BYTES = 256 * 1024
const gateway = createGateway(configFromEnv())

const json = (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}) =>
  plainResult(status, { 'content-type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(body))

export async function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  const requestId = context.awsRequestId
  return runInRequestScope({ requestId }, async () => {
    const route = notificationRoute(event.rawPath)
    if (!route || !gateway.providers.has(route.provider)) return json(404, { error: 'not_found', requestId })
    if (event.requestContext.http.method !== 'POST') return json(405, { error: 'method_not_allowed', requestId })
    const body = eventBody(event) ?? Buffer.alloc(0)
    if (body.length > MAX_NOTIFICATION_BYTES) return json(413, { error: 'payload_too_large', requestId })
    const reply = await receiveProviderNotification(
      gateway.consents,
      gateway.logger,
      route.provider,
      { headers: eventHeaders(event), body: body.toString('utf8'), path: route.rest },
      requestId,
    )
    return json(reply.status, reply.body, reply.headers)
  })
}
