// connected: partner administration against DynamoDB Local: tenants, API clients (secret shown once, rotation with a
// grace period, disabling), origins, trusted documents and the admin log; bad input and lost races change nothing;
// authentication honours rotation and disabling (an injected clock, shared by both).
import { createHash } from 'node:crypto'
import { PutCommand } from '@aws-sdk/lib-dynamodb'
import { ulid } from 'ulid'
import { beforeAll, describe, expect, it } from 'vitest'
import { UnauthorizedError } from '../../domain/errors.ts'
import { checkTrustedDocument } from '../../schema/trusted-documents.ts'
import { ApiClientAuthenticator } from '../../service/authentication.ts'
import { hashSecret, verifySecret } from '../../crypto/secret-hash.ts'
import { createTenantAdmin } from '../../composition/tenant-admin.ts'
import { AdminInputError } from '../../service/admin-input.ts'
import { AdminConcurrentChangeError, TenantAdmin } from '../../service/tenant-admin.ts'
import { CLIENT_ID } from '../../service/tenants.ts'
import { AccessRepository } from '../../store/access-repository.ts'
import { AdminLogRepository } from '../../store/admin-log-repository.ts'
import { writeTogether } from '../../store/transaction.ts'
import { TrustedDocumentRepository } from '../../store/trusted-document-repository.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'

const ACTOR = 'operator@test-host'
const HOUR = 3_600_000
const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

const GET_CONSENT = 'query GetConsent($id: ID!) { consent(id: $id) { ... on Consent { id status } } }'
const LIST_CONSENTS = 'query ListConsents { consents(first: 10) { edges { node { id } } } }'

let table: TestTable
let access: AccessRepository
/** The clock every use case and authenticator of this file reads; tests move it. */
let now = Date.parse('2030-01-01T00:00:00.000Z')
let admin: TenantAdmin

/** Every item, sorted, for before/after comparisons. */
const snapshot = async () =>
  (await table.scanAll()).map((item) => JSON.stringify(item, Object.keys(item).sort())).sort()

beforeAll(async () => {
  table = await createTestTable()
  access = new AccessRepository(table.db, table.tableName)
  admin = createTenantAdmin(table.db, table.tableName, {
    clock: () => new Date(now),
    checkDocument: checkTrustedDocument,
  })
})

const authenticator = (cacheTtlMs = 60_000) => new ApiClientAuthenticator(access, { cacheTtlMs }, () => now)

