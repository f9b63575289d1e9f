// Posts one partner webhook without letting a partner-supplied URL reach into our own network (SSRF): https only,
// every resolved address checked, the connection pinned to a checked address, no redirects, a deadline, a bounded read.
import type { LookupAddress } from 'node:dns'
import { lookup } from 'node:dns/promises'
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

/** How long one attempt may take, DNS to the end of the answer, unless the caller says otherwise. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000
/** How much of a partner's answer is read (and thrown away) before the connection is closed. */
export const MAX_RESPONSE_BYTES = 64 * 1024
export const WEBHOOK_USER_AGENT = 'consent-gateway-webhooks/1'

/** The hosts plain http may name in local mode, as `URL.hostname` spells them. */
const LOCAL_HTTP_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]'])

/** The names that always mean this machine, whatever DNS says. */
const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost'])

export type WebhookUrlCheck = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string }

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

const { IPv4, IPv6 } = ipaddr
type IPv4 = ipaddr.IPv4
type IPv6 = ipaddr.IPv6
type Ipv4Range = [IPv4, number]
type Ipv6Range = [IPv6, number]
const ipv4Ranges = (cidrs: readonly string[]): Ipv4Range[] => cidrs.map((cidr) => IPv4.parseCIDR(cidr))
const ipv6Ranges = (cidrs: readonly string[]): Ipv6Range[] => cidrs.map((cidr) => IPv6.parseCIDR(cidr))

// The IANA special-purpose IPv4 blocks that are not publicly routable, plus multicast and 240/4.
const FORBIDDEN_IPV4 = ipv4Ranges([
  '0.0.0.0/8', // "this network", 0.0.0.0 included
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, where cloud metadata (169.254.169.254) lives
  '172.16.0.0/12',
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation
  '192.88.99.0/24', // 6to4 relay anycast
  '192.168.0.0/16',
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation
  '203.0.113.0/24', // documentation
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, 255.255.255.255 included
])
const LOOPBACK_IPV4 = IPv4.parseCIDR('127.0.0.0/8')
// IPv6 the other way round: only global unicast may be reached, less the blocks inside it that are not public.
const GLOBAL_UNICAST_IPV6 = IPv6.parseCIDR('2000::/3')
const NOT_PUBLIC_IPV6 = ipv6Ranges([
  '2001::/23', // IETF protocol assignments (Teredo, ORCHID, ...)
  '2001:db8::/32', // documentation
  '2002::/16', // 6to4, which embeds an IPv4 address that may be private
  '3fff::/20', // documentation
])
const LOOPBACK_IPV6 = IPv6.parseCIDR('::1/128')
// NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4 address reached through a gateway.
const NAT64_IPV6 = IPv6.parseCIDR('64:ff9b::/96')

/**
 * Whether a webhook may not be sent to this address: anything but a public unicast address, and anything that is
 * not an IP address at all. In local mode (`allowLoopback`) loopback, and only loopback, is allowed besides.
 *
 * @example
 * isForbiddenAddress('169.254.169.254', false) // true
 * isForbiddenAddress('::ffff:10.0.0.1', false) // true: IPv4-mapped, judged as 10.0.0.1
 * isForbiddenAddress('127.0.0.1', true) // false
 */
export function isForbiddenAddress(address: string, allowLoopback: boolean): boolean {
  // Node's isIP is the strict judge of what an address is: ipaddr.js would also read `127.1` or `0x7f.0.0.1`.
  switch (isIP(address)) {
    case 4:
      return isForbiddenIpv4(IPv4.parse(address), allowLoopback)
    case 6:
      // A zone (`fe80::1%eth0`) only qualifies link-local addresses.
      return address.includes('%') || isForbiddenIpv6(IPv6.parse(address), allowLoopback)
    default:
      return true
  }
}

function isForbiddenIpv4(address: IPv4, allowLoopback: boolean): boolean {
  if (allowLoopback && address.match(LOOPBACK_IPV4)) return false
  return FORBIDDEN_IPV4.some((range) => address.match(range))
}

function isForbiddenIpv6(address: IPv6, allowLoopback: boolean): boolean {
  if (address.match(LOOPBACK_IPV6)) return !allowLoopback
  // IPv4-mapped (::ffff:a.b.c.d) reaches the IPv4 address itself, so it is judged as that address.
  if (address.isIPv4MappedAddress()) return isForbiddenIpv4(address.toIPv4Address(), allowLoopback)
  // NAT64 (64:ff9b::a.b.c.d) reaches the IPv4 address through a gateway: judged as it, loopback never allowed.
  if (address.match(NAT64_IPV6)) {
    const [high = 0, low = 0] = address.parts.slice(6)
    return isForbiddenIpv4(new IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]), false)
  }
  return !address.match(GLOBAL_UNICAST_IPV6) || NOT_PUBLIC_IPV6.some((range) => address.match(range))
}

/**
 * Whether a partner's webhook URL may be used at all: https, or in local mode http to localhost, 127.0.0.1 or [::1];
 * no credentials in it. Where the host points is checked at each delivery, since DNS answers change.
 *
 * @example
 * checkWebhookUrl('https://partner.example/hooks', { allowLocalHttp: false }) // { ok: true, url: URL }
 * checkWebhookUrl('http://partner.example/hooks', { allowLocalHttp: false }) // { ok: false, reason: '...' }
 */
export function checkWebhookUrl(
  url: string,
  options: { allowLocalHttp: boolean; ownPorts?: ReadonlySet<number> | undefined },
): WebhookUrlCheck {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { ok: false, reason: 'not an absolute URL' }
  }
  // The reasons never echo the URL: a partner may have put a token in it.
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: `the ${parsed.protocol} scheme is not allowed: use https` }
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'credentials in the URL are not allowed' }
  }
  if (parsed.protocol === 'http:' && !(options.allowLocalHttp && LOCAL_HTTP_HOSTS.has(parsed.hostname))) {
    return {
      ok: false,
      reason: options.allowLocalHttp
        ? 'http is allowed for localhost, 127.0.0.1 and [::1] only: use https'
        : 'http is not allowed: use https',
    }
  }
  // An address written into the URL is judged at once; names are judged at each delivery, after resolving them.
  const literal = parsed.hostname.replace(/^\[|\]$/g, '')
  if (isIP(literal) !== 0 && isForbiddenAddress(literal, options.allowLocalHttp)) {
    return { ok: false, reason: 'the address is private, loopback, link-local or reserved: use a public endpoint' }
  }
  const thisMachine = isLoopbackName(literal) || (isIP(literal) !== 0 && isLoopback(literal))
  if (thisMachine && isOwnPort(parsed, options.ownPorts)) return { ok: false, reason: OWN_PORT_REASON }
  return { ok: true, url: parsed }
}

// Says what to do, and names none of our servers: which port runs what is not the partner's business.
const OWN_PORT_REASON = "the port is one of this gateway's own: point the webhook at a receiver of your own"

/**
 * `localhost`, written any way that still means this machine: with the root's trailing dot (`localhost.`), or as a
 * name under `.localhost`, which RFC 6761 reserves for loopback (browsers and many resolvers answer it so).
 */
function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '')
  return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')
}

/** 127/8, ::1, and IPv4-mapped loopback: this machine. */
function isLoopback(address: string): boolean {
  return isForbiddenAddress(address, false) && !isForbiddenAddress(address, true)
}

/** Whether the URL's port (its scheme's default when none is written) is one of the local stack's own. */
function isOwnPort(url: URL, ownPorts: ReadonlySet<number> | undefined): boolean {
  if (!ownPorts?.size) return false
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
  return ownPorts.has(port)
}

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
