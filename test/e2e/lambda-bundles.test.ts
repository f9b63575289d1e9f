// e2e through the deployable artefacts: the functions built exactly as SST bundles them (scripts/bundling.ts),
// run by a stand-in Lambda runtime that hands them real Function URL / HTTP API events (payload 2.0) and REST API
// events (payload 1.0) and streams their responses. GraphQL-over-HTTP audits, a consent from creation to ACTIVE via
// the public API function (webhooks, callbacks), an SSE subscription and an Apollo multipart one that stream
// incrementally and end at the invocation's deadline (behind a Function URL and behind a REST API), and the job
// functions invoked with a table-stream batch and schedule events.
import { execFile } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { marshall } from '@aws-sdk/util-dynamodb'
import { serverAudits } from 'graphql-http'
import { Webhook } from 'standardwebhooks'
import { monotonicFactory } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { startFinqwareSandbox, type FinqwareSandbox } from '../../sandbox/finqware/server.ts'
import { buildAllFunctions, type BuiltFunction } from '../../scripts/build-functions.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { AccessRepository } from '../../store/access-repository.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { aConsent, writeConsentWithTransitions } from '../support/fixtures.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'
import { RecordingReceiver } from '../support/webhook-receiver.ts'
import { startLambdaFront, type LambdaFront } from '../support/lambda-fronts.ts'
import { startYapilyHarness, type YapilyHarness } from '../support/provider-drivers.ts'
import { decideAtBank, eventually } from '../support/stack.ts'

const CLIENT = {
  tenantId: '01JD0TENANTLAMBDA000000000A',
  clientId: 'lambda-client',
  clientSecret: 'lambda-secret-0123456789abcdef',
}
const AUTH = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`

let built: Record<string, BuiltFunction>
let finqware: FinqwareSandbox
let yapily: YapilyHarness
let providerApi: LambdaFront
let graphql: LambdaFront
let shortGraphql: LambdaFront
let restGraphql: LambdaFront
let table: TestTable
let env: Record<string, string>

beforeAll(async () => {
  built = Object.fromEntries((await buildAllFunctions('dist/functions-test')).map((fn) => [fn.name, fn]))
  table = await createTestTable()
  await provisionApiClient(
    new AccessRepository(table.db, table.tableName),
    { ...CLIENT, tenantName: 'Lambda' },
    new Date(),
  )
  // Providers and browsers reach the webhook and callback functions here (on AWS: the HTTP API).
  const apiPort = await freePort()
  const publicBaseUrl = `http://127.0.0.1:${apiPort}`
  finqware = await startFinqwareSandbox({ activationDelayMs: 50, webhookRetry: { baseDelayMs: 50, maxDelayMs: 500 } })
  yapily = await startYapilyHarness({ callbackPrefix: `${publicBaseUrl}/callbacks/yapily/` })
  const worldlineKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  env = {
    TABLE_NAME: table.tableName,
    DYNAMODB_ENDPOINT: table.endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: 'SILENT',
    PUBLIC_BASE_URL: publicBaseUrl,
    CURSOR_SECRET: 'lambda-cursor-secret-0123456789abcdef',
    USER_REFERENCE_KEY: 'lambda-user-reference-key-0123456789abcdef',
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SUBSCRIPTION_POLL_INTERVAL_MS: '100',
    FINQWARE_BASE_URL: finqware.url,
    FINQWARE_CLIENT_ID: 'sandbox-client',
    FINQWARE_CLIENT_SECRET: 'sandbox-secret',
    // Configured but unused here: its adapter is never loaded, as a Lambda that never meets a provider never does.
    WORLDLINE_BASE_URL: 'http://127.0.0.1:9',
    WORLDLINE_CLIENT_ID: 'unused',
    WORLDLINE_KEY_ID: 'unused',
    WORLDLINE_INITIATING_PARTY_ID: '433',
    WORLDLINE_PRIVATE_KEY: worldlineKey.privateKey
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
      .replace(/\n/g, '\\n'),
    WORLDLINE_NOTIFICATION_TOKEN: 'unused',
    YAPILY_BASE_URL: yapily.adapterConfig.baseUrl,
    YAPILY_APPLICATION_KEY: yapily.adapterConfig.applicationKey,
    YAPILY_APPLICATION_SECRET: yapily.adapterConfig.applicationSecret,
  }
  providerApi = await startLambdaFront({
    port: apiPort,
    env,
    routes: [
      `POST /webhooks/*=${built['public-api']?.entry}`,
      `GET /callbacks/*=${built['public-api']?.entry}`,
      `GET /healthz=${built['public-api']?.entry}`,
    ],
  })
  graphql = await startLambdaFront({ env, routes: [`* /*=${built.graphql?.entry}`] })
  // A function whose invocations last 5 s: subscriptions must end cleanly before that.
  shortGraphql = await startLambdaFront({ env, timeoutMs: 5_000, routes: [`* /*=${built.graphql?.entry}`] })
  // The same, behind a REST API in streaming mode: payload 1.0 events.
  restGraphql = await startLambdaFront({
    env,
    timeoutMs: 5_000,
    payload: '1.0',
    routes: [`* /*=${built.graphql?.entry}`],
  })
}, 90_000)

