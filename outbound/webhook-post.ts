// Posts one partner webhook without letting a partner-supplied URL reach into our own network (SSRF): https only,
// every resolved address checked (addresses.ts), the connection pinned to a checked address, no redirects, a deadline,
// a bounded read.
import type { LookupAddress } from 'node:dns'
import { lookup } from 'node:dns/promises'
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { checkWebhookUrl, isForbiddenAddress, isLoopback, isOwnPort, OWN_PORT_REASON } from './addresses.ts'

/** How long one attempt may take, DNS to the end of the answer, unless the caller says otherwise. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000
/** How much of a partner's answer is read (and thrown away) before the connection is closed. */
export const MAX_RESPONSE_BYTES = 64 * 1024
export const WEBHOOK_USER_AGENT = 'consent-gateway-webhooks/1'

export interface WebhookRequest {
  readonly url: string
  /** The signature headers and any others; `content-type`, `user-agent` and `content-length` are always ours. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** @default 10_000 ({@link DEFAULT_WEBHOOK_TIMEOUT_MS}) */
  readonly timeoutMs?: number
  /**
   * Local mode: http to localhost, 127.0.0.1 and [::1], and loopback addresses (127/8, ::1), may be reached. Never on
   * AWS, where loopback and the rest of our network must stay out of a partner's reach.
   */
  readonly allowLoopback: boolean
  /**
   * Local mode: the ports of the local stack's own servers (the gateway, the sandboxes, DynamoDB Local). A loopback
   * address is never reached on one of them: a partner's webhook must not drive our own control APIs.
   * @default none
   */
  readonly ownPorts?: ReadonlySet<number>
}

export interface DeliveryAttemptResult {
  /** The partner answered 2xx. */
  readonly ok: boolean
  /** The partner's status, or null when none arrived (refused, DNS, connection, TLS, timeout). */
  readonly status: number | null
  /** Why the attempt failed, for the delivery log and the partner's dashboard; null when ok. */
  readonly error: string | null
  readonly durationMs: number
}

type Outcome = Omit<DeliveryAttemptResult, 'durationMs'>

/**
 * POSTs one webhook and reports how it went. Never throws: every failure (refused URL or address, DNS, connection,
 * TLS, timeout, non-2xx answer) comes back as `ok: false` with its reason.
 *
 * @example
 * const headers = signWebhook({ id, timestamp: new Date(), body, secrets })
 * const attempt = await postWebhook({ url: endpoint.url, headers, body, allowLoopback: config.local })
 * // { ok: false, status: 503, error: 'answered 503', durationMs: 84 }
 */
export async function postWebhook(request: WebhookRequest): Promise<DeliveryAttemptResult> {
  const started = performance.now()
  const timeoutMs = request.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS
  const deadline = AbortSignal.timeout(timeoutMs)
  const timed = (outcome: Outcome): DeliveryAttemptResult => ({
    ...outcome,
    durationMs: Math.round(performance.now() - started),
  })
  const describe = (error: unknown) => (deadline.aborted ? `timed out after ${timeoutMs} ms` : errorMessage(error))

  try {
    const checked = checkWebhookUrl(request.url, { allowLocalHttp: request.allowLoopback, ownPorts: request.ownPorts })
    if (!checked.ok) return timed(failure(`refused: ${checked.reason}`))
    const host = checked.url.hostname.replace(/^\[(.*)\]$/, '$1')
    const addresses = await beforeDeadline(resolve(host), deadline)
    const forbidden = addresses.find(({ address }) => isForbiddenAddress(address, request.allowLoopback))
    if (forbidden) return timed(failure(`refused: ${host} resolves to ${forbidden.address}, not a public address`))
    // A name that resolves to loopback reaches our own servers just as well as `localhost` does.
    const ours = addresses.find(({ address }) => isLoopback(address))
    if (ours && isOwnPort(checked.url, request.ownPorts)) {
      return timed(failure(`refused: ${host} resolves to ${ours.address}, and ${OWN_PORT_REASON}`))
    }
    return timed(await send(checked.url, host, addresses, request, deadline, describe))
  } catch (error) {
    return timed(failure(describe(error)))
  }
}

const failure = (error: string): Outcome => ({ ok: false, status: null, error })

async function resolve(host: string): Promise<readonly LookupAddress[]> {
  const family = isIP(host)
  if (family !== 0) return [{ address: host, family }]
  const addresses = await lookup(host, { all: true })
  if (addresses.length === 0) throw new Error(`${host} has no address`)
  return addresses
}

/**
 * Connects only to addresses already checked, whatever DNS says by then (a rebind between check and connect),
 * while the URL's hostname still drives the Host header, SNI and certificate check.
 */
function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0)
    const usable = addresses.filter((address) => family === 0 || address.family === family)
    const first = usable[0]
    if (!first) callback(new Error(`no checked IPv${family} address`), [])
    // With autoSelectFamily (Node's default) net asks for every address and tries them in turn.
    else if (options.all) callback(null, usable)
    else callback(null, first.address, first.family)
  }
}

function send(
  url: URL,
  host: string,
  addresses: readonly LookupAddress[],
  request: WebhookRequest,
  deadline: AbortSignal,
  describe: (error: unknown) => string,
): Promise<Outcome> {
  return new Promise((settle) => {
    const body = Buffer.from(request.body, 'utf8')
    const options: RequestOptions = {
      method: 'POST',
      hostname: host,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: {
        ...request.headers,
        'content-type': 'application/json',
        'user-agent': WEBHOOK_USER_AGENT,
        'content-length': String(body.length),
      },
      lookup: pinnedLookup(addresses),
      // A fresh agent: no pooled socket, no proxy from the environment, one connection closed after the answer.
      agent: false,
      signal: deadline,
    }
    // Throws synchronously for a header value it cannot send, which rejects this promise: postWebhook reports it.
    const client = url.protocol === 'https:' ? httpsRequest(options) : httpRequest(options)
    let answer: Outcome | undefined
    client.on('response', (response: IncomingMessage) => {
      answer = judge(response.statusCode ?? 0)
      discard(response)
    })
    // Once the status is in, the outcome is decided: an error while draining the body (the deadline, a reset)
    // does not change it.
    client.on('error', (error) => settle(answer ?? failure(describe(error))))
    client.on('close', () => settle(answer ?? failure('the connection closed without an answer')))
    client.end(body)
  })
}

function judge(status: number): Outcome {
  if (status >= 200 && status < 300) return { ok: true, status, error: null }
  if (status >= 300 && status < 400) {
    return { ok: false, status, error: `answered ${status}: redirects are not followed, update the webhook URL` }
  }
  return { ok: false, status, error: `answered ${status}` }
}

/** Reads at most {@link MAX_RESPONSE_BYTES} of the answer, then hangs up: a partner cannot make us read forever. */
function discard(response: IncomingMessage): void {
  let received = 0
  response.on('data', (chunk: Buffer) => {
    received += chunk.length
    if (received >= MAX_RESPONSE_BYTES) response.destroy()
  })
  response.on('error', () => {})
}

function beforeDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(deadline.reason as Error)
    if (deadline.aborted) return onAbort()
    deadline.addEventListener('abort', onAbort, { once: true })
    void work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onAbort))
  })
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(errorMessage).join('; ')
  }
  if (error instanceof Error) return error.message || error.name
  return String(error)
}
