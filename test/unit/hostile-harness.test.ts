// offline: the hostile-traffic harness itself (test/support/hostile/) can fail: its requests replay from (seed,
// index), its response parser reads every framing, and its verdicts catch stacks, codeless errors, leaks, accepted
// URLs and 5xx outside a store outage, while excusing what the client itself sent.
import { describe, expect, it } from 'vitest'
import type { StoreOutageResult } from '../support/hostile/campaign.ts'
import { CATEGORIES } from '../support/hostile/hostile-request.ts'
import { mustRefuseUrl, type FuzzTarget } from '../support/hostile/payloads.ts'
import { Random } from '../support/hostile/random.ts'
import { brokenRules } from '../support/hostile/report.ts'
import { hostileRequest, STALL_EVERY } from '../support/hostile/requests.ts'
import { judge, type Secrets } from '../support/hostile/verdict.ts'
import { encodeRequest, parseResponse, type Answer } from '../support/hostile/wire.ts'

const target: FuzzTarget = {
  gatewayPort: 4000,
  ownPorts: [
    { name: 'gateway', port: 4000 },
    { name: 'dynamodb local', port: 8000 },
  ],
  authorization: { A: 'Basic YTpi', B: 'Basic Yzpk' },
  outageAuthorization: 'Basic ZTpm',
  clientIds: { A: 'client-alpha', B: 'client-bravo' },
  consentIds: { A: 'consent_01JD0000000000000000000001', B: 'consent_01JD0000000000000000000002' },
  foreignCursor: 'cursor-of-b',
}
const secrets: Secrets = { internalNames: ['test-table-1'], tenantBMarkers: ['bravo-private-user'] }

const http = (head: string, body = '') => Buffer.from(`${head}\r\n\r\n${body}`, 'latin1')
const answer = (body: string, headers: Record<string, string> = {}, status = 200): Answer => ({
  outcome: 'answered',
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(body),
  ms: 5,
  socketError: null,
})
const graphqlRequest = () => hostileRequest(7, 1, target) // any request to /graphql will do for judging
const judged = (body: string, options: { requestText?: string; headers?: Record<string, string> } = {}) => {
  const request = { ...graphqlRequest(), target: '/graphql', raw: undefined, actsAs: 'A' as const }
  return judge(request, answer(body, options.headers), {
    phase: 'fuzz',
    sentAt: 0,
    secrets,
    requestText: options.requestText ?? '',
  })
}

describe('hostile requests', () => {
  it('are the same bytes for the same seed and index, and differ across indexes', () => {
    const again = (index: number) => encodeRequest(hostileRequest(42, index, target))
    expect(again(17).equals(again(17))).toBe(true)
    expect(new Random(42, 17).next()).toBe(new Random(42, 17).next())
    const distinct = new Set(Array.from({ length: 200 }, (_, i) => again(i).toString('latin1')))
    expect(distinct.size).toBeGreaterThan(150)
  })

  it('cover every fuzz category in 3,000, with the stalled bodies few and at fixed places', () => {
    const requests = Array.from({ length: 3_000 }, (_, i) => hostileRequest(20_260_601, i, target))
    const categories = new Set(requests.map((request) => request.category))
    expect([...categories].sort()).toEqual(CATEGORIES.filter((c) => c !== 'store-outage').sort())
    const stalled = requests.filter((request) => request.category === 'stalled-body')
    expect(stalled.map((request) => request.index % STALL_EVERY)).toEqual(stalled.map(() => STALL_EVERY / 2))
    expect(stalled.length).toBeLessThanOrEqual(10)
  })
})

describe('the response parser', () => {
  it('reads a length-framed answer once all of it is there', () => {
    const data = http('HTTP/1.1 200 OK\r\ncontent-length: 5', 'hello')
    expect(parseResponse(data.subarray(0, data.length - 1), false, false)?.complete).toBe(false)
    expect(parseResponse(data, false, false)).toMatchObject({ status: 200, complete: true })
  })

  it('de-chunks a chunked answer and waits for its last chunk', () => {
    const data = http('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked', '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n')
    expect(parseResponse(data, false, false)).toMatchObject({ complete: true, body: Buffer.from('abcde') })
    expect(parseResponse(data.subarray(0, data.length - 5), false, false)?.complete).toBe(false)
  })

  it('skips 100 Continue, and takes an answer without a length as complete only when the connection ends', () => {
    const data = Buffer.concat([http('HTTP/1.1 100 Continue'), http('HTTP/1.1 400 Bad Request\r\nconnection: close')])
    expect(parseResponse(data, false, false)).toMatchObject({ status: 400, complete: false })
    expect(parseResponse(data, true, false)).toMatchObject({ status: 400, complete: true })
    expect(parseResponse(Buffer.from('garbage'), true, false)).toBeNull()
  })
})