/** One invocation of a non-HTTP function (a schedule's, the table stream's) in a fresh process; its result. */
async function invokeWithEvent(name: string, event: unknown, extraEnv: Record<string, string> = {}) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['scripts/lambda-runtime.mjs', '--bundle', built[name]?.entry ?? '', '--event', JSON.stringify(event)],
    { env: { PATH: process.env.PATH ?? '', ...env, ...extraEnv } },
  )
  return (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { result: unknown }).result
}

afterAll(async () => {
  await Promise.all([providerApi?.stop(), graphql?.stop(), shortGraphql?.stop(), restGraphql?.stop()])
  await finqware?.close()
  await yapily?.teardown()
})

async function gql(query: string, variables: Record<string, unknown> = {}, front = graphql) {
  const response = await fetch(`${front.url}/graphql`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  })
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { data?: any; errors?: any[] },
  }
}

describe('the built Lambda bundles', () => {
  it('stay within 1.5 MB for GraphQL, everything included', () => {
    expect(built.graphql?.totalBytes).toBeLessThan(1.5 * 1024 * 1024)
  })

  it('pass every graphql-http server audit through the Lambda adapter', async () => {
    const audits = serverAudits({
      url: `${graphql.url}/graphql`,
      fetchFn: (url: RequestInfo | URL, init?: RequestInit) =>
        fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: AUTH } }),
    })
    const results = []
    for (const audit of audits) results.push(await audit.fn())
    const notOk = results.filter((result) => result.status !== 'ok')
    console.log(
      `graphql-http audits through the Lambda adapter: ${results.length - notOk.length} of ${results.length} ok`,
    )
    for (const failure of notOk) console.log('AUDIT', failure.id, failure.name, failure.reason)
    expect(notOk).toEqual([])
  })

  it('answers without credentials with 401, and echoes the request id', async () => {
    const response = await fetch(`${graphql.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'lambda-test-1' },
      body: JSON.stringify({ query: '{ providers { provider } }' }),
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('x-request-id')).toBe('lambda-test-1')
  })

  it('answers a document alike on every run, interpreted at first and compiled later (its own chunk), wrong variables too', async () => {
    // Act: the document is compiled on its second run, once the compiler's chunk has loaded
    const query = 'query ($id: ID!) { consent(id: $id) { __typename ... on Error { code } } }'
    const runs: unknown[] = []
    for (let run = 0; run < 6; run++) {
      const right = await gql(query, { id: 'consent_01J00000000000000000000000' })
      const wrong = await gql(query, { id: { not: 'an id' } })
      const { errors = [] } = wrong.body
      runs.push({
        right: right.body,
        wrong: [wrong.status, errors.map(({ message, locations }) => ({ message, locations }))],
      })
    }

    // Assert
    expect(runs[0]).toEqual({
      right: expect.objectContaining({
        data: { consent: { __typename: 'ConsentNotFoundError', code: 'CONSENT_NOT_FOUND' } },
      }),
      wrong: [
        400,
        [
          {
            message: 'Variable "$id" got invalid value { not: "an id" }; ID cannot represent value: { not: "an id" }',
            locations: [{ line: 1, column: 8 }],
          },
        ],
      ],
    })
    expect(runs.slice(1)).toEqual(runs.slice(1).map(() => runs[0]))
  })

  it('takes a Finqware consent to ACTIVE: GraphQL function, bank page, public API function (webhook)', async () => {
    const created = await gql(
      `mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "lambda-user", region: EEA}) { ... on CreateConsentPayload { consent { id status authorizationUrl } } ... on Error { code message } } }`,
    )
    const consent = created.body.data?.createConsent.consent
    expect(consent?.status).toBe('CREATED')
    await decideAtBank(consent.authorizationUrl, 'approve')
    await eventually(async () => {
      const read = await gql(`query ($id: ID!) { consent(id: $id) { ... on Consent { status } } }`, { id: consent.id })
      return read.body.data?.consent.status === 'ACTIVE'
    })
  })

  it('takes a Yapily consent to ACTIVE through the public API function (callback), which sends the browser on', async () => {
    const created = await gql(
      `mutation { createConsent(input: {provider: YAPILY, institutionId: "modelo-sandbox", userId: "lambda-y", region: UK, redirectUrl: "https://partner.example/done"}) { ... on CreateConsentPayload { consent { id authorizationUrl } } ... on Error { code message } } }`,
    )
    const consent = created.body.data?.createConsent.consent
    const atBank = await decideAtBank(consent.authorizationUrl, 'approve')
    expect(atBank.location).toContain(`${providerApi.url}/callbacks/yapily/`)
    const callback = await fetch(atBank.location ?? '', { redirect: 'manual' })
    expect(callback.status).toBe(302)
    expect(callback.headers.get('location')).toBe(`https://partner.example/done?consent_id=${consent.id}&status=ACTIVE`)
  })

  it('answers /healthz through the public API function', async () => {
    const response = await fetch(`${providerApi.url}/healthz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok', store: 'ok' })
  })

  it('refuses an unsigned webhook through the public API function with 401', async () => {
    const response = await fetch(`${providerApi.url}/webhooks/finqware`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'consent_status_update', consent_id: 'x', status: 'active' }),
    })
    expect(response.status).toBe(401)
  })

  it('runs the jobs: the outbox relay delivers a stream batch as signed webhooks; the scheduled jobs report', async () => {
    // Prepare: a consent with two changes, each with its outbox item, as the GraphQL function writes them; a partner
    // endpoint on loopback (so the job functions run in local mode, which allows it)
    const receiver: RecordingReceiver = await RecordingReceiver.start()
    try {
      const newId = monotonicFactory()
      const consent = await writeConsentWithTransitions(
        new ConsentRepository(table.db, table.tableName),
        aConsent({
          id: newId(),
          tenantId: CLIENT.tenantId,
          providerConsentId: `fq-${newId()}`,
          webhookUrl: receiver.url,
          createdAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
        }),
        ['ACTIVE'],
        newId,
      )
      // The stream batch AWS would hand the relay: the two outbox inserts, and a consent update it must ignore
      const items = (await table.scanAll()).filter((item) => String(item.pk).endsWith(consent.id))
      const record = (item: Record<string, unknown>, i: number, eventName = 'INSERT') => ({
        eventID: `e${i}`,
        eventName,
        eventSource: 'aws:dynamodb',
        dynamodb: {
          Keys: marshall({ pk: item.pk, sk: item.sk }),
          NewImage: marshall(item, { removeUndefinedValues: true }),
          SequenceNumber: String(100 + i),
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      })
      const records = [
        ...items.filter((item) => item.entityType === 'OUTBOX').map((item, i) => record(item, i)),
        record(items.find((item) => item.entityType === 'CONSENT') ?? {}, 9, 'MODIFY'),
      ]
      // Act
      const relayed = await invokeWithEvent('outbox-relay', { Records: records }, { LOCAL_MODE: 'true' })
      // Assess: both delivered, in order, with signatures the tenant's secret verifies
      expect(relayed).toEqual({ batchItemFailures: [] })
      const secret = (await gql('{ webhookSettings { signingSecrets { secret } } }')).body.data?.webhookSettings
        .signingSecrets[0].secret as string
      expect(receiver.received.map((webhook) => webhook.body.sequence)).toEqual([1, 2])
      for (const webhook of receiver.received) {
        expect(new Webhook(secret).verify(webhook.text, webhook.headers as Record<string, string>)).toEqual(
          webhook.body,
        )
      }
      // The scheduled jobs run and report what they did: no deadline is due; the retry job finds the messages of
      // this file's other consents, which have no endpoint (recorded as such, nothing sent)
      expect(await invokeWithEvent('sweep-deadlines', {})).toEqual({ read: 0, changed: 0, skipped: 0 })
      expect(await invokeWithEvent('deliver-webhooks', {}, { LOCAL_MODE: 'true' })).toMatchObject({
        delivered: 0,
        failed: 0,
        deadLettered: 0,
      })
      expect(receiver.received).toHaveLength(2)
      expect(await invokeWithEvent('reconcile', {})).toMatchObject({ failed: 0 })
    } finally {
      await receiver.close()
    }
  })

  it.each([
    ['a Function URL (payload 2.0)', () => shortGraphql],
    ['a REST API (payload 1.0)', () => restGraphql],
  ])(
    'streams a subscription event by event behind %s, ending it cleanly before the deadline',
    async (_front, front) => {
      // Prepare: a consent to watch
      const created = await gql(
        `mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "lambda-sse", region: EEA}) { ... on CreateConsentPayload { consent { id } } } }`,
      )
      const id = created.body.data?.createConsent.consent.id as string

      // Act: subscribe over SSE on a function with a 5 s timeout; read the raw stream with arrival times
      const started = Date.now()
      const response = await fetch(`${front().url}/graphql`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: `subscription { consentUpdated(id: "${id}") { status version } }` }),
      })
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const arrivals: { at: number; text: string }[] = []
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        arrivals.push({ at: Date.now() - started, text: new TextDecoder().decode(value) })
      }
      const ended = Date.now() - started

      // Assess: the current state arrives at once, the stream completes by itself before the 5 s are up
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/text\/event-stream/)
      const firstEvent = arrivals.find((arrival) => arrival.text.includes('"consentUpdated"'))
      expect(firstEvent?.text).toContain('"status":"CREATED"')
      expect(firstEvent?.at).toBeLessThan(ended - 1_000)
      expect(arrivals.map((arrival) => arrival.text).join('')).toMatch(/event: complete/)
      expect(ended).toBeLessThan(5_000)
      console.log(
        `SSE through the Lambda adapter (${_front}): first event after ${firstEvent?.at} ms, complete after ${ended} ms (timeout 5000 ms)`,
      )
    },
  )

  it.each([
    ['a Function URL (payload 2.0)', () => shortGraphql],
    ['a REST API (payload 1.0)', () => restGraphql],
  ])(
    "streams Apollo's multipart subscription part by part behind %s, closing it before the deadline",
    async (_front, front) => {
      // Prepare: a consent to watch
      const created = await gql(
        `mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "lambda-multipart", region: EEA}) { ... on CreateConsentPayload { consent { id } } } }`,
      )
      const id = created.body.data?.createConsent.consent.id as string

      // Act: subscribe as Apollo iOS 2 does, on a function with a 5 s timeout; read the raw stream with arrival times
      const started = Date.now()
      const response = await fetch(`${front().url}/graphql`, {
        method: 'POST',
        headers: {
          authorization: AUTH,
          'content-type': 'application/json',
          accept: 'multipart/mixed;subscriptionSpec="1.0",application/json',
        },
        body: JSON.stringify({ query: `subscription { consentUpdated(id: "${id}") { status version } }` }),
      })
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const arrivals: { at: number; text: string }[] = []
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        arrivals.push({ at: Date.now() - started, text: new TextDecoder().decode(value) })
      }
      const ended = Date.now() - started

      // Assess: the current state arrives as the first part at once; the answer closes with its delimiter in time
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"')
      const firstPart = arrivals.find((arrival) => arrival.text.includes('"consentUpdated"'))
      expect(firstPart?.text).toContain(
        '{"payload":{"data":{"consentUpdated":{"status":"CREATED","version":1}},"extensions":{"cost":{"requested":5,"limit":5000}}}}',
      )
      expect(firstPart?.at).toBeLessThan(ended - 1_000)
      expect(arrivals.map((arrival) => arrival.text).join('')).toMatch(/\r\n--graphql--\r\n$/)
      expect(ended).toBeLessThan(5_000)
      console.log(
        `Apollo multipart through the Lambda adapter (${_front}): first part after ${firstPart?.at} ms, closed after ${ended} ms (timeout 5000 ms)`,
      )
    },
  )
})
