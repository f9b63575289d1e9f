// connected: every sandbox started on a state file (as npm start starts them, under .data/sandboxes/) comes back
// from a restart with what it had: consents (read, then revoked, through the adapter), its clock, and what else a
// client relies on (Finqware's signing keys, Yapily's webhook registrations); a file it cannot read stops it.
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFinqwareSandbox } from '../../sandbox/finqware/server.ts'
import { startWorldlineSandbox } from '../../sandbox/worldline/server.ts'
import { startYapilySandbox } from '../../sandbox/yapily/server.ts'
import {
  aConsentRequest,
  eventually,
  institutionOf,
  NotificationReceiver,
  PROVIDER_DRIVERS,
  sandboxControl,
  startFinqwareHarness,
  startYapilyHarness,
  testCallContext,
  YAPILY_APPLICATION,
  type ProviderHarness,
} from '../support/provider-drivers.ts'

const DAY_MS = 86_400_000
const receiver = new NotificationReceiver()
let dataDir: string

beforeAll(async () => {
  await receiver.start()
  dataDir = await mkdtemp(join(tmpdir(), 'sandbox-state-'))
})
afterAll(async () => {
  await receiver.close()
})

describe.each(PROVIDER_DRIVERS.map((driver) => [driver.name, driver] as const))('the %s sandbox', (_name, driver) => {
  it('keeps its consents and its clock across a restart: the consent is read and revoked afterwards', async () => {
    // Prepare: an ACTIVE consent, a pending one, and the clock a day ahead
    const stateFile = join(dataDir, `${driver.provider.toLowerCase()}-${randomUUID()}.json`)
    let harness: ProviderHarness = await driver.setup({ receiverUrl: receiver.url, stateFile })
    const institution = await institutionOf(harness.adapter, driver.institutionId)
    const create = async () => {
      const request = aConsentRequest(harness.adapter, institution, receiver.newEndpoint(), {
        userRef: `user-${randomUUID()}`,
      })
      const snapshot = await harness.adapter.create(request, testCallContext())
      return {
        snapshot,
        ref: { providerConsentId: snapshot.providerConsentId, userRef: request.userRef, institutionId: institution.id },
      }
    }
    const granted = await create()
    await harness.decideAtBank(granted.snapshot.authorizationUrl ?? '', 'approve')
    const active = await eventually(
      () => harness.adapter.fetch(granted.ref, testCallContext()),
      (snapshot) => snapshot.status === 'ACTIVE',
      'the consent turning ACTIVE',
    )
    const pending = await create()
    const url = (harness as unknown as { sandbox: { url: string } }).sandbox.url
    await sandboxControl(url, 'clock', { advanceSeconds: DAY_MS / 1000 })

    // Act: stop, start again on the same file
    await harness.teardown()
    harness = await driver.setup({ receiverUrl: receiver.url, stateFile })
    try {
      // Assess: the same consents, the clock still a day ahead
      expect(await harness.adapter.fetch(granted.ref, testCallContext())).toMatchObject({
        status: 'ACTIVE',
        providerConsentId: active.providerConsentId,
        validUntil: active.validUntil,
      })
      expect((await harness.adapter.fetch(pending.ref, testCallContext())).status).toBe(pending.snapshot.status)
      expect((await harness.providerNow()).getTime() - Date.now()).toBeGreaterThan(DAY_MS - 60_000)
      // and the consent can be revoked there
      expect((await harness.adapter.revoke(granted.ref, testCallContext())).status).toBe('REVOKED')
      expect((await harness.adapter.fetch(granted.ref, testCallContext())).status).toBe('REVOKED')
    } finally {
      await harness.teardown()
    }
  })
})

describe('what else a restart keeps', () => {
  it('Finqware: its signing keys, so a notification signed before the restart still verifies after it', async () => {
    const stateFile = join(dataDir, `finqware-keys-${randomUUID()}.json`)
    const before = await startFinqwareHarness({ sandbox: { stateFile } })
    await before.sandbox.keys.rotate()
    const jwks = before.sandbox.keys.jwks()
    const body = JSON.stringify({ type: 'consent_status_update', consent_id: 'c-1', status: 'active' })
    const headers = await before.sandbox.keys.sign(body)
    await before.teardown()

    const after = await startFinqwareHarness({ sandbox: { stateFile } })
    try {
      expect(after.sandbox.keys.jwks()).toEqual(jwks)
      const events = await after.adapter.verifyNotification({ headers, body, path: '' })
      expect(events).toEqual([expect.objectContaining({ providerConsentId: 'c-1' })])
    } finally {
      await after.teardown()
    }
  })

  it("Yapily: its users' consents and the webhook registrations, secrets included", async () => {
    // Prepare: a consent, and our webhook registered (its secret shown once, at registration)
    const stateFile = join(dataDir, `yapily-webhooks-${randomUUID()}.json`)
    const webhookUrl = `${receiver.url}/yapily-webhooks-${randomUUID()}`
    const before = await startYapilyHarness({ callbackPrefix: `${receiver.url}/`, webhookUrl, sandbox: { stateFile } })
    const institution = await institutionOf(before.adapter, 'modelo-sandbox')
    const request = aConsentRequest(before.adapter, institution, receiver.newEndpoint(), { userRef: 'user-kept' })
    const created = await before.adapter.create(request, testCallContext())
    await before.teardown()

    // Act: started again on the file, with no registration of its own this time
    const after = await startYapilySandbox({ applications: [YAPILY_APPLICATION], stateFile })
    try {
      await sandboxControl(after.url, `consents/${created.providerConsentId}/status`, { status: 'AUTHORIZED' })

      // Assess: the event goes to the webhook registered before the restart, signed with the secret given then
      const [notification] = await Promise.all([
        receiver.waitFor(webhookUrl, (candidate) => candidate.body.includes(created.providerConsentId)),
      ])
      const events = await before.adapter.verifyNotification(notification)
      expect(events).toEqual([expect.objectContaining({ providerConsentId: created.providerConsentId })])
    } finally {
      await after.close()
    }
  })

  it.each([
    ['Finqware', (stateFile: string) => startFinqwareSandbox({ stateFile })],
    ['Worldline', (stateFile: string) => startWorldlineSandbox({ stateFile })],
    ['Yapily', (stateFile: string) => startYapilySandbox({ stateFile })],
  ])(
    '%s refuses to start on a file it cannot read, naming it (rather than forget its consents)',
    async (_name, start) => {
      const stateFile = join(dataDir, `broken-${randomUUID()}.json`)
      await writeFile(stateFile, '{"consents": [')

      await expect(start(stateFile)).rejects.toThrow(stateFile)
      expect(await readFile(stateFile, 'utf8')).toBe('{"consents": [')
    },
  )
})