describe('tenants and API clients', () => {
  it('creates a tenant with a prefixed ULID id, and an API client whose secret is shown once and stored as a hash', async () => {
    const tenant = await admin.createTenant({ name: '  Acme Bank  ' }, ACTOR)
    expect(tenant).toMatchObject({ name: 'Acme Bank', allowedOrigins: [] })
    expect(tenant.tenantId).toMatch(/^tenant_[0-9A-HJKMNP-TV-Z]{26}$/)

    const { client, clientSecret } = await admin.createClient({ tenantId: tenant.tenantId, name: 'backend' }, ACTOR)
    expect(client).toEqual({
      clientId: expect.stringMatching(/^client_[0-9A-HJKMNP-TV-Z]{26}$/),
      tenantId: tenant.tenantId,
      name: 'backend',
      disabled: false,
      createdAt: new Date(now).toISOString(),
      secretRotatedAt: null,
      previousSecretUntil: null,
    })
    // The authenticator's id rule accepts it, and the secret is strong: 32 random bytes.
    expect(CLIENT_ID.test(client.clientId)).toBe(true)
    expect(Buffer.from(clientSecret, 'base64url')).toHaveLength(32)

    // Only a salted hash is stored, nowhere the secret: a keyed SHA-256, as strong as scrypt for 32 random bytes.
    expect(JSON.stringify(await table.scanAll())).not.toContain(clientSecret)
    const stored = await access.getApiClient(client.clientId)
    expect(stored?.secretHash).toMatch(/^hmac-sha256\$[\w-]{22}\$[\w-]{43}$/)
    expect(await verifySecret(clientSecret, stored?.secretHash ?? '')).toBe(true)

    // The secret authenticates, for that tenant.
    await expect(authenticator().authenticate(basic(client.clientId, clientSecret))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
      clientId: client.clientId,
    })

    // Listed without secret or hash.
    const listed = await admin.listClients(tenant.tenantId)
    expect(listed).toEqual([client])
    expect(JSON.stringify(listed)).not.toMatch(/scrypt|hmac-sha256|secretHash/)
    expect((await admin.listTenants()).map((t) => t.tenantId)).toContain(tenant.tenantId)
  })

  it('refuses bad input with a clear message before anything is written', async () => {
    const tenant = await admin.createTenant({ name: 'Bad input' }, ACTOR)
    const other = await admin.createTenant({ name: 'Someone else' }, ACTOR)
    const { client } = await admin.createClient({ tenantId: tenant.tenantId, name: 'app' }, ACTOR)
    const before = await snapshot()

    const attempts: [string, () => Promise<unknown>, RegExp][] = [
      ['empty tenant name', () => admin.createTenant({ name: '   ' }, ACTOR), /name is empty/],
      ['long tenant name', () => admin.createTenant({ name: 'x'.repeat(101) }, ACTOR), /longer than 100/],
      ['control characters', () => admin.createTenant({ name: 'a\u0007b' }, ACTOR), /control characters/],
      ['no operator', () => admin.createTenant({ name: 'ok' }, ' '), /operator/],
      [
        'client of an unknown tenant',
        () => admin.createClient({ tenantId: 'tenant_01J0000000000000000000000X', name: 'x' }, ACTOR),
        /no tenant/,
      ],
      ['malformed tenant id', () => admin.createClient({ tenantId: 'T#1', name: 'x' }, ACTOR), /not a tenant id/],
      ['unknown client', () => admin.rotateSecret({ clientId: 'client_nobody' }, ACTOR), /no client/],
      [
        'malformed client id',
        () => admin.setClientDisabled({ clientId: 'a b', disabled: true }, ACTOR),
        /not a client id/,
      ],
      [
        "another tenant's client (rotate)",
        () => admin.rotateSecret({ clientId: client.clientId, tenantId: other.tenantId }, ACTOR),
        /no client .* in tenant/,
      ],
      [
        "another tenant's client (disable)",
        () => admin.setClientDisabled({ clientId: client.clientId, tenantId: other.tenantId, disabled: true }, ACTOR),
        /no client .* in tenant/,
      ],
      ['negative grace', () => admin.rotateSecret({ clientId: client.clientId, graceHours: -1 }, ACTOR), /0 to 720/],
      ['grace too long', () => admin.rotateSecret({ clientId: client.clientId, graceHours: 721 }, ACTOR), /0 to 720/],
      [
        'grace not a number',
        () => admin.rotateSecret({ clientId: client.clientId, graceHours: NaN }, ACTOR),
        /0 to 720/,
      ],
      ...(
        [
          ['https://app.example.com/path', /has a path/],
          ['https://*.example.com', /wildcard/],
          ['http://app.example.com', /plain http/],
          ['ftp://app.example.com', /not http/],
          ['app.example.com', /not a URL/],
          ['https://App.Example.com', /write https:\/\/app\.example\.com/],
          ['https://app.example.com:443', /write https:\/\/app\.example\.com/],
          ['https://user@app.example.com', /credentials/],
        ] as const
      ).map(
        ([origin, message]) =>
          [
            `origin ${origin}`,
            () => admin.setOrigins({ tenantId: tenant.tenantId, origins: ['https://ok.example.com', origin] }, ACTOR),
            message,
          ] as [string, () => Promise<unknown>, RegExp],
      ),
      [
        'too many origins',
        () =>
          admin.setOrigins(
            { tenantId: tenant.tenantId, origins: Array.from({ length: 21 }, (_, i) => `https://a${i}.example.com`) },
            ACTOR,
          ),
        /at most 20/,
      ],
      [
        'origins of an unknown tenant',
        () => admin.setOrigins({ tenantId: 'tenant_missing', origins: ['https://a.example.com'] }, ACTOR),
        /no tenant/,
      ],
      ['limit', () => admin.listLog({ limit: 0 }), /limit is 1 to 1000/],
    ]
    for (const [what, attempt, message] of attempts) {
      const error = await attempt().then(
        () => new Error(`${what}: accepted`),
        (e: unknown) => e,
      )
      expect(error, what).toBeInstanceOf(AdminInputError)
      expect((error as Error).message, what).toMatch(message)
    }
    expect(await snapshot()).toEqual(before)
  })

  it('creates no client for a tenant that is gone by the time of the write', async () => {
    // The tenant check and the client's write are one transaction: the read below says the tenant exists, the table
    // does not have it, and nothing is written.
    const before = await snapshot()
    const ghost = 'tenant_01J00000000000000000GH0ST'
    const tenants = Object.assign(Object.create(access.tenants) as typeof access.tenants, {
      get: async (tenantId: string) => ({ tenantId, name: 'gone', allowedOrigins: [], createdAt: 'x', updatedAt: 'x' }),
    })
    const stale = new TenantAdmin({
      access: Object.defineProperty(new AccessRepository(table.db, table.tableName), 'tenants', { value: tenants }),
      log: new AdminLogRepository(table.db, table.tableName),
      documents: new TrustedDocumentRepository(table.db, table.tableName),
      write: (writes) => writeTogether(table.db, writes),
      clock: () => new Date(now),
      newId: ulid,
    })
    await expect(stale.createClient({ tenantId: ghost, name: 'x' }, ACTOR)).rejects.toThrow(/There is no tenant/)
    expect(await snapshot()).toEqual(before)
  })
})

