// The consent-get suite's canned store (`--store canned`): the DynamoDB client's HTTP handler answers each GetItem it
// has seen before from the answer DynamoDB Local gave the first time, in process. Everything above the handler (the
// SDK's middleware, signing, marshalling and unmarshalling) still runs, alike for every target, so what the servers'
// process spends per request is its own code's, without the JVM's share of the machine or the loopback round trip.
import { Readable } from 'node:stream'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

/** A recorded answer: status, headers and body bytes. */
interface Recorded {
  readonly statusCode: number
  readonly headers: Record<string, string>
  readonly body: Buffer
}

interface HttpRequestLike {
  readonly headers: Record<string, string>
  readonly body?: unknown
}

interface HttpResponseLike {
  readonly statusCode: number
  readonly reason?: string
  readonly headers: Record<string, string>
  readonly body?: unknown
}

interface HandlerLike {
  handle(request: HttpRequestLike, options?: unknown): Promise<{ response: HttpResponseLike }>
  destroy?(): void
  updateHttpClientConfig?(key: never, value: never): void
  httpHandlerConfigs?(): unknown
}

/** Operations answered from the recording: reads only, whose answer does not change while the bench runs. */
const CANNED = new Set(['DynamoDB_20120810.GetItem'])

export interface CannedStore {
  /** Requests answered from a recording, and requests passed on to DynamoDB Local. */
  counts(): { readonly canned: number; readonly passed: number }
}

/** The serialised request's body as text (the SDK gives a JSON protocol's body as a string or as bytes). */
function bodyText(body: unknown): string | null {
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  return null
}

async function bytesOf(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0)
  const chunks: Buffer[] = []
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/**
 * Puts the recording handler in front of `client`'s own (every document client made from it shares its config).
 * Call it before the client's first command.
 */
export function cannedStore(client: DynamoDBClient): CannedStore {
  const config = client.config as unknown as { requestHandler: HandlerLike }
  const real = config.requestHandler
  // By operation and request body: the body names the table, the key and the read's options.
  const recorded = new Map<string, Recorded>()
  let canned = 0
  let passed = 0
  config.requestHandler = {
    // The rest of the handler's interface is the real one's (the client's destroy() closes its sockets).
    destroy: () => real.destroy?.(),
    updateHttpClientConfig: (key, value) => real.updateHttpClientConfig?.(key, value),
    httpHandlerConfigs: () => real.httpHandlerConfigs?.(),
    async handle(request, options) {
      const target = request.headers['x-amz-target'] ?? ''
      const body = bodyText(request.body)
      if (!CANNED.has(target) || body === null) {
        passed += 1
        return real.handle(request, options)
      }
      const key = `${target}\n${body}`
      let answer = recorded.get(key)
      if (!answer) {
        passed += 1
        const { response } = await real.handle(request, options)
        answer = {
          statusCode: response.statusCode,
          headers: { ...response.headers },
          body: await bytesOf(response.body),
        }
        // Only successful reads are kept: a throttle or an error is not an answer to replay.
        if (answer.statusCode === 200) recorded.set(key, answer)
      } else {
        canned += 1
      }
      // A fresh stream each time: the SDK reads the body once.
      return {
        response: { statusCode: answer.statusCode, headers: { ...answer.headers }, body: Readable.from([answer.body]) },
      }
    },
  }
  return { counts: () => ({ canned, passed }) }
}
