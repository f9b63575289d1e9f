// The raw material of hostile requests: GraphQL operations over every root field of schema/schema.graphql, strings
// that break parsers and validators (control, bidi, surrogates, huge), JSON that is not quite JSON, and URLs that try
// to make the gateway call into its own network.
import { BlockList, isIP } from 'node:net'
import type { Random } from './random.ts'

/** What the generator knows of the running system: where it listens and ids it can aim at. */
export interface FuzzTarget {
  /** The gateway's port on 127.0.0.1. */
  readonly gatewayPort: number
  /** Our own services a partner's URL must never reach: the gateway, each sandbox, DynamoDB Local. */
  readonly ownPorts: readonly { readonly name: string; readonly port: number }[]
  /** `Authorization` header values of the two tenants. */
  readonly authorization: { readonly A: string; readonly B: string }
  /**
   * A second API client of tenant A that no fuzz request attacks: the store-outage traffic and the read-backs use it,
   * so a lockout the fuzz's wrong secrets earn for A's first client cannot hide how the outage went.
   */
  readonly outageAuthorization: string
  /** Client ids of the two tenants (to forge credentials with a known id). */
  readonly clientIds: { readonly A: string; readonly B: string }
  /** A consent of tenant A, and one of tenant B (which A must never see). */
  readonly consentIds: { readonly A: string; readonly B: string }
  /** A cursor of tenant B's consent list (foreign to A). */
  readonly foreignCursor: string
}

// GraphQL operations ------------------------------------------------------------------------------------------------

/** A GraphQL request before it is put on the wire (GET query string or POST body). */
export interface Operation {
  readonly query: string
  readonly variables?: unknown
  readonly operationName?: unknown
  readonly extensions?: unknown
}

const CONSENT_RESULT = `__typename ... on Consent { id status userId nextAction } ... on Error { code message retryable }`
const MUTATION_RESULT = `__typename ... on Error { code message retryable } ... on ValidationError { issues { path message } }`

export const CREATE_CONSENT = `mutation Create($input: CreateConsentInput!) {
  createConsent(input: $input) {
    ${MUTATION_RESULT}
    ... on CreateConsentPayload { replayed consent { id status userId webhookUrl redirectUrl } }
  }
}`

export const GET_CONSENT = `query Consent($id: ID!) { consent(id: $id) { ${CONSENT_RESULT} } }`

export const SET_WEBHOOK_ENDPOINT = `mutation Endpoint($url: String) {
  setWebhookEndpoint(url: $url) { ${MUTATION_RESULT} ... on SetWebhookEndpointPayload { settings { defaultUrl } } }
}`

/** A createConsent input that succeeds at the Finqware sandbox; `overrides` win. */
export const consentInput = (overrides: Record<string, unknown> = {}) => ({
  provider: 'FINQWARE',
  institutionId: 'bt_ro',
  userId: 'fuzz-user',
  region: 'EEA',
  ...overrides,
})

/** Well-formed operations over each root field, with an id to aim them at. */
export function wellFormedOperation(random: Random, id: string): Operation {
  return random.pick<() => Operation>([
    () => ({ query: `{ providers { provider name capabilities { delete reauthorize webhooks maxValidityDays } } }` }),
    () => ({ query: `{ providers { provider institutions { id name country region } } }` }),
    () => ({ query: GET_CONSENT, variables: { id }, operationName: 'Consent' }),
    () => ({
      query: `query List($first: Int) { consents(first: $first) { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }`,
      variables: { first: random.int(1, 20) },
    }),
    () => ({
      query: `query Filtered($filter: ConsentFilter) { consents(first: 5, filter: $filter) { edges { node { id provider } } } }`,
      variables: { filter: { provider: 'FINQWARE', status: ['CREATED', 'AWAITING_AUTHORIZATION'] } },
    }),
    () => ({ query: `{ consentEvents(first: 5) { edges { cursor node { id kind to sequence consent { id } } } } }` }),
    () => ({ query: `{ webhookSettings { defaultUrl signingSecrets { createdAt retiresAt } } }` }),
    () => ({ query: `query Node($id: ID!) { node(id: $id) { id ... on Consent { status } } }`, variables: { id } }),
    () => ({ query: `query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }`, variables: { ids: [id, id] } }),
    () => ({
      query: `query Deep($id: ID!) { consent(id: $id) { ... on Consent { id events(first: 3) { edges { node { kind from to } } } webhookDeliveries { sequence state } supersededBy { id } } } }`,
      variables: { id },
    }),
    () => ({
      query: `mutation Refresh($id: ID!) { refreshConsent(id: $id) { ${MUTATION_RESULT} } }`,
      variables: { id },
    }),
    () => ({
      query: `mutation Replay($c: ID!, $s: Int!) { replayWebhookDelivery(consentId: $c, sequence: $s) { ${MUTATION_RESULT} } }`,
      variables: { c: id, s: 1 },
    }),
    () => ({ query: CREATE_CONSENT, variables: { input: consentInput({ userId: `fuzz-${random.int(0, 1e6)}` }) } }),
    () => ({ query: SET_WEBHOOK_ENDPOINT, variables: { url: null } }),
    () => ({
      query: `mutation { rotateWebhookSigningSecret { settings { signingSecrets { createdAt retiresAt } } } }`,
    }),
  ])()
}

