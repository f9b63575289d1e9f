// contract: the Yapily adapter against the Yapily sandbox through the recording proxy, every request the adapter sends
// and every answer the sandbox gives held against Yapily API 12.13.0 (test/contract/schemas/yapily/), and every webhook
// the sandbox sent held against what that document publishes of a delivery (its metadata). The spec wins.
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import formatsModule from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createYapilyAdapter, type YapilyAdapter } from '../../providers/yapily/adapter.ts'
import type { YapilyConfig } from '../../providers/yapily/config.ts'
import { startYapilySandbox, type YapilySandbox } from '../../sandbox/yapily/server.ts'
import {
  aConsentRequest,
  institutionOf,
  rejectionOf,
  SANDBOX_CONTROL_SECRET,
  sandboxControl,
  submitBankDecision,
  testCallContext,
} from '../support/provider-drivers.ts'
import { toJsonSchema, type JsonObject } from '../../scripts/json-schema.ts'
import { startRecordingProxy, startRecordingReceiver, type Recorder } from './support/recording-proxy.ts'
import { ContractTally, ContractValidator } from './support/validate.ts'

const APPLICATION = {
  key: 'contract-app-key',
  secret: 'contract-app-secret',
  id: '7c1f3a52-9d4e-4b6a-8f20-5e3b1c9d0a47',
}
const CALLBACKS = 'https://gateway.example/callbacks/yapily/'

/** The adapter's operations this suite drives, each at least once: N and M must be at least this. */
const OPERATIONS = [
  'GET /institutions',
  'POST /account-auth-requests',
  'GET /consents/{consentId}',
  'GET /accounts',
  'GET /consents (one consent per account)',
  'POST /consents/{consentId}/extend',
  'PATCH /account-auth-requests',
  'DELETE /consents/{consentId}',
  'POST /webhook/events',
] as const

const validator = new ContractValidator({ provider: 'yapily' })
const tally = new ContractTally()

let sandbox: YapilySandbox
let proxy: Recorder
let webhooks: Recorder
let config: YapilyConfig
let adapter: YapilyAdapter

const control = (path: string, body?: unknown) => sandboxControl(sandbox.url, path, body)
const basic = `Basic ${Buffer.from(`${APPLICATION.key}:${APPLICATION.secret}`).toString('base64')}`

beforeAll(async () => {
  webhooks = await startRecordingReceiver()
  sandbox = await startYapilySandbox({
    applications: [APPLICATION],
    callbacks: [CALLBACKS],
    controlSecret: SANDBOX_CONTROL_SECRET,
    webhookRetry: { baseDelayMs: 10, maxDelayMs: 50, attemptTimeoutMs: 2_000 },
  })
  proxy = await startRecordingProxy(sandbox.url)
  // Registering our webhook is an operator's step, done once through Yapily's API: it crosses the proxy too.
  const registered = await fetch(`${proxy.url}/webhook/events`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      applicationId: APPLICATION.id,
      categories: ['consent.status'],
      callbackUrl: { main: { url: `${webhooks.url}/yapily` } },
      metadata: { stage: 'contract' },
    }),
  })
  const webhookSecret = ((await registered.json()) as { data: { webhookSecret: string } }).data.webhookSecret
  config = {
    baseUrl: proxy.url,
    applicationKey: APPLICATION.key,
    applicationSecret: APPLICATION.secret,
    webhookSecret,
    http: { backoffBaseMs: 10, backoffMaxMs: 50 },
  }
  adapter = createYapilyAdapter(config)
})

afterAll(async () => {
  await proxy?.close()
  await sandbox?.close()
  await webhooks?.close()
})

async function authorised(institutionId: string, userRef: string) {
  const institution = await institutionOf(adapter, institutionId)
  const request = aConsentRequest(adapter, institution, `${webhooks.url}/unused`, { userRef })
  const created = await adapter.create({ ...request, callbackUrl: `${CALLBACKS}${userRef}` }, testCallContext())
  const atBank = await submitBankDecision(created.authorizationUrl ?? '', 'approve')
  const brought = adapter.readCallback(new URL(atBank.location ?? '').searchParams)
  const ref = { providerConsentId: created.providerConsentId, userRef, institutionId }
  const read = await adapter.fetch({ ...ref, callbackSecrets: brought.secrets ?? [] }, testCallContext())
  return { ref: { ...ref, secret: read.secret ?? null }, read }
}

