// What the WebSocket functions share: the events API Gateway's WebSocket API hands them (payload 2.0, with the
// `identity` and `$connect` headers the published types leave out), and the ConnectionSender over its management API
// (PostToConnection, DeleteConnection; a connection that is gone answers 410, GoneException).
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi'
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda'
import type { ConnectionSender } from '../service/connection-sender.ts'

/** A WebSocket route's event as API Gateway sends it. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  /** `$connect` only: the upgrade request's headers, as sent. */
  readonly headers?: Record<string, string | undefined> | null
  readonly requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    readonly identity?: { readonly sourceIp?: string; readonly userAgent?: string | null }
  }
}

/** A header of `$connect`, whatever case the client sent its name in. */
export function headerOf(event: WebSocketEvent, name: string): string | null {
  const headers = event.headers ?? {}
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name)
  return key === undefined ? null : (headers[key] ?? null)
}

export const sourceIpOf = (event: WebSocketEvent): string => event.requestContext.identity?.sourceIp ?? ''

/**
 * The management API's endpoint: `WS_MANAGEMENT_ENDPOINT` when set (infra sets it; a custom domain needs it), else the
 * API's own, from the event (`https://<domainName>/<stage>`).
 */
export function managementEndpointOf(event: WebSocketEvent): string {
  const configured = process.env.WS_MANAGEMENT_ENDPOINT
  if (configured) return configured
  return `https://${event.requestContext.domainName}/${event.requestContext.stage}`
}

/**
 * How long one management API call may take before it fails (and counts as a failed post): a hung PostToConnection
 * must not stall a poller tick until Lambda's own timeout.
 */
const MANAGEMENT_REQUEST_TIMEOUT_MS = 3_000

/** A connection that is no longer there: GoneException, or its 410 however the error type header came. */
const isGone = (error: unknown): boolean =>
  error instanceof GoneException ||
  (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode === 410

/** Posts and closes through one management API endpoint. */
export function managementSender(endpoint: string): ConnectionSender {
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'eu-west-1',
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: MANAGEMENT_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  })
  return {
    async post(connectionId, message) {
      try {
        await client.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(message)) }),
        )
        return 'sent'
      } catch (error) {
        if (isGone(error)) return 'gone'
        throw error
      }
    },
    async close(connectionId) {
      try {
        await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }))
      } catch (error) {
        if (!isGone(error)) throw error
      }
    },
  }
}

/** One sender per endpoint for the container's life (its HTTP connections are kept alive between invocations). */
const senders = new Map<string, ConnectionSender>()
export function senderFor(event: WebSocketEvent): ConnectionSender {
  const endpoint = managementEndpointOf(event)
  let sender = senders.get(endpoint)
  if (!sender) senders.set(endpoint, (sender = managementSender(endpoint)))
  return sender
}