describe('rotating a secret', () => {
  it('keeps the old secret working for the grace period and not a moment longer, cached or not', async () => {
    const tenant = await admin.createTenant({ name: 'Rotation' }, ACTOR)
    const { client, clientSecret: first } = await admin.createClient({ tenantId: tenant.tenantId, name: 'b' }, ACTOR)
    const cached = authenticator(60_000)
    const principal = await cached.authenticate(basic(client.clientId, first))

    now += 10_000
    const rotated = await admin.rotateSecret({ clientId: client.clientId, graceHours: 1 }, ACTOR)
    const graceEnd = now + HOUR
    expect(rotated.previousSecretUntil).toBe(new Date(graceEnd).toISOString())
    expect(rotated.client.previousSecretUntil).toBe(rotated.previousSecretUntil)
    expect(rotated.clientSecret).not.toBe(first)

    // Within the grace: both work, the old one cached and afresh (a new authenticator: scrypt against both hashes).
    await expect(cached.authenticate(basic(client.clientId, first))).resolves.toBe(principal)
    await expect(cached.authenticate(basic(client.clientId, rotated.clientSecret))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
    })
    await expect(authenticator().authenticate(basic(client.clientId, first))).resolves.toMatchObject({
      clientId: client.clientId,
    })
    // Past a cache period the re-check (no scrypt) finds the old hash in its grace: still trusted, but only until
    // the grace ends.
    now += 120_000
    await expect(cached.authenticate(basic(client.clientId, first))).resolves.toBe(principal)
    expect(await principal.revalidate()).toBe(Math.min(now + 60_000, graceEnd))
    now = graceEnd - 30_000
    await expect(cached.authenticate(basic(client.clientId, first))).resolves.toBe(principal)
    expect(await principal.revalidate()).toBe(graceEnd)
    const fresh = authenticator()
    await expect(fresh.authenticate(basic(client.clientId, first))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
    })

    // At the grace's end: refused, though both caches verified it less than a cache period ago.
    now = graceEnd
    await expect(cached.authenticate(basic(client.clientId, first))).rejects.toBeInstanceOf(UnauthorizedError)
    await expect(fresh.authenticate(basic(client.clientId, first))).rejects.toBeInstanceOf(UnauthorizedError)
    expect(await principal.revalidate()).toBeNull()
    now += 5_001 // past the memory of those failures: refused by the table's word, not the negative cache
    await expect(authenticator().authenticate(basic(client.clientId, first))).rejects.toBeInstanceOf(UnauthorizedError)
    // The new one works on.
    await expect(cached.authenticate(basic(client.clientId, rotated.clientSecret))).resolves.toMatchObject({
      clientId: client.clientId,
    })
    expect((await admin.listClients(tenant.tenantId))[0]?.previousSecretUntil).toBeNull()
  })

  it('without a grace, refuses the old secret at once when not cached, and within the cache period when cached', async () => {
    const tenant = await admin.createTenant({ name: 'No grace' }, ACTOR)
    const { client, clientSecret: first } = await admin.createClient({ tenantId: tenant.tenantId, name: 'b' }, ACTOR)
    const cached = authenticator(60_000)
    await cached.authenticate(basic(client.clientId, first))
    const rotated = await admin.rotateSecret({ clientId: client.clientId, graceHours: 0 }, ACTOR)
    expect(rotated.previousSecretUntil).toBe(new Date(now).toISOString())

    await expect(authenticator().authenticate(basic(client.clientId, first))).rejects.toBeInstanceOf(UnauthorizedError)
    now += 59_000
    await expect(cached.authenticate(basic(client.clientId, first))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
    })
    now += 1_001
    await expect(cached.authenticate(basic(client.clientId, first))).rejects.toBeInstanceOf(UnauthorizedError)
    await expect(authenticator().authenticate(basic(client.clientId, rotated.clientSecret))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
    })
  })

  it('keeps at most two secrets: rotating again ends the earlier grace at once', async () => {
    const tenant = await admin.createTenant({ name: 'Twice' }, ACTOR)
    const { client, clientSecret: first } = await admin.createClient({ tenantId: tenant.tenantId, name: 'b' }, ACTOR)
    const second = await admin.rotateSecret({ clientId: client.clientId }, ACTOR)
    expect(second.previousSecretUntil).toBe(new Date(now + 24 * HOUR).toISOString())
    expect(second.droppedEarlierSecret).toBe(false)
    const third = await admin.rotateSecret({ clientId: client.clientId, tenantId: tenant.tenantId }, ACTOR)
    expect(third.droppedEarlierSecret).toBe(true)
    // Each rotation's secret is generated, so stored under the keyed hash; the one it replaced is kept as it was.
    const stored = await access.getApiClient(client.clientId)
    expect(stored?.secretHash).toMatch(/^hmac-sha256\$/)
    expect(stored?.previousSecretHash).toMatch(/^hmac-sha256\$/)
    expect(await verifySecret(third.clientSecret, stored?.secretHash ?? '')).toBe(true)

    await expect(authenticator().authenticate(basic(client.clientId, first))).rejects.toBeInstanceOf(UnauthorizedError)
    await expect(authenticator().authenticate(basic(client.clientId, second.clientSecret))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
    })
    await expect(authenticator().authenticate(basic(client.clientId, third.clientSecret))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
    })
  })

  it('lets one of two rotations at once win; the other changes nothing', async () => {
    const tenant = await admin.createTenant({ name: 'Race' }, ACTOR)
    const { client } = await admin.createClient({ tenantId: tenant.tenantId, name: 'b' }, ACTOR)
    // Both rotations read the client before either writes (a barrier on the read): the race the write's condition
    // decides. Nothing slow (a generated secret's hash is one HMAC) holds them together by chance.
    let reads = 0
    let bothRead!: () => void
    const barrier = new Promise<void>((resolve) => (bothRead = resolve))
    const racing = Object.assign(Object.create(access) as AccessRepository, {
      async getApiClient(clientId: string) {
        const found = await access.getApiClient(clientId)
        if (++reads === 2) bothRead()
        await barrier
        return found
      },
    })
    const racer = new TenantAdmin({
      access: racing,
      log: new AdminLogRepository(table.db, table.tableName),
      documents: new TrustedDocumentRepository(table.db, table.tableName),
      write: (writes) => writeTogether(table.db, writes),
      clock: () => new Date(now),
      newId: ulid,
    })
    const results = await Promise.allSettled([
      racer.rotateSecret({ clientId: client.clientId }, ACTOR),
      racer.rotateSecret({ clientId: client.clientId }, ACTOR),
    ])
    const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
    const lost = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []))
    expect(won).toHaveLength(1)
    expect(lost[0]).toBeInstanceOf(AdminConcurrentChangeError)
    const stored = await access.getApiClient(client.clientId)
    expect(await verifySecret(won[0]?.clientSecret ?? '', stored?.secretHash ?? '')).toBe(true)
    const log = await admin.listLog({ tenantId: tenant.tenantId })
    expect(log.entries.filter((entry) => entry.action === 'rotate-secret')).toHaveLength(1)
  })
})

