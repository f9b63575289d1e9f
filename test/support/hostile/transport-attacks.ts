// Hostile requests at the HTTP level: huge bodies (framed truthfully, chunked, or with a lying length), bodies and
// headers that stall, and the other routes (provider webhooks, callbacks, unknown paths, odd methods, broken framing).
import { nastyString, type FuzzTarget } from './payloads.ts'
import type { Random } from './random.ts'
import { bigGraphqlBody, graphqlGet, graphqlPost, plain, raw, type Draft, type Framing } from './hostile-request.ts'

export function hugeBody(random: Random, target: FuzzTarget): Draft {
  const size = random.pick([65_537, 100_000, 1_000_000, 2_000_000])
  const as = random.pick<'A' | null>(['A', 'A', null])
  return random.pick<() => Draft>([
    () => graphqlPost(random, target, `graphql ${size} B with its length`, bigGraphqlBody(size), { as }),
    () =>
      graphqlPost(random, target, `graphql ${size} B chunked`, bigGraphqlBody(size), {
        as,
        framing: { kind: 'chunked' },
      }),
    () =>
      graphqlPost(random, target, `graphql ${size} B declared 100`, bigGraphqlBody(size), {
        as,
        framing: { kind: 'declared', value: '100' },
      }),
    () =>
      graphqlPost(random, target, `graphql ${size} B declared 65536`, bigGraphqlBody(size), {
        as,
        framing: { kind: 'declared', value: '65536' },
      }),
    () =>
      graphqlPost(random, target, 'graphql declared 10^15, small body', bigGraphqlBody(100), {
        as,
        framing: { kind: 'declared', value: '1000000000000000' },
      }),
    () =>
      graphqlPost(random, target, 'graphql odd Content-Length', bigGraphqlBody(100), {
        as,
        framing: {
          kind: 'declared',
          value: random.pick(['-1', 'abc', '1e3', '100, 100', '100, 70000', ' 100', '0x64']),
        },
      }),
    () => {
      const draft = graphqlPost(random, target, 'graphql Content-Length and chunked', bigGraphqlBody(size), { as })
      return { ...draft, headers: [...draft.headers, ['transfer-encoding', 'chunked']] }
    },
    () => {
      const provider = random.pick(['finqware', 'worldline/notification/status', 'yapily'])
      const framing = random.pick<Framing>([{ kind: 'length' }, { kind: 'chunked' }])
      return plain(
        `webhook ${provider} ${size} B ${framing.kind}`,
        'POST',
        `/webhooks/${provider}`,
        [['content-type', 'application/json']],
        bigGraphqlBody(size),
        framing,
      )
    },
    () =>
      plain(
        `unknown path ${size} B`,
        'POST',
        '/upload',
        [['content-type', 'application/octet-stream']],
        bigGraphqlBody(size),
      ),
    () =>
      graphqlGet(random, target, 'graphql GET query string 20 kB', {
        query: `{ providers { provider } } #${'x'.repeat(20_000)}`,
      }),
    () => plain('header block 20 kB', 'GET', '/healthz', [['x-filler', 'x'.repeat(20_000)]], null),
  ])()
}