/** Operations that change a consent, for aiming at an id the caller must not touch. */
export const CONSENT_MUTATIONS = [
  `mutation ($id: ID!) { op: refreshConsent(id: $id) { ${MUTATION_RESULT} } }`,
  `mutation ($id: ID!) { op: revokeConsent(id: $id) { ${MUTATION_RESULT} } }`,
  `mutation ($id: ID!) { op: deleteConsent(id: $id) { ${MUTATION_RESULT} } }`,
  `mutation ($id: ID!) { op: reauthorizeConsent(id: $id) { ${MUTATION_RESULT} } }`,
  `mutation ($id: ID!) { op: reconfirmConsent(id: $id, confirmedAt: "2026-01-01T00:00:00Z") { ${MUTATION_RESULT} } }`,
  `mutation ($id: ID!) { op: replayWebhookDelivery(consentId: $id, sequence: 1) { ${MUTATION_RESULT} } }`,
] as const

// Strings -----------------------------------------------------------------------------------------------------------

/** Characters that have broken parsers, validators, logs and terminals. */
export const NASTY_CHARACTERS =
  '\u0000\u0001\u0007\u0008\u000b\u000c\u001b\u007f\u0085\u00a0\u00ad\u200b\u200c\u200d\u200e\u200f' +
  '\u202a\u202b\u202c\u202d\u202e\u2028\u2029\u2066\u2067\u2068\u2069\ufeff\ufffd\uffff' +
  '"\\\'`<>&%$#{}[]/:;\r\n\tÅé中文𝕏😀👩‍👩‍👧‍👦'

/** A string of `length` characters, mostly nasty ones. */
export const nastyString = (random: Random, length: number) => random.text(length, `${NASTY_CHARACTERS}abcXYZ019_-.`)

/** Odd strings for id, userId, operationName and the like. */
export function oddString(random: Random): string {
  return random.pick<() => string>([
    () => '',
    () => ' ',
    () => '\u0000',
    () => 'consent_\u0000',
    () => `consent_01JD${'0'.repeat(21)}\u202e`,
    () => '\u202eevil\u202c',
    () => '\ud800', // a lone high surrogate
    () => '\udfff\ud800', // reversed pair
    () => 'a\ud83d', // truncated emoji
    () => '😀'.repeat(random.int(1, 200)),
    () => 'e\u0301'.repeat(random.int(100, 3_000)), // combining marks
    () => 'Ｃｏｎｓｅｎｔ＿０１',
    () => '../../../../etc/passwd',
    () => '%00%0d%0a',
    () => '${jndi:ldap://127.0.0.1/x}',
    () => "'; DROP TABLE consents; --",
    () => '{"$ne": null}',
    () => '__proto__',
    () => 'x'.repeat(random.pick([65, 129, 1_025, 10_000, 60_000])),
    () => nastyString(random, random.int(1, 64)),
  ])()
}

// JSON that is not quite right ---------------------------------------------------------------------------------------

const VALID_BODY = JSON.stringify({ query: '{ providers { provider } }' })