describe('disabling a client', () => {
  it('refuses it at once when not cached, within the cache period when cached, and enables it again', async () => {
    const tenant = await admin.createTenant({ name: 'Disable' }, ACTOR)
    const { client, clientSecret } = await admin.createClient({ tenantId: tenant.tenantId, name: 'b' }, ACTOR)
    const cached = authenticator(60_000)
    await cached.authenticate(basic(client.clientId, clientSecret))

    const disabled = await admin.setClientDisabled({ clientId: client.clientId, disabled: true }, ACTOR)
    expect(disabled).toMatchObject({ changed: true, client: { disabled: true } })
    await expect(authenticator().authenticate(basic(client.clientId, clientSecret))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    await expect(cached.authenticate(basic(client.clientId, clientSecret))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
    })
    now += 60_001
    await expect(cached.authenticate(basic(client.clientId, clientSecret))).rejects.toBeInstanceOf(UnauthorizedError)

    // Disabling again is no change and records nothing.
    expect(await admin.setClientDisabled({ clientId: client.clientId, disabled: true }, ACTOR)).toMatchObject({
      changed: false,
    })
    await admin.setClientDisabled({ clientId: client.clientId, tenantId: tenant.tenantId, disabled: false }, ACTOR)
    now += 5_001
    await expect(authenticator().authenticate(basic(client.clientId, clientSecret))).resolves.toMatchObject({
      tenantId: tenant.tenantId,
    })
    const actions = (await admin.listLog({ tenantId: tenant.tenantId })).entries.map((entry) => entry.action)
    expect(actions).toEqual(['enable-client', 'disable-client', 'create-client', 'create-tenant'])
  })
})

