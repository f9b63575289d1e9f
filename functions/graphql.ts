// Lambda entry: the GraphQL API on a streaming Function URL: queries, mutations and SSE subscriptions through
// yoga.fetch. Only clients, the schema and yoga are built at module scope; provider adapters load on first use.
import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { createGraphQLServer, graphQLServicesOf } from '../schema/server.ts'
import { configFromEnv } from '../service/config.ts'
import { createGateway } from '../service/gateway.ts'
import { runInRequestScope } from '../service/logging.ts'
import { eventBody, invocationDeadline, MAX_BODY_BYTES, streamResponse, toRequest } from './lambda-http.ts'

/** Streams end this long before the invocation would be cut, so the last event and the close reach the client. */
const DEADLINE_MARGIN_MS = 1_500
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

const gateway = createGateway(configFromEnv())
const yoga = createGraphQLServer({
  services: graphQLServicesOf(gateway),
  authenticator: gateway.authenticator,
  logger: gateway.logger,
  graphiql: process.env.GRAPHIQL === 'false' ? false : {},
  corsAllowedOrigins: gateway.config.corsAllowedOrigins ?? [],
  maxBodyBytes: MAX_BODY_BYTES,
})

const tooLarge = (requestId: string) =>
  new Response(
    JSON.stringify({
      errors: [
        {
          message: `Request body exceeds ${MAX_BODY_BYTES} bytes`,
          extensions: { code: 'PAYLOAD_TOO_LARGE', requestId },
        },
      ],
    }),
    { status: 413, headers: { 'content-type': 'application/graphql-response+json; charset=utf-8' } },
  )

export const handler = awslambda.streamifyResponse(async (event: APIGatewayProxyEventV2, responseStream, context) => {
  const given = event.headers?.['x-request-id']
  const requestId = given && REQUEST_ID.test(given) ? given : context.awsRequestId
  const body = eventBody(event)
  const { signal, deadline, clear } = invocationDeadline(context, DEADLINE_MARGIN_MS)
  try {
    await runInRequestScope({ requestId, deadline }, async () => {
      // The address API Gateway saw: what failed logins are limited by (a header could say anything).
      const transport = { clientAddress: event.requestContext.http.sourceIp }
      const answer =
        body && body.length > MAX_BODY_BYTES
          ? tooLarge(requestId)
          : await yoga.fetch(toRequest(event, body, signal), transport)
      const headers = new Headers(answer.headers)
      headers.set('x-request-id', requestId)
      await streamResponse(new Response(answer.body, { status: answer.status, headers }), responseStream)
    })
  } finally {
    clear()
  }
})
