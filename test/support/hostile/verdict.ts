// Judges one answer to a hostile request: its status, whether it shows a stack or internal text, whether every GraphQL
// error carries a code, whether it shows tenant B's data to anyone else, and whether it accepted a URL into our own
// network.
import type { HostileRequest } from './hostile-request.ts'
import type { Answer } from './wire.ts'

/** What a verdict needs to know of the system beyond the request: names that must never reach a client. */
export interface Secrets {
  /** The table's name, the store's endpoint, the repository's path on disk. */
  readonly internalNames: readonly string[]
  /** Strings only tenant B's data holds (its consent's userId, its webhook endpoint). */
  readonly tenantBMarkers: readonly string[]
}

export type Phase = 'fuzz' | 'store-up' | 'store-down' | 'store-back'

export interface Verdict {
  readonly seed: number
  readonly index: number
  readonly phase: Phase
  readonly category: HostileRequest['category']
  readonly variant: string
  readonly outcome: Answer['outcome']
  readonly status: number | null
  readonly ms: number
  /** When it was sent and when its answer was complete (performance.now()). */
  readonly sentAt: number
  readonly answeredAt: number
  /** The internal-text patterns the answer matched (and the request did not already hold). */
  readonly internalText: readonly string[]
  /** GraphQL errors in the answer without `extensions.code`. */
  readonly codelessErrors: number
  /** GraphQL errors with code INTERNAL_SERVER_ERROR. */
  readonly internalErrors: number
  /** The answer shows tenant B's data to someone else. */
  readonly leak: boolean
  /** The partner URL the request carried, if any, and whether the gateway must refuse it. */
  readonly url: HostileRequest['url'] | null
  /** The mutation accepted the partner URL it carried. */
  readonly urlAccepted: boolean
  /** A consent the answer acknowledged as created: it must be readable for good. */
  readonly acknowledged: { readonly id: string; readonly tenant: 'A' | 'B' } | null
  /** A little of the answer, for the report. */
  readonly excerpt: string
}

/** Stack traces, error classes, system error codes, source paths and store vocabulary: never meant for a client. */
const INTERNAL_TEXT: readonly (readonly [string, RegExp])[] = [
  ['stack frame', /(?:^|\n|\\n) {2,}at [^\s]|\bat (?:async )?[\w$.<>]+ \((?:file:|node:|\/)/],
  ['error class', /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|EvalError|URIError|AggregateError)\b/],
  // graphql-js's "Syntax Error: ..." is a message meant for the client; any other "Error: " prefix is a raw throw.
  ['error prefix', /(?<!Syntax )\bError: /],
  [
    'system error code',
    /\bE(?:CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|NOTFOUND|AI_AGAIN|ADDRINUSE|HOSTUNREACH|NETUNREACH|CONNABORTED)\b/,
  ],
  ['node internals', /node:internal|node_modules|\bnode:(?:net|http|https|fs|events|dns|stream)\b/],
  ['source location', /\.(?:ts|js|mjs|cjs):\d+/],
  [
    'store vocabulary',
    /DynamoDB|dynamodb|ResourceNotFound|ConditionalCheckFailed|TransactionCanceled|ProvisionedThroughput|ValidationException|\$metadata|@aws-sdk|\bgsi\d(?:pk|sk)?\b/,
  ],
  ['store key', /\b[A-Z]{1,4}#[0-9A-Z]{26}\b/],
]

function internalTextIn(text: string, requestText: string, secrets: Secrets): string[] {
  const found: string[] = []
  for (const [name, pattern] of INTERNAL_TEXT) {
    const match = pattern.exec(text)
    // An echo of what the client itself sent is not a leak.
    if (match && !requestText.includes(match[0])) found.push(name)
  }
  for (const name of secrets.internalNames) {
    if (name && text.includes(name) && !requestText.includes(name)) found.push(`internal name ${name}`)
  }
  return found
}

type GraphQLBody = {
  readonly data?: Record<string, any> | null
  readonly errors?: readonly { readonly extensions?: { readonly code?: unknown } }[]
}

/** The GraphQL results in an answer: one JSON body, or each `data:` line of an event stream. */
function graphqlResults(answer: Answer, text: string): GraphQLBody[] | 'unparsable' {
  const type = answer.headers['content-type'] ?? ''
  if (/text\/event-stream/.test(type)) {
    return text
      .split('\n')
      .filter((line) => line.startsWith('data:') && line.length > 5)
      .map((line) => {
        try {
          return JSON.parse(line.slice(5)) as GraphQLBody
        } catch {
          return {}
        }
      })
  }
  if (!/json/.test(type)) return []
  try {
    const parsed = JSON.parse(text) as unknown
    return Array.isArray(parsed) ? (parsed as GraphQLBody[]) : [parsed as GraphQLBody]
  } catch {
    return 'unparsable'
  }
}

const ACCEPTED_URL_TYPES = new Set(['CreateConsentPayload', 'SetWebhookEndpointPayload'])

export function judge(
  request: HostileRequest,
  answer: Answer,
  context: { readonly phase: Phase; readonly sentAt: number; readonly secrets: Secrets; readonly requestText: string },
): Verdict {
  const text = answer.body.toString('utf8')
  const headerText = Object.entries(answer.headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n')
  const internalText = internalTextIn(`${headerText}\n${text}`, context.requestText, context.secrets)
  const path = request.target.split('?')[0]
  const isGraphQL = !request.raw && path === '/graphql' && answer.outcome === 'answered'
  const results = isGraphQL ? graphqlResults(answer, text) : []
  let codelessErrors = 0
  let internalErrors = 0
  let urlAccepted = false
  let acknowledged: Verdict['acknowledged'] = null
  if (results === 'unparsable') {
    codelessErrors = 1 // a JSON answer that is not JSON has no code either
  } else {
    for (const result of results) {
      for (const error of result.errors ?? []) {
        const code = error?.extensions?.code
        if (typeof code !== 'string' || code === '') codelessErrors++
        if (code === 'INTERNAL_SERVER_ERROR') internalErrors++
      }
      const data = result.data ?? {}
      for (const field of ['createConsent', 'setWebhookEndpoint'] as const) {
        if (ACCEPTED_URL_TYPES.has(data[field]?.__typename)) urlAccepted = true
      }
      const created = data.createConsent
      if (created?.__typename === 'CreateConsentPayload' && typeof created.consent?.id === 'string' && request.actsAs) {
        acknowledged = { id: created.consent.id, tenant: request.actsAs }
      }
    }
  }
  const leak =
    request.actsAs !== 'B' &&
    context.secrets.tenantBMarkers.some((marker) => text.includes(marker) && !context.requestText.includes(marker))
  return {
    seed: request.seed,
    index: request.index,
    phase: context.phase,
    category: request.category,
    variant: request.variant,
    outcome: answer.outcome,
    status: answer.status,
    ms: Math.round(answer.ms),
    sentAt: context.sentAt,
    answeredAt: context.sentAt + answer.ms,
    internalText,
    codelessErrors,
    internalErrors,
    leak,
    url: request.url ?? null,
    urlAccepted: request.url !== undefined && urlAccepted,
    acknowledged,
    excerpt: text.slice(0, 300),
  }
}
