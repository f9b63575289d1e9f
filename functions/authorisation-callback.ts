// Lambda entry: the user's browser back from a provider (`GET /callbacks/<provider>/<signed link>` on the HTTP API),
// sent on to the partner's redirect URL.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { callbackFailure, callbackHttpReply } from '../service/authorisation-callback.ts'
import { configFromEnv } from '../service/config.ts'
import { createGateway } from '../service/gateway.ts'
import { runInRequestScope } from '../service/logging.ts'
import { callbackRoute } from '../service/public-paths.ts'
import { plainResult } from './lambda-http.ts'

const gateway = createGateway(configFromEnv())

export async function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  const requestId = context.awsRequestId
  return runInRequestScope({ requestId }, async () => {
    const route = callbackRoute(event.rawPath)
    if (!route || event.requestContext.http.method !== 'GET' || !gateway.providers.has(route.provider)) {
      const http = callbackHttpReply({ kind: 'unknown_link' })
      return plainResult(http.status, http.headers, http.body)
    }
    const reply = await gateway
      .completeAuthorisation(route.provider, route.token, new URLSearchParams(event.rawQueryString), requestId)
      .catch((error: unknown) => callbackFailure(error, gateway.logger, route.provider))
    const http = callbackHttpReply(reply)
    return plainResult(http.status, http.headers, http.body)
  })
}
