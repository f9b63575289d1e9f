// A hostile request as the wire writes it (request line, headers in order, a body and how it is framed, or raw bytes),
// and the building blocks the attack generators make one from.
import type { FuzzTarget, Operation } from './payloads.ts'
import type { Random } from './random.ts'

export const CATEGORIES = [
  'baseline',
  'bad-json',
  'huge-body',
  'stalled-body',
  'deep-wide',
  'bad-variables',
  'unicode',
  'auth',
  'cross-tenant',
  'ssrf',
  'routes',
  'store-outage',
] as const
export type Category = (typeof CATEGORIES)[number]

/** How the body is framed on the wire. */
export type Framing =
  /** A truthful Content-Length. */
  | { readonly kind: 'length' }
  /** This Content-Length value, whatever the body is (a lie, a negative, two values...). */
  | { readonly kind: 'declared'; readonly value: string }
  /** Transfer-Encoding: chunked, no length. */
  | { readonly kind: 'chunked' }
  /** No framing header at all. */
  | { readonly kind: 'none' }

export interface HostileRequest {
  readonly seed: number
  readonly index: number
  readonly category: Category
  /** What this one tries, e.g. `bad-json/truncated`. */
  readonly variant: string
  readonly method: string
  /** The request-target exactly as written on the request line. */
  readonly target: string
  /** Header lines in order (values may hold any character; the wire writes them as UTF-8). */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Buffer | null
  readonly framing: Framing
  /** Bytes written verbatim instead of a request built from the fields above (broken request lines, HTTP/2). */
  readonly raw?: Buffer
  /** Write only this many bytes of the request, then nothing more (a stalled body or header). */
  readonly stallAfterBytes?: number
  /** Whose credentials it carries: answers to anyone but B must never show B's data. */
  readonly actsAs: 'A' | 'B' | null
  /** A partner URL in a mutation, and whether the gateway must refuse it. */
  readonly url?: {
    readonly field: 'createConsent.webhookUrl' | 'createConsent.redirectUrl' | 'setWebhookEndpoint'
    readonly value: string
    readonly mustRefuse: boolean
  }
}

/** A request before its place in the run (seed, index, category) is known; `name` becomes its variant. */
export type Draft = Omit<HostileRequest, 'seed' | 'index' | 'category' | 'variant'> & { readonly name: string }

export const GRAPHQL_ACCEPTS = [
  'application/graphql-response+json, application/json;q=0.9',
  'application/json',
  'application/graphql-response+json',
  '*/*',
]

export const auth = (target: FuzzTarget, as: 'A' | 'B' | null): [string, string][] =>
  as ? [['authorization', target.authorization[as]]] : []

export const bodyOf = (operation: Operation) =>
  Buffer.from(
    JSON.stringify({
      query: operation.query,
      ...(operation.variables !== undefined ? { variables: operation.variables } : {}),
      ...(operation.operationName !== undefined ? { operationName: operation.operationName } : {}),
      ...(operation.extensions !== undefined ? { extensions: operation.extensions } : {}),
    }),
  )

/** A GraphQL POST as a client library sends it; `headers` are added after (and so may repeat) the usual ones. */
export function graphqlPost(
  random: Random,
  target: FuzzTarget,
  name: string,
  operation: Operation | Buffer,
  options: { as?: 'A' | 'B' | null; headers?: [string, string][]; framing?: Framing } = {},
): Draft {
  const as = options.as === undefined ? 'A' : options.as
  return {
    name,
    method: 'POST',
    target: '/graphql',
    headers: [
      ['content-type', 'application/json'],
      ['accept', random.pick(GRAPHQL_ACCEPTS)],
      ...auth(target, as),
      ...(options.headers ?? []),
    ],
    body: Buffer.isBuffer(operation) ? operation : bodyOf(operation),
    framing: options.framing ?? { kind: 'length' },
    actsAs: as,
  }
}

/** A GraphQL GET, the operation in the query string (`rawParams` appended verbatim). */
export function graphqlGet(
  random: Random,
  target: FuzzTarget,
  name: string,
  params: Record<string, string>,
  options: { as?: 'A' | 'B' | null; rawParams?: string; headers?: [string, string][] } = {},
): Draft {
  const as = options.as === undefined ? 'A' : options.as
  const query = new URLSearchParams(params).toString()
  return {
    name,
    method: 'GET',
    target: `/graphql?${query}${options.rawParams ?? ''}`,
    headers: [['accept', random.pick(GRAPHQL_ACCEPTS)], ...auth(target, as), ...(options.headers ?? [])],
    body: null,
    framing: { kind: 'none' },
    actsAs: as,
  }
}

/** Every UTF-8 byte of `text` but the unreserved ones as %XX (a lone surrogate goes as U+FFFD's bytes). */
export const percentEncoded = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('')

/** A request to any route, as given. */
export function plain(
  name: string,
  method: string,
  target: string,
  headers: [string, string][],
  body: Buffer | string | null,
  framing: Framing = body === null ? { kind: 'none' } : { kind: 'length' },
): Draft {
  return {
    name,
    method,
    target,
    headers,
    body: body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    framing,
    actsAs: null,
  }
}

export const raw = (name: string, bytes: string | Buffer, stallAfterBytes?: number): Draft => ({
  name,
  method: '',
  target: '',
  headers: [],
  body: null,
  framing: { kind: 'none' },
  raw: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'),
  actsAs: null,
  ...(stallAfterBytes !== undefined ? { stallAfterBytes } : {}),
})

/** `size` bytes of JSON-looking filler: a valid GraphQL request whose query ends in a long comment. */
export const bigGraphqlBody = (size: number) => {
  const head = '{"query": "{ providers { provider } } #'
  return Buffer.concat([Buffer.from(head), Buffer.alloc(Math.max(0, size - head.length - 2), 'x'), Buffer.from('"}')])
}
