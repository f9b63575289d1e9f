// connected: API client authentication against DynamoDB Local.
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { RateLimitedError, UnauthorizedError } from '../../domain/errors.ts'
import { ApiClientAuthenticator, parseBasicCredentials } from '../../service/authentication.ts'
import { FailureLog } from '../../service/failure-log.ts'
import { hashSecret, issueSecret, usesScrypt, verifySecret } from '../../crypto/secret-hash.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { AccessRepository } from '../../store/access-repository.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'
import type { Logger } from '../../runtime/logging.ts'

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
    expect(await authenticator.authenticate(basic('auth-client', SECRET))).toMatchObject({
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

describe('failed attempts', () => {
  /** A verifier that records the hashes it was asked to check (each check is one scrypt). */
  function countingVerifier() {
    const checked: string[] = []
    return {
      checked,
      verify: async (secret: string, stored: string) => {
        checked.push(stored)
        return verifySecret(secret, stored)
      },
    }
  }
  const paramsOf = (stored: string) => stored.split('$').slice(0, 4).join('$')

  it('costs an unknown or disabled client the same hash check as a known one', async () => {
    const { checked, verify } = countingVerifier()
    const authenticator = new ApiClientAuthenticator(access, { verifySecret: verify })
    const known = await access.getApiClient('auth-client')
    await expect(authenticator.authenticate(basic('auth-client', 'wrong-0123456789abcdef'))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    await expect(authenticator.authenticate(basic('nobody-at-all', 'wrong-0123456789abcdef'))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    await access.putApiClient({ ...(known as NonNullable<typeof known>), clientId: 'disabled-2', disabled: true })
    await expect(authenticator.authenticate(basic('disabled-2', SECRET))).rejects.toBeInstanceOf(UnauthorizedError)
    // One check each, all with the same scrypt parameters as a real hash.
    expect(checked).toHaveLength(3)
    expect(new Set(checked.map(paramsOf))).toEqual(new Set([paramsOf(await hashSecret('x'.repeat(16)))]))
  })

  it('verifies a generated secret with no scrypt check, yet costs every refusal one, as for an unknown client', async () => {
    const { checked, verify } = countingVerifier()
    const authenticator = new ApiClientAuthenticator(access, { verifySecret: verify })
    const known = await access.getApiClient('auth-client')
    const issued = issueSecret()
    await access.putApiClient({
      ...(known as NonNullable<typeof known>),
      clientId: 'generated-1',
      secretHash: issued.secretHash,
    })
    await access.putApiClient({
      ...(known as NonNullable<typeof known>),
      clientId: 'generated-off',
      secretHash: issued.secretHash,
      disabled: true,
    })
    await expect(authenticator.authenticate(basic('generated-1', issued.secret))).resolves.toMatchObject({
      tenantId: 'TENANT_AUTH',
      clientId: 'generated-1',
    })
    expect(checked).toEqual([issued.secretHash])

    checked.length = 0
    await expect(authenticator.authenticate(basic('generated-1', 'wrong-0123456789abcdef'))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    await expect(authenticator.authenticate(basic('generated-off', issued.secret))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    await expect(authenticator.authenticate(basic('nobody-either', 'wrong-0123456789abcdef'))).rejects.toBeInstanceOf(
      UnauthorizedError,
    )
    // Each refusal ran exactly one scrypt check, with a real hash's parameters: the keyed hash's quick answer is
    // never what a wrong or disabled credential sees.
    const scrypted = checked.filter(usesScrypt)
    expect(scrypted).toHaveLength(3)
    expect(new Set(scrypted.map(paramsOf))).toEqual(new Set([paramsOf(await hashSecret('x'.repeat(16)))]))
  })

  it('limits failed attempts per client id: 429 RATE_LIMITED with a retry time, until the bucket refills', async () => {
    let now = 10_000_000
    const authenticator = new ApiClientAuthenticator(
      access,
      {
        failureLimits: { perClient: { burst: 3, refillPerMinute: 6 }, perSource: { burst: 100, refillPerMinute: 100 } },
      },
      () => now,
    )
    const attempt = (secret: string, source: string) =>
      authenticator.authenticate(basic('auth-client', secret), { source })
    for (let i = 0; i < 3; i++) {
      await expect(attempt(`wrong-${i}-0123456789abcdef`, `10.0.0.${i}`)).rejects.toBeInstanceOf(UnauthorizedError)
    }
    // Other sources do not help: the client id itself is limited...
    const limited = await attempt('wrong-3-0123456789abcdef', '10.0.0.99').catch((error: unknown) => error)
    expect(limited).toBeInstanceOf(RateLimitedError)
    expect((limited as RateLimitedError).retryAfterSeconds).toBe(10)
    // ...even for the right secret, which is not checked while the client id is limited...
    await expect(attempt(SECRET, '10.0.0.99')).rejects.toBeInstanceOf(RateLimitedError)
    // ...until a token is back (one every 10 s).
    now += 10_000
    await expect(attempt(SECRET, '10.0.0.99')).resolves.toMatchObject({ clientId: 'auth-client' })
  })

  it('limits failed attempts per source address across client ids', async () => {
    const now = 20_000_000
    const authenticator = new ApiClientAuthenticator(
      access,
      {
        failureLimits: { perClient: { burst: 100, refillPerMinute: 100 }, perSource: { burst: 4, refillPerMinute: 2 } },
      },
      () => now,
    )
    for (let i = 0; i < 4; i++) {
      await expect(
        authenticator.authenticate(basic(`guess-${i}`, 'wrong-0123456789abcdef'), { source: '192.0.2.7' }),
      ).rejects.toBeInstanceOf(UnauthorizedError)
    }
    const limited = await authenticator
      .authenticate(basic('guess-5', 'wrong-0123456789abcdef'), { source: '192.0.2.7' })
      .catch((error: unknown) => error)
    expect(limited).toBeInstanceOf(RateLimitedError)
    expect((limited as RateLimitedError).retryAfterSeconds).toBe(30)
    // Another address is not affected.
    await expect(
      authenticator.authenticate(basic('guess-5', 'wrong-0123456789abcdef'), { source: '192.0.2.8' }),
    ).rejects.toBeInstanceOf(UnauthorizedError)
    // An IPv6 client is one source per /64 (it owns all of them).
    for (let i = 0; i < 4; i++) {
      await expect(
        authenticator.authenticate(basic(`v6-${i}`, 'wrong-0123456789abcdef'), { source: `2001:db8:1:2::${i + 1}` }),
      ).rejects.toBeInstanceOf(UnauthorizedError)
    }
    await expect(
      authenticator.authenticate(basic('v6-9', 'wrong-0123456789abcdef'), { source: '2001:db8:1:2:ffff::9' }),
    ).rejects.toBeInstanceOf(RateLimitedError)
  })

  it('keeps a verified credential working, without a hash check, while its client id is under attack', async () => {
    counted.reads = 0
    let now = 30_000_000
    const { checked, verify } = countingVerifier()
    const authenticator = new ApiClientAuthenticator(
      counted,
      {
        cacheTtlMs: 60_000,
        verifySecret: verify,
        failureLimits: { perClient: { burst: 2, refillPerMinute: 1 }, perSource: { burst: 2, refillPerMinute: 1 } },
      },
      () => now,
    )
    await authenticator.authenticate(basic('auth-client', SECRET), { source: '127.0.0.1' })
    // The attack, from the legitimate client's own address.
    for (let i = 0; i < 20; i++) {
      await authenticator
        .authenticate(basic('auth-client', `wrong-${i}-0123456789abcdef`), { source: '127.0.0.1' })
        .catch(() => undefined)
    }
    expect(checked).toHaveLength(3)
    await expect(
      authenticator.authenticate(basic('auth-client', SECRET), { source: '127.0.0.1' }),
    ).resolves.toMatchObject({ clientId: 'auth-client' })
    // Past the cache period it is checked again against the table (still enabled, same hash), still no hash check.
    now += 60_001
    const reads = counted.reads
    await expect(
      authenticator.authenticate(basic('auth-client', SECRET), { source: '127.0.0.1' }),
    ).resolves.toMatchObject({ clientId: 'auth-client' })
    expect(counted.reads).toBe(reads + 1)
    expect(checked).toHaveLength(3)
  })

  it('checks one hash at a time, and refuses attempts beyond a bounded queue with 429', async () => {
    let running = 0
    let most = 0
    let open: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (open = resolve))
    const authenticator = new ApiClientAuthenticator(access, {
      maxConcurrentHashes: 1,
      maxQueuedHashes: 3,
      verifySecret: async (secret, stored) => {
        most = Math.max(most, ++running)
        await gate
        try {
          return await verifySecret(secret, stored)
        } finally {
          running--
        }
      },
    })
    const outcomes: string[] = []
    const attempts = Array.from({ length: 6 }, (_, i) =>
      authenticator.authenticate(basic(`queued-${i}`, 'wrong-0123456789abcdef'), { source: `192.0.2.${i}` }).then(
        () => outcomes.push('verified'),
        (error: unknown) => outcomes.push((error as Error).constructor.name),
      ),
    )
    // One checking (held at the gate), three waiting: the other two are turned away at once.
    await vi.waitFor(() => expect(outcomes).toEqual(['RateLimitedError', 'RateLimitedError']), { timeout: 10_000 })
    open()
    await Promise.all(attempts)
    expect(most).toBe(1)
    expect(outcomes.filter((outcome) => outcome === 'UnauthorizedError')).toHaveLength(4)
  })

  it('keeps its memory bounded however many client ids and addresses are tried', async () => {
    const authenticator = new ApiClientAuthenticator(access, {
      maxEntries: 50,
      verifySecret: async () => false,
      failureLimits: { maxTracked: 50 },
    })
    for (let i = 0; i < 200; i++) {
      await authenticator
        .authenticate(basic(`flood-${i}`, `wrong-${i}-0123456789abcdef`), { source: `198.51.100.${i % 250}` })
        .catch(() => undefined)
    }
    expect(authenticator.trackedEntries).toBeLessThanOrEqual(150)
  })

  it('logs failed logins once per interval, counted by client id and source', async () => {
    const lines: { message: string; extra?: Record<string, unknown> }[] = []
    const logger = Object.fromEntries(
      (['debug', 'info', 'warn', 'error'] as const).map((level) => [
        level,
        (message: string, extra?: Record<string, unknown>) => lines.push({ message, ...(extra ? { extra } : {}) }),
      ]),
    ) as unknown as Logger
    const failureLog = new FailureLog(logger, { intervalMs: 60_000 })
    const authenticator = new ApiClientAuthenticator(access, { failureLog })
    for (let i = 0; i < 6; i++) {
      await authenticator
        .authenticate(basic(i < 4 ? 'auth-client' : 'someone', `wrong-${i}-0123456789abcdef`), {
          source: i % 2 ? '203.0.113.1' : '203.0.113.2',
        })
        .catch(() => undefined)
    }
    // The first failure at once, the rest counted into the next line of its kind.
    expect(lines.filter((line) => line.message === 'authentication failed')).toHaveLength(1)
    failureLog.flush()
    const failed = lines.filter((line) => line.message === 'authentication failed')
    expect(failed).toHaveLength(2)
    expect(failed.reduce((sum, line) => sum + Number(line.extra?.count), 0)).toBe(6)
    expect(failed[1]?.extra).toMatchObject({
      count: 5,
      clientIds: { 'auth-client': 3, someone: 2 },
      sources: { '203.0.113.1': 3, '203.0.113.2': 2 },
    })
    expect(JSON.stringify(lines)).not.toContain('wrong-')
  })
})

describe('a principal re-checks its own credential', () => {
  it('until when it is trusted, and null once the client is disabled or its secret rotated out', async () => {
    let now = 40_000_000
    await provisionApiClient(
      access,
      { tenantId: 'TENANT_AUTH', tenantName: 'Auth', clientId: 'recheck-client', clientSecret: SECRET },
      new Date(),
    )
    const authenticator = new ApiClientAuthenticator(access, { cacheTtlMs: 1_000 }, () => now)
    const principal = await authenticator.authenticate(basic('recheck-client', SECRET))
    // Within the cache period: trusted until its end, no table read needed.
    expect(await principal.revalidate()).toBe(now + 1_000)
    now += 1_500
    expect(await principal.revalidate()).toBe(now + 1_000)
    // Rotated: the stored hash is not the one this credential matched.
    const record = await access.getApiClient('recheck-client')
    await access.putApiClient({
      ...(record as NonNullable<typeof record>),
      secretHash: await hashSecret('another-secret-0123456789'),
    })
    now += 1_500
    expect(await principal.revalidate()).toBeNull()
    // And the cache entry went with it: the old secret no longer authenticates.
    await expect(authenticator.authenticate(basic('recheck-client', SECRET))).rejects.toBeInstanceOf(UnauthorizedError)

    await access.putApiClient(record as NonNullable<typeof record>)
    now += 5_001 // past the memory of that failure
    const again = await authenticator.authenticate(basic('recheck-client', SECRET))
    await access.putApiClient({ ...(record as NonNullable<typeof record>), disabled: true })
    now += 1_500
    expect(await again.revalidate()).toBeNull()
  })
})
