// Apollo's multipart HTTP subscriptions (Apollo iOS 2, Apollo Kotlin, Apollo Client on the web): a request that accepts
// `multipart/mixed;subscriptionSpec=1.0` gets its subscription as one `multipart/mixed;boundary="graphql"` answer, each
// part `{"payload": <result>}`, a heartbeat part `{}` every few seconds while nothing else is sent, and `--graphql--`
// at the end. Yoga's own multipart answer is the incremental-delivery format (`@defer`), which these clients cannot
// read, and yoga refuses multipart for subscriptions (406): this result processor takes them instead.
//
// A stream item without `data` did not come from executing the subscription (its credential lapsed, the source
// failed): Apollo's spec calls that a transport-level error, sent as `{"payload": null, "errors": [...]}`, after which
// the stream ends and the client does not resubscribe with the same credential.
import type { ExecutionResult } from 'graphql'
import { isAsyncIterable, processRegularResult, type FetchAPI, type Plugin } from 'graphql-yoga'
import { formatError, formatResult } from './formatted-result.ts'

export interface ApolloMultipartOptions {
  /**
   * How often a heartbeat part (`{}`) is sent while the stream is otherwise quiet. Apollo's spec recommends 5 s; proxies
   * and API Gateway's 5-minute idle limit need far less.
   * @default 5_000
   */
  readonly heartbeatMs?: number
}

export const APOLLO_MULTIPART_DEFAULTS: Required<ApolloMultipartOptions> = { heartbeatMs: 5_000 }

export const APOLLO_MULTIPART_CONTENT_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"'

/** Each entry of an Accept header: its media type and parameters, lower-cased, quotes removed. */
function acceptEntries(request: Request): { type: string; params: Map<string, string> }[] {
  return (request.headers.get('accept') ?? '').split(',').map((entry) => {
    const [type = '', ...params] = entry.split(';').map((part) => part.trim().toLowerCase())
    return {
      type,
      params: new Map(
        params.map((param) => {
          const [key = '', value = ''] = param.split('=').map((side) => side.trim())
          return [key, value.replace(/^"(.*)"$/, '$1')]
        }),
      ),
    }
  })
}

/** Whether the request accepts Apollo's multipart subscriptions (`subscriptionSpec` 1.0). */
export const acceptsApolloMultipart = (request: Request): boolean =>
  acceptEntries(request).some(
    ({ type, params }) => type === 'multipart/mixed' && params.get('subscriptionspec') === '1.0',
  )

/** The JSON media type the request also accepts, for an answer that is not a stream (a request error). */
function acceptedJson(request: Request): string | null {
  for (const { type } of acceptEntries(request)) {
    if (type === 'application/graphql-response+json' || type === 'application/json') return type
  }
  return null
}

/**
 * Streams to a request that accepts Apollo's multipart subscriptions: a subscription always, a single result (a
 * request error, a query sent with that Accept) as JSON when the request accepts JSON too, else as one part.
 */
export function useApolloMultipartSubscriptions(options: ApolloMultipartOptions = {}): Plugin {
  const { heartbeatMs } = { ...APOLLO_MULTIPART_DEFAULTS, ...options }
  return {
    onResultProcess(payload) {
      const { request, result } = payload
      if (!acceptsApolloMultipart(request)) return
      if (!isAsyncIterable(result)) {
        const json = acceptedJson(request)
        // Yoga may have picked its own (incremental-delivery) multipart for a query: JSON is what an Apollo client reads.
        if (json) return payload.setResultProcessor(processRegularResult, json)
      }
      payload.setResultProcessor(
        (processed, fetchAPI) =>
          apolloMultipartResponse(processed as ExecutionResult | AsyncIterable<ExecutionResult>, heartbeatMs, fetchAPI),
        'multipart/mixed',
      )
    },
  }
}

const CLOSE_DELIMITER = '--\r\n'
/** After each part, at once: a client hands a part on when it sees the delimiter that ends it. */
const DELIMITER = '\r\n--graphql'
const part = (body: unknown) =>
  `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${JSON.stringify(body)}${DELIMITER}`

/** The part for one stream item: its result, or a transport-level error when it carries no data. */
function partOf(item: ExecutionResult, inStream: boolean): string {
  if (inStream && !('data' in item) && item.errors?.length) {
    return part({ payload: null, errors: item.errors.map(formatError) })
  }
  return part({ payload: formatResult(item) })
}

/** The multipart answer to `result`: a stream part by part, with heartbeats; a single result as its one part. */
export function apolloMultipartResponse(
  result: ExecutionResult | AsyncIterable<ExecutionResult>,
  heartbeatMs: number = APOLLO_MULTIPART_DEFAULTS.heartbeatMs,
  fetchAPI: Pick<FetchAPI, 'Response' | 'ReadableStream' | 'TextEncoder'> = globalThis,
): Response {
  const encoder = new fetchAPI.TextEncoder()
  const streamed = isAsyncIterable(result)
  const iterator: AsyncIterator<ExecutionResult> = streamed
    ? result[Symbol.asyncIterator]()
    : (async function* () {
        yield result
      })()
  let heartbeat: NodeJS.Timeout | undefined
  let ended = false
  const end = (controller: ReadableStreamDefaultController<Uint8Array>, last = '') => {
    ended = true
    clearInterval(heartbeat)
    controller.enqueue(encoder.encode(last + CLOSE_DELIMITER))
    controller.close()
  }
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(DELIMITER))
      heartbeat = setInterval(() => {
        // Only into an empty queue: a heartbeat is for a quiet stream, and never adds to a slow reader's backlog.
        if (!ended && controller.desiredSize !== null && controller.desiredSize > 0) {
          controller.enqueue(encoder.encode(part({})))
        }
      }, heartbeatMs)
      heartbeat.unref()
    },
    async pull(controller) {
      let next: IteratorResult<ExecutionResult>
      try {
        next = await iterator.next()
      } catch {
        // The stream's source failed outside GraphQL's masking (which turns resolver errors into results): say so,
        // typed, and end; nothing of the failure itself reaches the client.
        return end(
          controller,
          part({
            payload: null,
            errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
          }),
        )
      }
      if (ended) return
      if (next.done) return end(controller)
      controller.enqueue(encoder.encode(partOf(next.value, streamed)))
    },
    async cancel() {
      ended = true
      clearInterval(heartbeat)
      await iterator.return?.()
    },
  })
  return new fetchAPI.Response(body, {
    status: 200,
    headers: {
      'content-type': APOLLO_MULTIPART_CONTENT_TYPE,
      'cache-control': 'no-cache',
      'content-encoding': 'none',
    },
  })
}
