// connected: API client authentication against DynamoDB Local.
import { beforeAll, describe, expect, it } from 'vitest'
import { UnauthorizedError } from '../../domain/errors.ts'
import { ApiClientAuthenticator, parseBasicCredentials } from '../../service/authentication.ts'
import { hashSecret, verifySecret } from '../../service/secret-hash.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { AccessRepository } from '../../store/access-repository.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'

let table: TestTable
let access: AccessRepository
/** The repository, counting table reads. */
let counted: AccessRepository & { reads: number }

const SECRET = 'correct-horse-battery-staple-42'
const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`

beforeAll(async () => {
  table = await createTestTable()
  access = new AccessRepository(table.db, table.tableName)
  counted = Object.assign(Object.create(access) as AccessRepository, {
    reads: 0,
    getApiClient(this: typeof counted, clientId: string) {
      this.reads++
      return access.getApiClient(clientId)
    },
  })
  await provisionApiClient(
    access,
    { tenantId: 'TENANT_AUTH', tenantName: 'Auth', clientId: 'auth-client', clientSecret: SECRET },
    new Date(),
  )
})

describe('API client authentication', () => {
  it('binds valid credentials to their tenant', async () => {
    const authenticator = new ApiClientAuthenticator(access)
    expect(await authenticator.authenticate(basic('auth-client', SECRET))).toEqual({
      kind: 'API_CLIENT',
      tenantId: 'TENANT_AUTH',
      clientId: 'auth-client',
    })
  })

  it('reads the table and checks the hash once per cache period, not on every request', async () => {
    counted.reads = 0
    let now = 1_000_000
    const authenticator = new ApiClientAuthenticator(counted, { cacheTtlMs: 60_000 }, () => now)
    // Ten concurrent first requests share one verification.
    await Promise.all(Array.from({ length: 10 }, () => authenticator.authenticate(basic('auth-client', SECRET))))
    for (let i = 0; i < 100; i++) await authenticator.authenticate(basic('auth-client', SECRET))
    expect(counted.reads).toBe(1)
    // After the cache period it checks again.
    now += 60_001
    await authenticator.authenticate(basic('auth-client', SECRET))
    expect(counted.reads).toBe(2)
  })

  it('rejects a wrong secret, remembering it briefly so repeats cost no hash', async () => {
    counted.reads = 0
    let now = 2_000_000
    const authenticator = new ApiClientAuthenticator(counted, { negativeCacheTtlMs: 5_000 }, () => now)
    await expect(authenticator.authenticate(basic('auth-client', 'wrong-secret'))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    await expect(authenticator.authenticate(basic('auth-client', 'wrong-secret'))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    expect(counted.reads).toBe(1)
    now += 5_001
    await expect(authenticator.authenticate(basic('auth-client', 'wrong-secret'))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    expect(counted.reads).toBe(2)
    // The right secret is still accepted (the wrong one's cache entry is its own).
    await expect(authenticator.authenticate(basic('auth-client', SECRET))).resolves.toMatchObject({
      tenantId: 'TENANT_AUTH',
    })
  })

  it('rejects unknown and disabled clients', async () => {
    const authenticator = new ApiClientAuthenticator(access)
    await expect(authenticator.authenticate(basic('nobody', SECRET))).rejects.toBeInstanceOf(UnauthorizedError)
    const client = await access.getApiClient('auth-client')
    await access.putApiClient({
      ...(client as NonNullable<typeof client>),
      clientId: 'disabled-client',
      disabled: true,
    })
    await expect(authenticator.authenticate(basic('disabled-client', SECRET))).rejects.toBeInstanceOf(UnauthorizedError)
  })

  it('stores only a salted scrypt hash of the secret', async () => {
    const items = await table.scanAll()
    expect(JSON.stringify(items)).not.toContain(SECRET)
    const client = await access.getApiClient('auth-client')
    expect(client?.secretHash).toMatch(/^scrypt-sha256\$16384\$8\$1\$[\w-]+\$[\w-]+$/)
    expect(await hashSecret(SECRET)).not.toBe(await hashSecret(SECRET))
    expect(await verifySecret(SECRET, client?.secretHash ?? '')).toBe(true)
    expect(await verifySecret(`${SECRET}x`, client?.secretHash ?? '')).toBe(false)
    expect(await verifySecret(SECRET, 'scrypt$broken')).toBe(false)
  })

  it.each([
    null,
    '',
    'Basic',
    'Bearer x',
    'Basic !!!',
    `Basic ${Buffer.from('no-colon').toString('base64')}`,
    `Basic ${Buffer.from(':secret').toString('base64')}`,
  ])('does not parse %j as credentials', (header) => {
    expect(parseBasicCredentials(header)).toBeNull()
  })

  it('keeps colons inside the secret', () => {
    expect(parseBasicCredentials(basic('id', 'a:b:c'))).toEqual({ clientId: 'id', secret: 'a:b:c' })
  })
})

describe('secret hashes', () => {
  /** Made by the first version of secret-hash.ts (scrypt over the secret's bytes): stored hashes look like this. */
  const LEGACY_SECRET = 'legacy-secret-0123456789abcdef'
  const LEGACY_HASH = 'scrypt$16384$8$1$a6XbsfDuwUZeAuKOJ6YTMg$5glqYa1R0EhLLtP4Fh_kyn6YR--1eDp0c5O5H2Y2RcI'

  it('binds the length of the secret: trailing NUL bytes do not verify', async () => {
    const stored = await hashSecret(SECRET)
    expect(await verifySecret(SECRET, stored)).toBe(true)
    expect(await verifySecret(`${SECRET}\u0000`, stored)).toBe(false)
    expect(await verifySecret(`${SECRET}\u0000\u0000\u0000`, stored)).toBe(false)
  })

  it('keeps verifying a hash of the first format with its exact secret, and nothing else', async () => {
    expect(await verifySecret(LEGACY_SECRET, LEGACY_HASH)).toBe(true)
    expect(await verifySecret(`${LEGACY_SECRET}\u0000`, LEGACY_HASH)).toBe(false)
    expect(await verifySecret(`${LEGACY_SECRET}x`, LEGACY_HASH)).toBe(false)
  })
})