/** Bodies that are not JSON, not the JSON yoga expects, or JSON with traps in it. */
export function badJsonBody(random: Random): { name: string; body: Buffer } {
  const text = (name: string, body: string) => ({ name, body: Buffer.from(body, 'utf8') })
  const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
  const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
  return random.pick<() => { name: string; body: Buffer }>([
    () => text('truncated', VALID_BODY.slice(0, random.int(0, VALID_BODY.length - 1))),
    () => text('empty', ''),
    () => text('whitespace', ' \r\n\t '),
    () => text('query number', '{"query": 42}'),
    () => text('query null', '{"query": null}'),
    () => text('query array', '{"query": ["{ providers { provider } }"]}'),
    () => text('query object', '{"query": {"kind": "Document"}}'),
    () => text('variables string', '{"query": "{ providers { provider } }", "variables": "{}"}'),
    () => text('variables array', '{"query": "{ providers { provider } }", "variables": [1, 2]}'),
    () => text('operationName number', '{"query": "{ providers { provider } }", "operationName": 7}'),
    () => text('extensions string', '{"query": "{ providers { provider } }", "extensions": "x"}'),
    () => text('persisted query', '{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}'),
    () => text('scalar', random.pick(['true', 'null', '"string"', '123', '-0', '1e999'])),
    () => text('batch', `[${VALID_BODY}, ${VALID_BODY}]`),
    () => text('empty batch', '[]'),
    () => text('nested arrays', deepArray(random.pick([100, 5_000, 30_000]))),
    () => text('nested objects', deepObject(random.pick([100, 5_000, 12_000]))),
    () =>
      text(
        'deep variables',
        `{"query": "query ($f: ConsentFilter) { consents(filter: $f) { edges { cursor } } }", "variables": {"f": ${deepObject(5_000)}}}`,
      ),
    () =>
      text(
        'huge numbers',
        `{"query": "query ($n: Int) { consents(first: $n) { edges { cursor } } }", "variables": {"n": ${random.pick(['1e999', '-1e999', '123456789012345678901234567890', '9007199254740993', '1.5', '-0', '2147483648'])}}}`,
      ),
    () =>
      text(
        'duplicate keys',
        '{"query": "{ providers { provider } }", "query": "mutation { rotateWebhookSigningSecret { settings { defaultUrl } } }", "variables": {}, "variables": null}',
      ),
    () => text('bom', `\ufeff${VALID_BODY}`),
    () => ({ name: 'utf-16', body: Buffer.from(`\ufeff${VALID_BODY}`, 'utf16le') }),
    () => ({
      name: 'invalid utf-8',
      body: Buffer.concat([
        Buffer.from('{"query": "{ consent(id: \\"'),
        Buffer.from(random.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]])),
        Buffer.from('\\") { __typename } }"}'),
      ]),
    }),
    () => text('trailing garbage', `${VALID_BODY}garbage`),
    () => text('two documents', `${VALID_BODY}${VALID_BODY}`),
    () => text('comments', `// hi\n${VALID_BODY}`),
    () => text('single quotes', "{'query': '{ providers { provider } }'}"),
    () => text('trailing comma', '{"query": "{ providers { provider } }",}'),
    () =>
      text('NaN', '{"query": "query ($n: Int) { consents(first: $n) { edges { cursor } } }", "variables": {"n": NaN}}'),
    () => text('raw control characters', `{"query": "{ providers { provider } }\u0000\u0001"}`),
    () => text('escaped NUL in query', '{"query": "{ providers\\u0000 { provider } }"}'),
    () => text('lone surrogate escape', '{"query": "{ consent(id: \\"\\ud800\\") { __typename } }"}'),
    () =>
      text('prototype keys', '{"query": "{ providers { provider } }", "__proto__": {"query": "x"}, "constructor": {}}'),
  ])()
}

// URLs that must not make the gateway call into our own network -----------------------------------------------------

/** One URL a partner could hand us, and whether the gateway must refuse it on sight. */
export interface HostileUrl {
  readonly url: string
  /**
   * It names, by an address or a localhost spelling (no DNS needed), one of our own ports or a private, link-local,
   * unspecified or metadata address; or it is not http(s); or it carries credentials. Names that need DNS to judge
   * (metadata.google.internal, *.nip.io) and loopback ports that are not ours are sent but not judged here.
   */
  readonly mustRefuse: boolean
}

/** Spellings of 127.0.0.1 (and of "this machine") a URL parser may or may not normalise. */
const LOOPBACK_SPELLINGS = [
  '127.0.0.1',
  'localhost',
  'LOCALHOST',
  'localhost.',
  'LocalHost.',
  '127.1',
  '127.0.1',
  '127.127.127.127',
  '2130706433',
  '0x7f000001',
  '0x7f.0x0.0x0.0x1',
  '0177.0.0.1',
  '017700000001',
  '[::1]',
  '[0:0:0:0:0:0:0:1]',
  '[::ffff:127.0.0.1]',
  '[::ffff:7f00:1]',
  '0.0.0.0',
  '0',
  '[::]',
]

/** Private, link-local, metadata and reserved hosts, in plain and disguised spellings. */
const PRIVATE_HOSTS = [
  '169.254.169.254',
  '[fd00:ec2::254]',
  '2852039166', // 169.254.169.254 as one number
  '0xa9fea9fe',
  '10.0.0.1',
  '012.0.0.1',
  '167772161',
  '172.16.0.1',
  '192.168.1.1',
  '100.64.0.1',
  '[fe80::1]',
  '[fc00::1]',
  '[::ffff:10.0.0.1]',
  '[::ffff:169.254.169.254]',
  '[64:ff9b::a9fe:a9fe]',
  '[2002:a9fe:a9fe::]',
  '255.255.255.255',
  '224.0.0.1',
]

