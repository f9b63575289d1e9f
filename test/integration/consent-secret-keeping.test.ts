// connected: the recorder keeping a provider's secret over DynamoDB Local when two writers read it at the same time:
// the one that read an older secret merges in what the other stored instead of overwriting it (Yapily's consent set).
import { randomBytes } from 'node:crypto'
import { monotonicFactory } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { newConsentEvent, type Consent } from '../../domain/consent.ts'
import { notificationFor } from '../../domain/notification.ts'
import { keyringFromSpec, SecretBox } from '../../crypto/secret-box.ts'
import { ProviderRegistry } from '../../providers/adapter.ts'
import { createYapilyAdapter } from '../../providers/yapily/adapter.ts'
import { decodeConsentSet, encodeConsentSet } from '../../providers/yapily/consent-set.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { LIFECYCLE_DEFAULTS } from '../../service/config.ts'
import { ConsentRecorder } from '../../service/consent-recorder.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { ConsentSecretRepository, type StoredSecret } from '../../store/consent-secret-repository.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'
import { aConsent } from '../support/fixtures.ts'

let table: TestTable
const newId = monotonicFactory()
const box = new SecretBox(keyringFromSpec(`k1:${randomBytes(32).toString('base64')}`))
// The adapter only merges here: it never calls Yapily, so its address is never dialled.
const providers = new ProviderRegistry().register('YAPILY', async () =>
  createYapilyAdapter({ baseUrl: 'http://127.0.0.1:9', applicationKey: 'key', applicationSecret: 'secret' }),
)

beforeAll(async () => {
  table = await createTestTable()
})

/** Reads as the table does, but the first read of `held` waits, after reading, until `release` resolves. */
class HeldFirstRead extends ConsentSecretRepository {
  #holding = true
  constructor(
    private readonly read: () => void,
    private readonly release: Promise<void>,
  ) {
    super(table.db, table.tableName)
  }
  override async get(tenantId: string, consentId: string): Promise<StoredSecret | null> {
    const secret = await super.get(tenantId, consentId)
    if (this.#holding) {
      this.#holding = false
      this.read()
      await this.release
    }
    return secret
  }
}

function recorderOver(secrets: ConsentSecretRepository) {
  return new ConsentRecorder({
    consents: new ConsentRepository(table.db, table.tableName),
    secrets,
    secretBox: box,
    providers,
    clock: () => new Date(),
    newId: () => newId(),
    logger: silentLogger,
    lifecycle: LIFECYCLE_DEFAULTS,
  })
}

async function aYapilyConsent(): Promise<Consent> {
  const consent = aConsent({ id: newId(), provider: 'YAPILY', providerConsentId: `y-${newId()}`, tenantId: 'T_KEEP' })
  const event = newConsentEvent(consent, null, { id: newId(), source: 'API', initiator: 'test' })
  await new ConsentRepository(table.db, table.tableName).create(consent, event, notificationFor(event, consent))
  return consent
}

describe('keeping a consent secret', () => {
  it('merges in the set another writer stored after this one read, instead of overwriting it', async () => {
    // Prepare: a writer with the plain token read no secret and waits; then the callback's set is stored
    const consent = await aYapilyConsent()
    const set =
      encodeConsentSet([
        { id: consent.providerConsentId, token: 'tok-own' },
        { id: 'sibling', token: 'tok-sibling' },
      ]) ?? ''
    let read: () => void = () => undefined
    const hasRead = new Promise<void>((resolve) => (read = resolve))
    let release: () => void = () => undefined
    const released = new Promise<void>((resolve) => (release = resolve))
    const late = recorderOver(new HeldFirstRead(read, released)).keepSecret(consent, 'tok-own')
    await hasRead
    await recorderOver(new ConsentSecretRepository(table.db, table.tableName)).keepSecret(consent, set)

    // Act: the late writer goes on with what it read (nothing)
    release()
    await late

    // Assess: both members are still held
    const sealed = await new ConsentSecretRepository(table.db, table.tableName).get(consent.tenantId, consent.id)
    const kept = box.open(
      sealed ?? { keyId: '', iv: '', ciphertext: '', tag: '' },
      `consent-secret:${consent.tenantId}:${consent.id}`,
    )
    expect(decodeConsentSet(consent.providerConsentId, kept)).toEqual([
      { id: consent.providerConsentId, token: 'tok-own' },
      { id: 'sibling', token: 'tok-sibling' },
    ])
  })
})