describe('verdicts', () => {
  it('catch a stack trace, a system error and a store name', () => {
    const stack = 'Error: connect ECONNREFUSED 127.0.0.1:8000\n    at TCPConnectWrap.afterConnect (node:net:1611:16)'
    expect(judged(stack).internalText).toEqual(
      expect.arrayContaining(['stack frame', 'error prefix', 'system error code', 'node internals']),
    )
    expect(judged('{"errors":[{"message":"ResourceNotFoundException in test-table-1"}]}').internalText).toEqual([
      'store vocabulary',
      'internal name test-table-1',
    ])
    expect(judged('{"extensions":{"originalError":{"name":"SyntaxError"}}}').internalText).toEqual(['error class'])
  })

  it("excuse GraphQL's own syntax messages and echoes of what the client sent", () => {
    expect(
      judged('{"errors":[{"message":"Syntax Error: Unexpected <EOF>.","extensions":{"code":"X"}}]}').internalText,
    ).toEqual([])
    expect(
      judged('{"data":{"consent":{"consentId":"TypeError: x"}}}', { requestText: 'TypeError: x' }).internalText,
    ).toEqual([])
  })

  it('count GraphQL errors without a code, and INTERNAL_SERVER_ERROR', () => {
    const verdict = judged(
      '{"errors":[{"message":"a"},{"message":"b","extensions":{"code":"INTERNAL_SERVER_ERROR"}},{"message":"c","extensions":{"code":"X"}}]}',
    )
    expect(verdict).toMatchObject({ codelessErrors: 1, internalErrors: 1 })
    expect(judged('{"errors":[', {}).codelessErrors).toBe(1)
    const stream = judged('event: next\ndata: {"errors":[{"message":"a"}]}\n\n', {
      headers: { 'content-type': 'text/event-stream' },
    })
    expect(stream.codelessErrors).toBe(1)
  })

  it("see tenant B's data in an answer to anyone else, and an accepted partner URL", () => {
    expect(judged('{"data":{"consent":{"userId":"bravo-private-user"}}}').leak).toBe(true)
    const request = {
      ...graphqlRequest(),
      target: '/graphql',
      raw: undefined,
      actsAs: 'A' as const,
      url: { field: 'setWebhookEndpoint' as const, value: 'http://127.0.0.1:4000/', mustRefuse: true },
    }
    const verdict = judge(
      request,
      answer('{"data":{"setWebhookEndpoint":{"__typename":"SetWebhookEndpointPayload"}}}'),
      {
        phase: 'fuzz',
        sentAt: 0,
        secrets,
        requestText: '',
      },
    )
    expect(brokenRules(verdict, null)).toEqual(['urlAccepted'])
  })

  it('allow a 503 only for a request that overlaps the store outage, and never a 500', () => {
    const outage: StoreOutageResult = { verdicts: [], stoppedAt: 1_000, restartedAt: 2_000, recoveredAt: 3_000 }
    const at = (status: number, sentAt: number) => ({ ...judged('{}'), status, sentAt, answeredAt: sentAt + 10 })
    expect(brokenRules(at(503, 1_500), outage)).toEqual([])
    expect(brokenRules(at(503, 995), outage)).toEqual([])
    expect(brokenRules(at(503, 500), outage)).toEqual(['serverError'])
    expect(brokenRules(at(503, 3_001), outage)).toEqual(['serverError'])
    expect(brokenRules(at(500, 1_500), outage)).toEqual(['serverError'])
    expect(brokenRules(at(503, 1_500), null)).toEqual(['serverError'])
  })
})

describe('mustRefuseUrl', () => {
  it.each([
    'http://127.0.0.1:4000/graphql',
    'http://2130706433:4000/',
    'http://0x7f.1:8000/',
    'http://localhost.:4000/',
    'http://[::ffff:127.0.0.1]:4000/',
    'http://[::1]:8000/',
    ' http://127.0.0.1:4000/ ',
    'https://partner.example@127.0.0.1:4000/',
    'http://0.0.0.0:9/',
    'https://169.254.169.254/latest',
    'https://2852039166/',
    'https://[fe80::1]/',
    'https://10.0.0.1/',
    'gopher://partner.example/',
  ])('refuses %s', (url) => {
    expect(mustRefuseUrl(url, [4000, 8000])).toBe(true)
  })

  it.each([
    'https://partner.example/hooks',
    'http://127.0.0.1:9/hooks',
    'https://metadata.google.internal/',
    'not a url',
  ])('leaves %s to the gateway', (url) => {
    expect(mustRefuseUrl(url, [4000, 8000])).toBe(false)
  })
})