describe('origins', () => {
  it('stores the checked origins on the tenant, replacing the list as a whole', async () => {
    const tenant = await admin.createTenant({ name: 'Origins' }, ACTOR)
    const set = await admin.setOrigins(
      {
        tenantId: tenant.tenantId,
        origins: [
          'https://app.example.com',
          'http://localhost:5173',
          'http://127.0.0.1:8080',
          'https://app.example.com',
        ],
      },
      ACTOR,
    )
    expect(set.allowedOrigins).toEqual(['https://app.example.com', 'http://localhost:5173', 'http://127.0.0.1:8080'])
    expect((await access.tenants.get(tenant.tenantId))?.allowedOrigins).toEqual(set.allowedOrigins)
    await admin.setOrigins({ tenantId: tenant.tenantId, origins: ['https://other.example.com:8443'] }, ACTOR)
    expect((await admin.getTenant(tenant.tenantId)).allowedOrigins).toEqual(['https://other.example.com:8443'])
    await admin.setOrigins({ tenantId: tenant.tenantId, origins: [] }, ACTOR)
    expect((await admin.getTenant(tenant.tenantId)).allowedOrigins).toEqual([])
    const [latest] = (await admin.listLog({ tenantId: tenant.tenantId })).entries
    expect(latest).toMatchObject({
      action: 'set-origins',
      target: tenant.tenantId,
      details: { origins: [], previous: ['https://other.example.com:8443'] },
    })
  })
})