/** The stalled cases, in turn: a body or a header block started and never finished. */
export function stalledBody(random: Random, target: FuzzTarget, turn: number): Draft {
  const authorization = target.authorization.A
  const partial = (name: string, path: string, declared: number, sent: string) =>
    raw(
      name,
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nauthorization: ${authorization}\r\n` +
        `content-length: ${declared}\r\n\r\n${sent}`,
    )
  const cases: (() => Draft)[] = [
    () => partial('graphql body 20 of 2000 B', '/graphql', 2_000, '{"query": "{ provide'),
    () => partial('webhook body 10 of 5000 B', '/webhooks/finqware', 5_000, '{"type": "c'),
    () =>
      raw(
        'webhook chunked, first chunk only',
        'POST /webhooks/worldline/notification/status HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n10\r\n{"eventType": "',
      ),
    () =>
      raw(
        'graphql header block unfinished',
        `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${authorization}\r\n`,
      ),
    () => partial('graphql body 0 of 60000 B', '/graphql', 60_000, ''),
    () => raw('request line unfinished', 'GET /callbacks/yapily/abc?x='),
    // Read as an HTTP/1.x request line whose headers never come.
    () => raw('HTTP/0.9 request', 'GET /\r\n'),
  ]
  return cases[turn % cases.length]!()
}
export function routes(random: Random, target: FuzzTarget): Draft {
  const junkJson = () =>
    random.pick([
      '{}',
      '',
      'not json',
      '{"type": "consent_status_update", "consent_id": "x", "status": "revoked"}',
      '{"eventType": "ConsentStatusChanged", "consentId": "x"}',
      '[{"type": "consent.status", "data": {}}]',
      JSON.stringify({ a: nastyString(random, 30) }),
    ])
  const provider = random.pick(['finqware', 'worldline', 'yapily'])
  return random.pick<() => Draft>([
    () =>
      plain(
        'webhook junk',
        'POST',
        `/webhooks/${provider}${provider === 'worldline' ? '/notification/status' : ''}`,
        [
          ['content-type', 'application/json'],
          ...random.pick<[string, string][]>([
            [],
            [['x-signature', 'eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.e30.c2ln']],
            [['authorization', 'Bearer forged']],
            [
              ['webhook-signature', 'v1,Zm9yZ2Vk'],
              ['webhook-id', 'msg_1'],
              ['webhook-timestamp', '1'],
            ],
          ]),
        ],
        junkJson(),
      ),
    () =>
      plain(
        'webhook wrong method',
        random.pick(['GET', 'PUT', 'DELETE', 'OPTIONS']),
        `/webhooks/${provider}`,
        [],
        null,
      ),
    () =>
      plain(
        'webhook unknown provider',
        'POST',
        `/webhooks/${random.pick(['FINQWARE', 'nope', '', 'finqware/../yapily'])}`,
        [],
        '{}',
      ),
    () =>
      plain(
        'webhook sub-path',
        'POST',
        `/webhooks/${provider}/${random.pick(['x', '../../graphql', '%2e%2e', 'notification/status/extra'])}`,
        [],
        '{}',
      ),
    () =>
      plain(
        'callback junk',
        random.pick(['GET', 'GET', 'POST', 'HEAD']),
        `/callbacks/${provider}/${random.pick([
          'abc',
          'x'.repeat(256),
          'x'.repeat(257),
          'eyJhbGciOiJIUzI1NiJ9.e30.sig',
          '..',
          'a.b.c',
        ])}?${random.pick(['', 'consent=1&code=x', 'error=access_denied', 'state=%00', 'a='.repeat(500)])}`,
        [],
        null,
      ),
    () =>
      plain(
        'unknown path',
        random.pick(['GET', 'POST']),
        random.pick([
          '/',
          '/graphql/',
          '/GRAPHQL',
          '//graphql',
          '/graphql;x',
          '/graphql%00',
          '/../../etc/passwd',
          '/.env',
          '/admin',
          '/healthz/',
          `/${'a'.repeat(8_000)}`,
        ]),
        [],
        null,
      ),
    () => plain('healthz', random.pick(['GET', 'HEAD', 'POST']), random.pick(['/healthz', '/healthz?x=1']), [], null),
    () =>
      plain(
        'odd method on /graphql',
        random.pick(['PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'FOO', 'OPTIONS', 'HEAD']),
        '/graphql',
        [
          ['authorization', target.authorization.A],
          ['content-type', 'application/json'],
        ],
        '{"query": "{ providers { provider } }"}',
      ),
    () =>
      plain(
        'CORS preflight',
        'OPTIONS',
        '/graphql',
        [
          ['origin', random.pick(['https://evil.example', 'null', 'http://127.0.0.1:1'])],
          ['access-control-request-method', 'POST'],
          ['access-control-request-headers', 'authorization, content-type'],
        ],
        null,
      ),
    () =>
      raw(
        'absolute-form target',
        `GET http://evil.example/graphql HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n`,
      ),
    () => raw('asterisk target', `OPTIONS * HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`),
    () => raw('HTTP/1.0 without host', `GET /healthz HTTP/1.0\r\n\r\n`),
    () => raw('HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    () => raw('lowercase method', `get /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`),
    () => raw('bare LF', `GET /healthz HTTP/1.1\nhost: x\nconnection: close\n\n`),
    () => raw('header without colon', `GET /healthz HTTP/1.1\r\nhost: x\r\nbroken header\r\nconnection: close\r\n\r\n`),
    () =>
      raw(
        'obsolete line folding',
        `GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  folded\r\nconnection: close\r\n\r\n`,
      ),
    () => raw('NUL in header', `GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: a\u0000b\r\nconnection: close\r\n\r\n`),
    () =>
      raw(
        'pipelined requests',
        `GET /healthz HTTP/1.1\r\nhost: x\r\n\r\nPOST /graphql HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`,
      ),
    () =>
      raw(
        'expect 100-continue',
        `POST /graphql HTTP/1.1\r\nhost: x\r\nauthorization: ${target.authorization.A}\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`,
      ),
    () =>
      raw(
        'expect junk',
        `POST /graphql HTTP/1.1\r\nhost: x\r\nexpect: 200-ok\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`,
      ),
  ])()
}
