// Hostile GraphQL requests, one generator per category: well-formed traffic (the baseline), bad JSON, deep and wide
// documents, bad variables in GET and POST, unicode and control characters, credential garbage, another tenant's ids,
// and partner URLs aimed at our own network.
import {
  badJsonBody,
  CONSENT_MUTATIONS,
  consentInput,
  CREATE_CONSENT,
  GET_CONSENT,
  hostileUrl,
  mustRefuseRedirect,
  nastyString,
  oddString,
  SET_WEBHOOK_ENDPOINT,
  wellFormedOperation,
  type FuzzTarget,
  type Operation,
} from './payloads.ts'
import type { Random } from './random.ts'
import { graphqlGet, graphqlPost, percentEncoded, plain, type Draft, type HostileRequest } from './hostile-request.ts'

export function baseline(random: Random, target: FuzzTarget): Draft {
  const operation = wellFormedOperation(random, target.consentIds.A)
  if (random.chance(0.15) && !/^mutation/.test(operation.query)) {
    const params: Record<string, string> = { query: operation.query }
    if (operation.variables !== undefined) params.variables = JSON.stringify(operation.variables)
    return graphqlGet(random, target, 'get', params)
  }
  return graphqlPost(random, target, 'post', operation)
}

export function badJson(random: Random, target: FuzzTarget): Draft {
  const { name, body } = badJsonBody(random)
  const contentType = random.weighted<string>([
    ['application/json', 8],
    ['application/json; charset=utf-16', 1],
    ['application/graphql', 1],
    ['text/plain', 1],
    ['application/x-www-form-urlencoded', 1],
    ['multipart/form-data; boundary=----x', 1],
    ['application/json; charset=x-unknown', 1],
    ['', 1],
  ])
  const draft = graphqlPost(random, target, name, body)
  return { ...draft, headers: [['content-type', contentType], ...draft.headers.filter(([h]) => h !== 'content-type')] }
}