describe('the Yapily adapter against Yapily API 12.13.0', () => {
  it('lists institutions, creates, reads (with the data call), reconfirms, re-authorises and deletes', async () => {
    expect((await adapter.listInstitutions(testCallContext())).length).toBeGreaterThan(0)
    const { ref, read } = await authorised('modelo-sandbox', 'contract-lifecycle')
    expect(read).toMatchObject({ status: 'ACTIVE' })

    // A day on, the user reconfirms: later than the authorisation's lastConfirmedAt, and not in Yapily's future.
    await control('clock', { advanceSeconds: 24 * 3600 })
    // A read first, as the service does before reconfirming: the adapter learns Yapily's moved clock from its Date.
    await adapter.fetch(ref, testCallContext())
    const now = new Date((await control('clock')).now as string)
    expect(await adapter.reconfirm(ref, new Date(now.getTime() - 1_000), testCallContext())).toMatchObject({
      status: 'ACTIVE',
    })
    expect(await adapter.reauthorize(ref, testCallContext())).toMatchObject({ status: 'AWAITING_REAUTHORIZATION' })
    expect((await adapter.remove(ref, testCallContext())).snapshot).toMatchObject({ status: 'REVOKED' })
  })

  it('keeps every consent of a bank that returns one consent per account, and deletes them all', async () => {
    const { ref, read } = await authorised('per-account-gb-sandbox', 'contract-per-account')
    expect(read.secret).not.toBeNull()
    expect((await adapter.remove(ref, testCallContext())).deleteStatus).toBe('SUCCESS')
  })

  it('reads a lapsed UK reconfirmation (403 on the data call) and a revocation at the bank', async () => {
    const lapsed = await authorised('modelo-sandbox', 'contract-lapsed')
    await control(`consents/${lapsed.ref.providerConsentId}/long-lived`, {})
    await control('clock', { set: new Date(Date.parse(lapsed.read.reconfirmBy ?? '') + 60_000).toISOString() })
    expect(await adapter.fetch(lapsed.ref, testCallContext())).toMatchObject({ status: 'ACTIVE' })

    const revoked = await authorised('modelo-sandbox', 'contract-revoked-at-bank')
    await control(`consents/${revoked.ref.providerConsentId}/revoke-at-bank`, {})
    expect(await adapter.fetch(revoked.ref, testCallContext())).toMatchObject({ reason: 'REVOKED_AT_BANK' })
  })

  it('reads the refusals: unknown institution, wrong credentials, a refused extend, an unsupported re-authorisation', async () => {
    const atlantis = { id: 'atlantis-sandbox', name: 'Atlantis', country: 'GB', region: 'UK' as const }
    const unknown = aConsentRequest(adapter, atlantis, `${webhooks.url}/unused`, { userRef: 'contract-atlantis' })
    await rejectionOf(adapter.create({ ...unknown, callbackUrl: `${CALLBACKS}atlantis` }, testCallContext()))
    await rejectionOf(
      createYapilyAdapter({ ...config, applicationSecret: 'wrong' }).listInstitutions(testCallContext()),
    )
    const institution = await institutionOf(adapter, 'modelo-sandbox')
    const pending = await adapter.create(
      {
        ...aConsentRequest(adapter, institution, `${webhooks.url}/unused`, { userRef: 'contract-pending' }),
        callbackUrl: `${CALLBACKS}pending`,
      },
      testCallContext(),
    )
    const ref = {
      providerConsentId: pending.providerConsentId,
      userRef: 'contract-pending',
      institutionId: 'modelo-sandbox',
    }
    await rejectionOf(adapter.reconfirm(ref, new Date(), testCallContext()))
    // The embedded bank takes no re-authorisation (424): its hosted page walks the SCA method, then the code.
    const embeddedInstitution = await institutionOf(adapter, 'embedded-de-sandbox')
    const embedded = await adapter.create(
      {
        ...aConsentRequest(adapter, embeddedInstitution, `${webhooks.url}/unused`, { userRef: 'contract-embedded' }),
        callbackUrl: `${CALLBACKS}embedded`,
      },
      testCallContext(),
    )
    expect((await submitBankDecision(embedded.authorizationUrl ?? '', 'approve')).status).toBe(200)
    expect((await submitBankDecision(embedded.authorizationUrl ?? '', 'approve')).status).toBe(302)
    const embeddedRef = {
      providerConsentId: embedded.providerConsentId,
      userRef: 'contract-embedded',
      institutionId: 'embedded-de-sandbox',
    }
    const active = await adapter.fetch(embeddedRef, testCallContext())
    await rejectionOf(adapter.reauthorize({ ...embeddedRef, secret: active.secret ?? null }, testCallContext()))
  })

  it('holds every exchange and every webhook to the published document, with no violation', async () => {
    await fetch(`${sandbox.url}/__sandbox/webhooks/flush`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-control-secret': SANDBOX_CONTROL_SECRET },
      body: '{}',
    })
    for (const exchange of proxy.exchanges) tally.add(validator.validate(exchange))
    const metadata = webhookMetadataSchema()
    expect(webhooks.exchanges.length).toBeGreaterThan(0)
    for (const delivery of webhooks.exchanges) {
      const body = delivery.requestBody as { metadata?: unknown } | undefined
      const valid = metadata(body?.metadata ?? {})
      tally.addNotification(
        valid
          ? []
          : (metadata.errors ?? []).map(
              (error) => `webhook ${delivery.path}: metadata${error.instancePath} ${error.message ?? ''}`,
            ),
      )
    }

    expect(tally.violations).toEqual([])
    expect(tally.requests).toBeGreaterThanOrEqual(OPERATIONS.length)
    expect(tally.answers).toBeGreaterThanOrEqual(OPERATIONS.length)
  })
})

afterAll(() => {
  console.log(tally.line('yapily'))
})

/** `WebhookMetadata`, the one part of a delivery Yapily API 12.13.0 publishes ("returned on every Webhook trigger"). */
function webhookMetadataSchema() {
  const file = new URL('./schemas/yapily/yapily-api.json', import.meta.url)
  const document = toJsonSchema(JSON.parse(readFileSync(file, 'utf8')) as JsonObject, {
    refPrefix: '#/$defs/',
  }) as JsonObject
  const ajv = formatsModule.default(new Ajv({ strict: false, allErrors: true }))
  ajv.addSchema({ ...document, $id: 'https://contract.schemas.invalid/yapily/webhooks.json' })
  return ajv.compile({ $ref: 'https://contract.schemas.invalid/yapily/webhooks.json#/$defs/WebhookMetadata' })
}
