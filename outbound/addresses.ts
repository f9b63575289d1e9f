// Where a partner-supplied URL may point: https (or, in local mode, http to this machine), no credentials, and only
// public unicast addresses once resolved, never the gateway's own ports. Pure judgements, no I/O: the webhook client
// (webhook-post.ts) applies them at every delivery, the use cases when a URL is registered.
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/** The hosts plain http may name in local mode, as `URL.hostname` spells them. */
const LOCAL_HTTP_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]'])

/** The names that always mean this machine, whatever DNS says. */
const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost'])

export type WebhookUrlCheck = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string }

const { IPv4, IPv6 } = ipaddr
type IPv4 = ipaddr.IPv4
type IPv6 = ipaddr.IPv6
type Ipv4Range = [IPv4, number]
type Ipv6Range = [IPv6, number]
const ipv4Ranges = (cidrs: readonly string[]): Ipv4Range[] => cidrs.map((cidr) => IPv4.parseCIDR(cidr))
const ipv6Ranges = (cidrs: readonly string[]): Ipv6Range[] => cidrs.map((cidr) => IPv6.parseCIDR(cidr))

/**
 * The address ranges the checks below use, parsed on the first check (ipaddr.js compiles its parsers then): a cold
 * start whose first request sends no webhook parses none of them.
 */
const ranges = lazily(() => ({
  // The IANA special-purpose IPv4 blocks that are not publicly routable, plus multicast and 240/4.
  forbiddenIpv4: ipv4Ranges([
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
  ]),
  loopbackIpv4: IPv4.parseCIDR('127.0.0.0/8'),
  // IPv6 the other way round: only global unicast may be reached, less the blocks inside it that are not public.
  globalUnicastIpv6: IPv6.parseCIDR('2000::/3'),
  notPublicIpv6: ipv6Ranges([
    '2001::/23', // IETF protocol assignments (Teredo, ORCHID, ...)
    '2001:db8::/32', // documentation
    '2002::/16', // 6to4, which embeds an IPv4 address that may be private
    '3fff::/20', // documentation
  ]),
  loopbackIpv6: IPv6.parseCIDR('::1/128'),
  // NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4 address reached through a gateway.
  nat64Ipv6: IPv6.parseCIDR('64:ff9b::/96'),
}))

function lazily<T>(build: () => T): () => T {
  let value: T | undefined
  return () => (value ??= build())
}

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
  const { loopbackIpv4, forbiddenIpv4 } = ranges()
  if (allowLoopback && address.match(loopbackIpv4)) return false
  return forbiddenIpv4.some((range) => address.match(range))
}

function isForbiddenIpv6(address: IPv6, allowLoopback: boolean): boolean {
  const { loopbackIpv6, nat64Ipv6, globalUnicastIpv6, notPublicIpv6 } = ranges()
  if (address.match(loopbackIpv6)) return !allowLoopback
  // IPv4-mapped (::ffff:a.b.c.d) reaches the IPv4 address itself, so it is judged as that address.
  if (address.isIPv4MappedAddress()) return isForbiddenIpv4(address.toIPv4Address(), allowLoopback)
  // NAT64 (64:ff9b::a.b.c.d) reaches the IPv4 address through a gateway: judged as it, loopback never allowed.
  if (address.match(nat64Ipv6)) {
    const [high = 0, low = 0] = address.parts.slice(6)
    return isForbiddenIpv4(new IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]), false)
  }
  return !address.match(globalUnicastIpv6) || notPublicIpv6.some((range) => address.match(range))
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
export const OWN_PORT_REASON = "the port is one of this gateway's own: point the webhook at a receiver of your own"

/**
 * `localhost`, written any way that still means this machine: with the root's trailing dot (`localhost.`), or as a
 * name under `.localhost`, which RFC 6761 reserves for loopback (browsers and many resolvers answer it so).
 */
function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '')
  return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')
}

/** 127/8, ::1, and IPv4-mapped loopback: this machine. */
export function isLoopback(address: string): boolean {
  return isForbiddenAddress(address, false) && !isForbiddenAddress(address, true)
}

/** Whether the URL's port (its scheme's default when none is written) is one of the local stack's own. */
export function isOwnPort(url: URL, ownPorts: ReadonlySet<number> | undefined): boolean {
  if (!ownPorts?.size) return false
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
  return ownPorts.has(port)
}
