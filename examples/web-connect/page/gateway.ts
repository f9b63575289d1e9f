// The page's GraphQL client: each operation goes by its documentId alone (the tenant registered the documents; the
// gateway runs nothing else for a user token), with the end user's short-lived token from the partner backend, which
// it asks again shortly before the token lapses. Subscriptions are GraphQL over SSE on a streamed fetch (EventSource
// cannot send an Authorization header).
import type { TadaPersistedDocumentNode } from '../graphql.ts'

/** What the partner backend's POST /session/token answers. */
export interface Session {
  readonly accessToken: string
  readonly expiresAt: string
  readonly userId: string
  readonly graphqlUrl: string
}

/** A GraphQL error, with its `extensions.code` (UNAUTHORIZED, PERSISTED_QUERY_NOT_IN_LIST...) when there is one. */
export class GatewayError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message)
    this.name = 'GatewayError'
  }
}

/** A token this close to its end is replaced before use, so no request carries one that lapses in flight. */
const RENEW_BEFORE_MS = 60_000

interface GraphQLResult<T> {
  readonly data?: T | null
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[]
}

export class GatewayClient {
  #session: Session | null = null
  #renewing: Promise<Session> | null = null

  constructor(private readonly sessionUrl: string) {}

  /** The current session, renewed from the partner backend when its token is about to lapse. */
  async session(): Promise<Session> {
    const current = this.#session
    if (current && Date.parse(current.expiresAt) - Date.now() > RENEW_BEFORE_MS) return current
    this.#renewing ??= this.#renew().finally(() => (this.#renewing = null))
    return this.#renewing
  }

  async #renew(): Promise<Session> {
    const response = await fetch(this.sessionUrl, { method: 'POST', headers: { accept: 'application/json' } })
    if (!response.ok) throw new GatewayError(`The partner backend gave no token (${response.status})`, null)
    this.#session = (await response.json()) as Session
    return this.#session
  }

  async #post(
    document: { documentId: string },
    variables: unknown,
    accept: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const session = await this.session()
    return fetch(session.graphqlUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json', accept },
      body: JSON.stringify({ documentId: document.documentId, variables }),
      ...(signal ? { signal } : {}),
    })
  }

  /** Runs a query or mutation; GraphQL errors are thrown as {@link GatewayError}. */
  async execute<R, V>(document: TadaPersistedDocumentNode<R, V>, variables: V): Promise<R> {
    const response = await this.#post(document, variables, 'application/graphql-response+json, application/json')
    return dataOf((await response.json().catch(() => ({}))) as GraphQLResult<R>, response.status)
  }

  /**
   * Runs a subscription: `onNext` gets each result's data. Resolves when the server completes the stream (the
   * consent ended, or the subscription's deadline came); rejects on an error result or a broken connection.
   */
  async subscribe<R, V>(
    document: TadaPersistedDocumentNode<R, V>,
    variables: V,
    onNext: (data: R) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.#post(document, variables, 'text/event-stream', signal)
    if (!response.ok || !response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      dataOf((await response.json().catch(() => ({}))) as GraphQLResult<unknown>, response.status)
      throw new GatewayError(`The subscription was refused (${response.status})`, null)
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buffer += value.replace(/\r\n?/g, '\n')
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const message = parseEvent(buffer.slice(0, end))
        buffer = buffer.slice(end + 2)
        if (message.event === 'complete') {
          await reader.cancel()
          return
        }
        if (message.event === 'next' && message.data) {
          onNext(dataOf(JSON.parse(message.data) as GraphQLResult<R>, response.status))
        }
      }
    }
  }
}

/** One server-sent event: its `event` name and its `data` lines joined (comments, keep-alives, have neither). */
function parseEvent(block: string): { event: string; data: string } {
  let event = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':')
    if (colon === 0) continue
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  return { event, data: data.join('\n') }
}

function dataOf<T>(result: GraphQLResult<T>, status: number): T {
  const error = result.errors?.[0]
  if (error) throw new GatewayError(error.message, error.extensions?.code ?? null)
  if (result.data == null) throw new GatewayError(`The gateway answered ${status} without data`, null)
  return result.data
}