describe('trusted documents', () => {
  it('registers documents checked against the schema, each found by its id or its hash with one GetItem', async () => {
    const tenant = await admin.createTenant({ name: 'Documents' }, ACTOR)
    const manifest = { [sha256(GET_CONSENT)]: GET_CONSENT, 'list-consents-v1': LIST_CONSENTS }
    const result = await admin.registerDocuments(
      { tenantId: tenant.tenantId, manifest: JSON.stringify(manifest) },
      ACTOR,
    )
    expect(result).toEqual({ registered: [sha256(GET_CONSENT), 'list-consents-v1'], unchanged: [] })

    const documents = new TrustedDocumentRepository(table.db, table.tableName)
    expect(await documents.get(tenant.tenantId, sha256(GET_CONSENT))).toMatchObject({
      document: GET_CONSENT,
      operations: ['query GetConsent'],
    })
    expect((await documents.get(tenant.tenantId, 'list-consents-v1'))?.document).toBe(LIST_CONSENTS)
    // The custom id's document also answers to its APQ hash.
    expect((await documents.get(tenant.tenantId, sha256(LIST_CONSENTS)))?.document).toBe(LIST_CONSENTS)

    // One document under a custom id and under its own hash: two items, the hash one written once.
    const twice = { 'get-consent-v2': GET_CONSENT.replace('GetConsent', 'GetConsentTwo') }
    const twiceHash = sha256(twice['get-consent-v2'])
    expect(
      await admin.registerDocuments(
        { tenantId: tenant.tenantId, manifest: JSON.stringify({ ...twice, [twiceHash]: twice['get-consent-v2'] }) },
        ACTOR,
      ),
    ).toEqual({ registered: ['get-consent-v2', twiceHash], unchanged: [] })
    expect((await documents.get(tenant.tenantId, twiceHash))?.document).toBe(twice['get-consent-v2'])

    // The same manifest again writes nothing and records nothing.
    expect((await admin.listDocuments(tenant.tenantId)).map((document) => document.documentId).sort()).toEqual(
      ['get-consent-v2', 'list-consents-v1', sha256(GET_CONSENT), twiceHash].sort(),
    )
    const before = await snapshot()
    expect(
      await admin.registerDocuments({ tenantId: tenant.tenantId, manifest: JSON.stringify(manifest) }, ACTOR),
    ).toEqual({ registered: [], unchanged: [sha256(GET_CONSENT), 'list-consents-v1'] })
    expect(await snapshot()).toEqual(before)
  })

  it('refuses a bad manifest whole, before writing anything', async () => {
    const tenant = await admin.createTenant({ name: 'Bad manifests' }, ACTOR)
    await admin.registerDocuments({ tenantId: tenant.tenantId, manifest: JSON.stringify({ v1: LIST_CONSENTS }) }, ACTOR)
    const before = await snapshot()
    const register = (manifest: string) => admin.registerDocuments({ tenantId: tenant.tenantId, manifest }, ACTOR)
    const cases: [string, string, RegExp][] = [
      ['not JSON', '{', /not JSON/],
      ['an array', '[]', /not a JSON object/],
      ['empty', '{}', /no documents/],
      ['a number', JSON.stringify({ ok: GET_CONSENT, bad: 42 }), /"bad" is not a GraphQL document/],
      ['a bad id', JSON.stringify({ ok: GET_CONSENT, 'a#b': GET_CONSENT }), /"a#b" is not 1-128/],
      ['a wrong hash', JSON.stringify({ ok: GET_CONSENT, [sha256('other')]: GET_CONSENT }), /is a SHA-256 but not/],
      ['sha256: prefixed wrong', JSON.stringify({ [`sha256:${sha256('x')}`]: GET_CONSENT }), /is a SHA-256 but not/],
      ['does not parse', JSON.stringify({ ok: GET_CONSENT, broken: 'query {' }), /"broken": does not parse/],
      ['invalid', JSON.stringify({ ok: GET_CONSENT, bad: '{ nope }' }), /"bad": Cannot query field "nope"/],
      [
        'over a limit',
        JSON.stringify({
          deep: `{ ${'a: __typename '.repeat(1)}${Array.from({ length: 16 }, (_, i) => `n${i}: node(id: "x") { id }`).join(' ')} }`,
        }),
        /Aliases limit/,
      ],
      ['too large', JSON.stringify({ big: `{ __typename }${' '.repeat(33_000)}` }), /larger than 32768 bytes/],
      [
        'too many',
        JSON.stringify(Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`q${i}`, '{ __typename }']))),
        /501 documents/,
      ],
      ['a changed document', JSON.stringify({ v1: GET_CONSENT }), /"v1" is registered already, with another document/],
    ]
    for (const [what, manifest, message] of cases) {
      const error = await register(manifest).then(
        () => new Error(`${what}: accepted`),
        (e: unknown) => e,
      )
      expect(error, what).toBeInstanceOf(AdminInputError)
      expect((error as Error).message, what).toMatch(message)
    }
    await expect(
      admin.registerDocuments({ tenantId: 'tenant_missing', manifest: JSON.stringify({ a: GET_CONSENT }) }, ACTOR),
    ).rejects.toThrow(/There is no tenant/)
    expect(await snapshot()).toEqual(before)
  })

  it('writes a large manifest in parts, each with its log entry, and keeps tenants apart', async () => {
    const tenant = await admin.createTenant({ name: 'Large manifest' }, ACTOR)
    const other = await admin.createTenant({ name: 'Other' }, ACTOR)
    const manifest = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`op-${i}`, `query Op${i} { __typename }`]),
    )
    const result = await admin.registerDocuments(
      { tenantId: tenant.tenantId, manifest: JSON.stringify(manifest) },
      ACTOR,
    )
    expect(result.registered).toHaveLength(60)
    const parts = (await admin.listLog({ tenantId: tenant.tenantId })).entries.filter(
      (entry) => entry.action === 'register-documents',
    )
    expect(parts.map((entry) => entry.details.part).sort()).toEqual(['1/2', '2/2'])
    expect(parts.flatMap((entry) => entry.details.documents as string[])).toHaveLength(60)

    // Another tenant has none of them, by id or by hash.
    const documents = new TrustedDocumentRepository(table.db, table.tableName)
    expect(await documents.get(other.tenantId, 'op-1')).toBeNull()
    expect(await documents.get(other.tenantId, sha256('query Op1 { __typename }'))).toBeNull()
    expect(await admin.listDocuments(other.tenantId)).toEqual([])
  })
})