export function deepWide(random: Random, target: FuzzTarget): Draft {
  const n = (choices: number[]) => random.pick(choices)
  return random.pick<() => Draft>([
    () => {
      const depth = n([13, 20, 60, 300])
      const chain = `${'supersededBy { '.repeat(depth)}id${' }'.repeat(depth)}`
      return graphqlPost(random, target, `depth ${depth}`, {
        query: `{ consent(id: "${target.consentIds.A}") { ... on Consent { ${chain} } } }`,
      })
    },
    () => {
      const depth = n([100, 600, 990])
      return graphqlPost(random, target, `unknown fields ${depth} deep`, {
        query: `${'{ a '.repeat(depth)}${'}'.repeat(depth)}`,
      })
    },
    () => {
      const count = n([16, 50, 400])
      const aliases = Array.from({ length: count }, (_, i) => `a${i}: providers { provider }`).join(' ')
      return graphqlPost(random, target, `${count} aliases`, { query: `{ ${aliases} }` })
    },
    () => {
      const count = n([16, 200])
      const aliases = Array.from(
        { length: count },
        (_, i) => `c${i}: consent(id: "${target.consentIds.A}") { __typename }`,
      ).join(' ')
      return graphqlPost(random, target, `${count} consent aliases`, { query: `{ ${aliases} }` })
    },
    () =>
      graphqlPost(random, target, 'fragment cycle', {
        query: `{ ...A } fragment A on Query { providers { provider } ...B } fragment B on Query { ...A }`,
      }),
    () => graphqlPost(random, target, 'fragment spreads itself', { query: `{ ...A } fragment A on Query { ...A }` }),
    () => {
      const levels = n([10, 16, 24])
      let fragments = 'fragment F0 on ProviderInfo { name }'
      for (let i = 1; i <= levels; i++) fragments += ` fragment F${i} on ProviderInfo { ...F${i - 1} ...F${i - 1} }`
      return graphqlPost(random, target, `fragment bomb 2^${levels}`, {
        query: `{ providers { ...F${levels} } } ${fragments}`,
      })
    },
    () => {
      const count = n([21, 100, 600])
      return graphqlPost(random, target, `${count} directives`, {
        query: `{ providers ${'@include(if: true) '.repeat(count)}{ provider } }`,
      })
    },
    () =>
      graphqlPost(random, target, 'unknown directive', {
        query: `{ providers @defer @stream(initialCount: 1) @x(y: 1) { provider } }`,
      }),
    () => {
      const tokens = n([2_001, 5_000, 14_000])
      return graphqlPost(random, target, `${tokens} tokens`, {
        query: `{ providers { ${'provider '.repeat(tokens)}} }`,
      })
    },
    () => {
      const length = n([10_000, 60_000])
      return graphqlPost(random, target, `string literal ${length}`, {
        query: `{ consent(id: "${'x'.repeat(length)}") { __typename } }`,
      })
    },
    () =>
      graphqlPost(random, target, 'block string', {
        query: `{ consent(id: """${'\\"""'.repeat(5_000)}""") { __typename } }`,
      }),
    () => {
      const count = n([50, 400, 1_500])
      const definitions = Array.from({ length: count }, (_, i) => `$v${i}: Int`).join(', ')
      const variables = Object.fromEntries(Array.from({ length: count }, (_, i) => [`v${i}`, i]))
      return graphqlPost(random, target, `${count} variables`, {
        query: `query (${definitions}) { providers { provider } }`,
        variables,
      })
    },
    () => {
      const count = n([100, 1_000, 2_000])
      const ids = Array.from({ length: count }, (_, i) =>
        i % 2 ? target.consentIds.A : `consent_01JD${String(i).padStart(22, '0')}`,
      )
      return graphqlPost(random, target, `nodes of ${count} ids`, {
        query: `query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
        variables: { ids },
      })
    },
    () =>
      graphqlPost(random, target, 'wide nested connections', {
        query: `{ consents(first: 100) { edges { node { id events(first: 100) { edges { node { consent { events(first: 100) { edges { node { id } } } } } } } webhookDeliveries { payload } } } } }`,
      }),
    () =>
      graphqlPost(random, target, 'introspection', {
        query: `{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }`,
      }),
    () =>
      graphqlPost(random, target, 'deep introspection', {
        query: (() => {
          const depth = n([4, 10, 40])
          return `{ __type(name: "Query") { ${'fields { type { '.repeat(depth)}name${' } }'.repeat(depth)} } }`
        })(),
      }),
    () => {
      const count = n([20, 300])
      const operations = Array.from({ length: count }, (_, i) => `query Q${i} { providers { provider } }`).join(' ')
      return graphqlPost(random, target, `${count} operations`, { query: operations, operationName: `Q${count - 1}` })
    },
    () =>
      graphqlPost(
        random,
        target,
        'subscription over POST',
        {
          query: random.pick([
            `subscription { consentEvents(after: "garbage") { cursor } }`,
            `subscription ($id: ID!) { consentUpdated(id: $id) { status } }`,
            `subscription { a: consentEvents { cursor } b: consentEvents { cursor } }`,
          ]),
          variables: { id: random.pick(['nope', target.consentIds.B]) },
        },
        { headers: [['accept', 'text/event-stream']] },
      ),
    () => {
      const depth = n([50, 500])
      const filter = `${'{ and: '.repeat(depth)}{}${' }'.repeat(depth)}`
      return graphqlPost(random, target, `nested input literal ${depth}`, {
        query: `{ consents(filter: ${filter}) { edges { cursor } } }`,
      })
    },
    () => {
      const depth = n([50, 900])
      return graphqlPost(random, target, `nested list literal ${depth}`, {
        query: `{ nodes(ids: ${'['.repeat(depth)}"x"${']'.repeat(depth)}) { id } }`,
      })
    },
  ])()
}

export function badVariables(random: Random, target: FuzzTarget): Draft {
  const own = target.consentIds.A
  const badInput = () =>
    random.pick<() => unknown>([
      () => null,
      () => ({}),
      () => 'input',
      () => [consentInput()],
      () => consentInput({ provider: random.pick(['NOPE', 'finqware', '', null, 1]) }),
      () => consentInput({ region: 'MARS', validityDays: 'many' }),
      () => consentInput({ validityDays: random.pick([2 ** 31, -1, 0, 1.5, 1e308, '90', null, true]) }),
      () => consentInput({ linkExpiresInDays: random.pick([-5, 46, 2 ** 40, '7']) }),
      () => consentInput({ scope: random.pick(['ACCOUNTS', [], ['NOPE'], [null], Array(10_000).fill('ACCOUNTS')]) }),
      () => consentInput({ userId: random.pick([null, 5, '', 'x'.repeat(129), 'x'.repeat(50_000), { a: 1 }]) }),
      () => consentInput({ institutionId: random.pick([null, '', 'no_such_bank', 'x'.repeat(10_000), ['bt_ro']]) }),
      () => consentInput({ idempotencyKey: random.pick(['a b', '\u0000', 'x'.repeat(500), 7]) }),
      () => consentInput({ unknownField: 1 }),
      () => ({ ...consentInput(), provider: undefined }),
    ])()
  const getParams = (query: string, variables: string) => ({ query, variables })
  return random.pick<() => Draft>([
    () =>
      graphqlGet(
        random,
        target,
        'GET malformed variables',
        getParams(
          GET_CONSENT,
          random.pick(['{', '{"id":', 'null', '[]', '"x"', '5', 'undefined', '{"id": NaN}', '%ZZ', '']),
        ),
      ),
    () =>
      graphqlGet(
        random,
        target,
        'GET wrong variable types',
        getParams(GET_CONSENT, JSON.stringify({ id: random.pick([5, true, null, {}, [own], Number.MAX_VALUE]) })),
      ),
    () => graphqlGet(random, target, 'GET missing variables', { query: GET_CONSENT }),
    () =>
      graphqlGet(
        random,
        target,
        'GET repeated parameters',
        { query: GET_CONSENT },
        {
          rawParams: `&variables=${encodeURIComponent(JSON.stringify({ id: own }))}&variables=%7B&query=%7B`,
        },
      ),
    () =>
      graphqlGet(
        random,
        target,
        'GET bad percent-encoding',
        { query: GET_CONSENT },
        { rawParams: '&variables=%7B%22id%22%3A%22%E0%A4%A' },
      ),
    () =>
      graphqlGet(
        random,
        target,
        'GET huge variable',
        getParams(GET_CONSENT, JSON.stringify({ id: 'x'.repeat(random.pick([2_000, 15_000])) })),
      ),
    () =>
      graphqlGet(random, target, 'GET mutation', {
        query: CREATE_CONSENT,
        variables: JSON.stringify({ input: consentInput() }),
      }),
    () =>
      graphqlGet(
        random,
        target,
        'GET bracket params',
        { query: GET_CONSENT },
        { rawParams: `&variables[id]=${own}&variables[__proto__][x]=1` },
      ),
    () => graphqlGet(random, target, 'GET no query', { variables: '{}' }),
    () =>
      graphqlPost(random, target, 'POST bad createConsent input', {
        query: CREATE_CONSENT,
        variables: { input: badInput() },
      }),
    () =>
      graphqlPost(random, target, 'POST id of wrong type', {
        query: GET_CONSENT,
        variables: { id: random.pick([5, true, null, {}, [own], 1.5]) },
      }),
    () => graphqlPost(random, target, 'POST missing non-null', { query: GET_CONSENT, variables: {} }),
    () =>
      graphqlPost(random, target, 'POST page sizes', {
        query: random.pick([
          `query ($f: Int, $l: Int, $a: String, $b: String) { consents(first: $f, last: $l, after: $a, before: $b) { edges { cursor } } }`,
          `query ($f: Int, $l: Int, $a: String, $b: String) { consentEvents(first: $f, last: $l, after: $a, before: $b) { edges { cursor } } }`,
          `query ($f: Int, $l: Int, $a: String, $b: String) { consents(first: 2) { edges { node { events(first: $f, last: $l, after: $a, before: $b) { edges { cursor } } } } } }`,
        ]),
        variables: {
          f: random.pick([-1, 0, 101, 2 ** 31 - 1, null]),
          l: random.pick([null, 5, -5]),
          a: random.pick([null, 'garbage', 'x'.repeat(600), target.foreignCursor]),
          b: random.pick([null, 'garbage']),
        },
      }),
    () =>
      graphqlPost(random, target, 'POST bad DateTime', {
        query: `mutation ($id: ID!, $at: DateTime!) { reconfirmConsent(id: $id, confirmedAt: $at) { __typename ... on Error { code } } }`,
        variables: {
          id: own,
          at: random.pick([
            'not a date',
            '2026-13-45T99:99:99Z',
            '+275760-09-13T00:00:00.001Z',
            '0000-00-00T00:00:00Z',
            1e20,
            '2999-01-01T00:00:00Z',
          ]),
        },
      }),
    () =>
      graphqlPost(random, target, 'POST huge sequence', {
        query: `mutation ($c: ID!, $s: Int!) { replayWebhookDelivery(consentId: $c, sequence: $s) { __typename ... on Error { code } } }`,
        variables: { c: own, s: random.pick([2 ** 53, -1, 0, 2 ** 31, Number.MAX_VALUE]) },
      }),
    () =>
      graphqlPost(random, target, 'POST huge variable', {
        query: SET_WEBHOOK_ENDPOINT,
        variables: { url: `https://partner.example/${'a'.repeat(random.pick([3_000, 60_000]))}` },
      }),
    () =>
      graphqlPost(random, target, 'POST unused and undeclared variables', {
        query: `query ($x: Int) { consent(id: $id) { __typename } }`,
        variables: { id: own, y: 1 },
      }),
    () =>
      graphqlPost(random, target, 'POST filter of wrong shape', {
        query: `query ($f: ConsentFilter) { consents(first: 5, filter: $f) { edges { cursor } } }`,
        variables: {
          f: random.pick([
            { status: 'ACTIVE' },
            { status: ['NOPE'] },
            { provider: 'X' },
            { userId: 'x'.repeat(10_000) },
            [],
            'x',
          ]),
        },
      }),
    () =>
      graphqlPost(random, target, 'POST operationName mismatch', {
        query: `query A { providers { provider } } query B { providers { name } }`,
        operationName: random.pick([null, 'C', '', 5, ['A']]),
      }),
  ])()
}

export function unicode(random: Random, target: FuzzTarget): Draft {
  const odd = oddString(random)
  return random.pick<() => Draft>([
    () => graphqlPost(random, target, 'odd id', { query: GET_CONSENT, variables: { id: odd } }),
    () =>
      graphqlPost(random, target, 'odd node id', {
        query: `query ($id: ID!) { node(id: $id) { id } }`,
        variables: { id: odd },
      }),
    () =>
      graphqlPost(random, target, 'odd id in a mutation', {
        query: random.pick(CONSENT_MUTATIONS),
        variables: { id: odd },
      }),
    () =>
      graphqlPost(random, target, 'odd userId', {
        query: CREATE_CONSENT,
        variables: { input: consentInput({ userId: odd }) },
      }),
    () =>
      graphqlPost(random, target, 'odd institutionId', {
        query: CREATE_CONSENT,
        variables: { input: consentInput({ institutionId: odd }) },
      }),
    () =>
      graphqlPost(random, target, 'odd idempotencyKey', {
        query: CREATE_CONSENT,
        variables: { input: consentInput({ idempotencyKey: odd }) },
      }),
    () =>
      graphqlPost(random, target, 'odd filter', {
        query: `query ($f: ConsentFilter) { consents(first: 3, filter: $f) { edges { cursor } } }`,
        variables: { f: { userId: odd, institutionId: odd } },
      }),
    () =>
      graphqlPost(random, target, 'odd cursor', {
        query: `query ($a: String) { consentEvents(after: $a) { edges { cursor } } }`,
        variables: { a: odd },
      }),
    () =>
      graphqlPost(random, target, 'odd operation name', {
        query: `query ${odd} { providers { provider } }`,
        operationName: odd,
      }),
    () =>
      graphqlPost(random, target, 'odd operationName only', {
        query: `query Q { providers { provider } }`,
        operationName: odd,
      }),
    () =>
      graphqlPost(random, target, 'odd characters in the document', {
        query: `{ providers { provider ${nastyString(random, 8)} } }`,
      }),
    () =>
      graphqlPost(random, target, 'odd string literal', {
        query: `{ consent(id: ${JSON.stringify(odd)}) { __typename } }`,
      }),
    () =>
      graphqlPost(
        random,
        target,
        'odd header value',
        { query: '{ providers { provider } }' },
        {
          headers: [
            [
              random.pick(['x-request-id', 'user-agent', 'accept-language', 'x-forwarded-for', 'origin']),
              nastyString(random, random.int(1, 40)),
            ],
          ],
        },
      ),
    () =>
      graphqlPost(
        random,
        target,
        'odd authorization',
        { query: '{ providers { provider } }' },
        {
          as: null,
          headers: [['authorization', `Basic ${nastyString(random, 20)}`]],
        },
      ),
    () =>
      graphqlPost(
        random,
        target,
        'odd content-type',
        { query: '{ providers { provider } }' },
        {
          headers: [['content-type', `application/json; charset=${nastyString(random, 6)}`]],
        },
      ),
    () =>
      graphqlPost(
        random,
        target,
        'odd header name',
        { query: '{ providers { provider } }' },
        { headers: [[`x-${nastyString(random, 5)}`, 'v']] },
      ),
    () => plain('odd path', 'GET', `/${percentEncoded(odd).slice(0, 2_000)}`, [], null),
    () =>
      plain(
        'raw bytes in path',
        'GET',
        `/graphql/${random.pick(['\u00ff', '\u0000', '%00', '%c0%ae%c0%ae/', '..%2f..%2f', '\u202e'])}`,
        [],
        null,
      ),
    () =>
      plain(
        'odd callback token',
        'GET',
        `/callbacks/${random.pick(['finqware', 'worldline', 'yapily'])}/${percentEncoded(odd).slice(0, 300)}?error=${percentEncoded(odd).slice(0, 300)}`,
        [],
        null,
      ),
  ])()
}

export function authentication(random: Random, target: FuzzTarget): Draft {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
  const header = random.pick<() => string | null>([
    () => null,
    () => '',
    () => 'Basic',
    () => 'Basic ',
    () => 'Basic !!!',
    () => `Basic ${b64('no-colon-here')}`,
    () => `Basic ${b64(':secret-only')}`,
    () => `Basic ${b64(`${target.clientIds.A}:`)}`,
    () =>
      `Basic ${b64(`${target.clientIds.A}:${random.pick(['wrong', 'secret-alpha', 'secret-bravo-0123456789abcdef'])}`)}`,
    () => `Basic ${b64(`${target.clientIds.B}:secret-alpha-0123456789abcdef`)}`,
    () => `Basic ${b64(`client-${random.int(0, 9)}-unknown:whatever-secret`)}`,
    () => `Basic ${b64(`${'c'.repeat(random.pick([200, 700]))}:${'s'.repeat(100)}`)}`,
    () => `Basic ${b64(`${target.clientIds.A}\u0000:x`)}`,
    () => `Basic ${b64('ü:ñ')}`,
    () => `basic ${target.authorization.A.slice(6)}x`,
    () => `Basic  ${target.authorization.A.slice(6)}==`,
    () => `Bearer ${random.pick(['abc', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', 'null'])}`,
    () => `Digest username="admin", response="0"`,
    () => `Basic ${'A'.repeat(random.pick([1_025, 8_000]))}`,
    () => `${target.authorization.A}, ${target.authorization.B}`,
  ])()
  const operation = wellFormedOperation(random, target.consentIds.A)
  const headers: [string, string][] = header === null ? [] : [['authorization', header]]
  if (random.chance(0.1)) headers.push(['authorization', target.authorization.A]) // a second header
  return graphqlPost(
    random,
    target,
    header === null ? 'no header' : `header ${header.split(' ')[0] ?? ''}`,
    operation,
    {
      as: null,
      headers,
    },
  )
}

export function crossTenant(random: Random, target: FuzzTarget): Draft {
  const theirs = target.consentIds.B
  return random.pick<() => Draft>([
    () => graphqlPost(random, target, 'consent', { query: GET_CONSENT, variables: { id: theirs } }),
    () =>
      graphqlPost(random, target, 'node', {
        query: `query ($id: ID!) { node(id: $id) { id ... on Consent { userId } } }`,
        variables: { id: theirs },
      }),
    () =>
      graphqlPost(random, target, 'nodes', {
        query: `query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Consent { userId webhookUrl } } }`,
        variables: { ids: [target.consentIds.A, theirs] },
      }),
    () => graphqlPost(random, target, 'mutation', { query: random.pick(CONSENT_MUTATIONS), variables: { id: theirs } }),
    () =>
      graphqlPost(random, target, 'foreign cursor', {
        query: `query ($a: String) { consents(first: 5, after: $a) { edges { node { id userId } } } }`,
        variables: { a: target.foreignCursor },
      }),
    () =>
      graphqlPost(
        random,
        target,
        'subscription',
        { query: `subscription ($id: ID!) { consentUpdated(id: $id) { userId } }`, variables: { id: theirs } },
        {
          headers: [['accept', 'text/event-stream']],
        },
      ),
    () =>
      graphqlPost(random, target, 'idempotency key of the other tenant', {
        query: CREATE_CONSENT,
        variables: { input: consentInput({ idempotencyKey: 'bravo-seed' }) },
      }),
  ])()
}

export function ssrf(random: Random, target: FuzzTarget): Draft {
  const { url, mustRefuse } = hostileUrl(random, target)
  const field = random.weighted<NonNullable<HostileRequest['url']>['field']>([
    ['createConsent.webhookUrl', 4],
    ['setWebhookEndpoint', 4],
    ['createConsent.redirectUrl', 2],
  ])
  const operation: Operation =
    field === 'setWebhookEndpoint'
      ? { query: SET_WEBHOOK_ENDPOINT, variables: { url } }
      : {
          query: CREATE_CONSENT,
          variables: {
            input: consentInput(field === 'createConsent.webhookUrl' ? { webhookUrl: url } : { redirectUrl: url }),
          },
        }
  const refuse = field === 'createConsent.redirectUrl' ? mustRefuseRedirect(url) : mustRefuse
  return { ...graphqlPost(random, target, field, operation), url: { field, value: url, mustRefuse: refuse } }
}