/** Hosts only DNS can judge (and this machine has none to ask). */
const NAMED_HOSTS = ['metadata.google.internal', 'localtest.me', '127.0.0.1.nip.io', 'internal.consent-gateway']

const FORBIDDEN = (() => {
  const list = new BlockList()
  for (const [network, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['224.0.0.0', 3],
  ] as const)
    list.addSubnet(network, prefix, 'ipv4')
  for (const [network, prefix] of [
    ['::', 127],
    ['fc00::', 7],
    ['fe80::', 10],
    ['::ffff:0:0', 96],
    ['64:ff9b::', 96],
    ['2002::', 16],
    ['fd00:ec2::', 32],
  ] as const)
    list.addSubnet(network, prefix, 'ipv6')
  return list
})()

const LOOPBACK = (() => {
  const list = new BlockList()
  list.addSubnet('127.0.0.0', 8, 'ipv4')
  list.addSubnet('0.0.0.0', 32, 'ipv4')
  list.addAddress('::1', 'ipv6')
  list.addAddress('::', 'ipv6')
  list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6')
  return list
})()

/**
 * Judges a URL as a WHATWG parser reads it (which turns `2130706433` into 127.0.0.1): see {@link HostileUrl}.
 * `ownPorts` are the ports of our own services on this machine.
 */
export function mustRefuseUrl(url: string, ownPorts: readonly number[]): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false // not a URL at all: refused as such, nothing to reach
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return true
  if (parsed.username !== '' || parsed.password !== '') return true
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80))
  const family = isIP(host)
  const type = family === 6 ? 'ipv6' : 'ipv4'
  const loopback = host === 'localhost' || host === 'localhost.' || (family !== 0 && LOOPBACK.check(host, type))
  if (loopback) return ownPorts.includes(port) || host.startsWith('0') || host === '::'
  return family !== 0 && FORBIDDEN.check(host, type)
}

/** Schemes a browser would run or read locally: a redirect URL may not use them (app schemes are fine). */
const SCRIPT_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:'])

/**
 * Judges a URL as a place to send the user's browser: the gateway never calls it, so only what the browser would run
 * or read locally must be refused.
 */
export function mustRefuseRedirect(url: string): boolean {
  try {
    return SCRIPT_SCHEMES.has(new URL(url).protocol)
  } catch {
    return false
  }
}

/** A URL aimed at our own network, from every spelling above; judged as a webhook by {@link mustRefuseUrl}. */
export function hostileUrl(random: Random, target: FuzzTarget): HostileUrl {
  const own = random.pick(target.ownPorts)
  const scheme = random.pick(['http', 'https', 'http', 'https', 'HTTP', 'gopher', 'file', 'ftp', 'dict', 'javascript'])
  const path = random.pick(['/', '/graphql', '/webhooks/finqware', '/shell/', '/latest/meta-data/iam', ''])
  const url = random.pick<() => string>([
    () => `${scheme}://${random.pick(LOOPBACK_SPELLINGS)}:${own.port}${path}`,
    () => `${scheme}://${random.pick(LOOPBACK_SPELLINGS)}${path}`,
    () => `${scheme}://${random.pick(PRIVATE_HOSTS)}${path}`,
    () => `${scheme}://${random.pick(PRIVATE_HOSTS)}:${random.pick([22, 80, 6379, 8000])}${path}`,
    () => `${scheme}://${random.pick(NAMED_HOSTS)}:${own.port}${path}`,
    () => `https://partner.example@${random.pick(LOOPBACK_SPELLINGS)}:${own.port}/`,
    () => `https://partner.example:pw@partner.example/hooks`,
    () => `https://127.0.0.1:${own.port}#@partner.example/`,
    () => `https://partner.example\\@127.0.0.1:${own.port}/`,
    () => `http://127.0.0.1:${own.port}\t/`,
    () => `http://127.0.0.1:${own.port}\n.partner.example/`,
    () => `http://127.0.0.1:0${own.port}/`,
    () => `http://127.0.0.1:${own.port + 65_536}/`,
    () => `  http://127.0.0.1:${own.port}/  `,
    () => `//127.0.0.1:${own.port}/`,
    () => `http:/127.0.0.1:${own.port}/`,
    () => `file:///etc/passwd`,
    () => `javascript:alert(document.domain)`,
    () => `data:text/html,<script>alert(1)</script>`,
  ])()
  return {
    url,
    mustRefuse: mustRefuseUrl(
      url,
      target.ownPorts.map((p) => p.port),
    ),
  }
}