describe('the admin log', () => {
  it('lists who, what and when of every change, per tenant (at once) and overall, newest first, in pages', async () => {
    const tenant = await admin.createTenant({ name: 'Logged' }, 'alice@laptop')
    const { client } = await admin.createClient({ tenantId: tenant.tenantId, name: 'b' }, 'alice@laptop')
    now += 1_000
    await admin.rotateSecret(
      { clientId: client.clientId, graceHours: 2 },
      'arn:aws:sts::123456789012:assumed-role/Ops/bob',
    )

    const { entries } = await admin.listLog({ tenantId: tenant.tenantId })
    expect(entries.map(({ actor, action, target }) => ({ actor, action, target }))).toEqual([
      { actor: 'arn:aws:sts::123456789012:assumed-role/Ops/bob', action: 'rotate-secret', target: client.clientId },
      { actor: 'alice@laptop', action: 'create-client', target: client.clientId },
      { actor: 'alice@laptop', action: 'create-tenant', target: tenant.tenantId },
    ])
    expect(entries[0]).toMatchObject({
      at: new Date(now).toISOString(),
      details: { graceHours: 2, previousSecretUntil: new Date(now + 2 * HOUR).toISOString() },
    })
    // No entry holds a secret or a hash.
    expect(JSON.stringify(entries)).not.toMatch(/scrypt|hmac-sha256/)

    const first = await admin.listLog({ tenantId: tenant.tenantId, limit: 2 })
    expect(first.entries).toHaveLength(2)
    const second = await admin.listLog({ tenantId: tenant.tenantId, limit: 2, before: first.next ?? undefined })
    expect(second).toEqual({ entries: [entries[2]], next: null })

    const overall = await admin.listLog({ limit: 1_000 })
    expect(overall.entries.slice(0, 3)).toEqual(entries)
    const tenants = new Set(overall.entries.map((entry) => entry.tenantId))
    expect(tenants.size).toBeGreaterThan(3)
  })
})

describe('seeding a known client (npm start)', () => {
  it('creates tenant and client once, logged; the same secret again writes nothing; origins survive', async () => {
    const input = {
      tenantId: '01JD0DEM0TENANT000000000000',
      tenantName: 'Demo partner',
      clientId: 'demo-client',
      clientSecret: 'demo-secret-0123456789abcdef',
    }
    expect(await admin.provisionClient(input, 'npm start (dev@host)')).toEqual({
      tenantCreated: true,
      clientWritten: true,
    })
    // A secret the operator chose may be weak: it keeps scrypt.
    expect((await access.getApiClient(input.clientId))?.secretHash).toMatch(/^scrypt-sha256\$16384\$8\$1\$/)
    await admin.setOrigins({ tenantId: input.tenantId, origins: ['http://localhost:3000'] }, ACTOR)
    const before = await snapshot()
    expect(await admin.provisionClient(input, 'npm start (dev@host)')).toEqual({
      tenantCreated: false,
      clientWritten: false,
    })
    expect(await snapshot()).toEqual(before)

    // Another secret (or a disabled client) is written afresh, and logged.
    await admin.setClientDisabled({ clientId: input.clientId, disabled: true }, ACTOR)
    expect(await admin.provisionClient(input, 'npm start (dev@host)')).toMatchObject({ clientWritten: true })
    await expect(authenticator().authenticate(basic(input.clientId, input.clientSecret))).resolves.toMatchObject({
      tenantId: input.tenantId,
    })
    expect((await admin.getTenant(input.tenantId)).allowedOrigins).toEqual(['http://localhost:3000'])
    const actions = (await admin.listLog({ tenantId: input.tenantId })).entries.map((entry) => entry.action)
    expect(actions).toEqual(['provision-client', 'disable-client', 'set-origins', 'provision-client', 'create-tenant'])
  })

  it('lists a tenant and client an older version wrote (without the listing keys) once seeded again', async () => {
    const old = { tenantId: 'TENANT_FROM_BEFORE', tenantName: 'Before', clientId: 'client-from-before' }
    const secret = 'from-before-secret-0123456789'
    // As the version before this one wrote them: no gsi1 keys, no origins, no updatedAt.
    await table.db.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: `TENANT#${old.tenantId}`,
          sk: 'TENANT',
          entityType: 'TENANT',
          tenantId: old.tenantId,
          name: 'Before',
          createdAt: '2029-01-01T00:00:00.000Z',
        },
      }),
    )
    await table.db.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: `APICLIENT#${old.clientId}`,
          sk: 'APICLIENT',
          entityType: 'API_CLIENT',
          clientId: old.clientId,
          tenantId: old.tenantId,
          name: old.clientId,
          secretHash: await hashSecret(secret),
          disabled: false,
          createdAt: '2029-01-01T00:00:00.000Z',
        },
      }),
    )
    expect((await admin.listTenants()).map((t) => t.tenantId)).not.toContain(old.tenantId)
    expect(await admin.provisionClient({ ...old, clientSecret: secret }, 'npm start (dev@host)')).toEqual({
      tenantCreated: false,
      clientWritten: false,
    })
    expect(await admin.getTenant(old.tenantId)).toEqual({
      tenantId: old.tenantId,
      name: 'Before',
      allowedOrigins: [],
      rateLimits: null,
      usagePlanId: null,
      createdAt: '2029-01-01T00:00:00.000Z',
      updatedAt: '2029-01-01T00:00:00.000Z',
    })
    expect((await admin.listTenants()).map((t) => t.tenantId)).toContain(old.tenantId)
    expect((await admin.listClients(old.tenantId)).map((c) => c.clientId)).toEqual([old.clientId])
  })
})
