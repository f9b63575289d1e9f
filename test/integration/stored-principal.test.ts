// connected: a principal stored between invocations (a WebSocket connection through API Gateway) against DynamoDB
// Local: what is stored names no secret and no hash; restored, in another process's authenticator, it checks what the
// live principal checks: the client enabled in its tenant, a Basic secret not rotated out (until its grace ends), a
// token unexpired and its user's tokens unrevoked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AccessTokens } from '../../service/access-tokens.ts'
import { ApiClientAuthenticator, secretHashFingerprint } from '../../service/authentication.ts'
import { CallerAuthenticator } from '../../service/caller-authentication.ts'
import { hashSecret } from '../../crypto/secret-hash.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { newSigningKey, parseSigningKeys } from '../../crypto/token-keys.ts'
import { AccessRepository, type ApiClientRecord } from '../../store/access-repository.ts'
import { TokenRevocationRepository } from '../../store/token-revocation-repository.ts'
import { WebSocketRepository } from '../../store/ws-repository.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'

let table: TestTable
let access: AccessRepository
const TENANT = 'TENANT_STORED'
const SECRET = 'stored-principal-secret-0123456789'
const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`
const signingKeys = parseSigningKeys(JSON.stringify([newSigningKey()]))

beforeAll(async () => {
  table = await createTestTable()
  access = new AccessRepository(table.db, table.tableName)
})
afterAll(() => table?.db.destroy())

/** An authenticator as one Lambda invocation's process has it, on a clock the test moves. */
function authenticatorAt(clock: { now: number }) {
  const now = () => clock.now
  return new CallerAuthenticator(
    new ApiClientAuthenticator(access, { cacheTtlMs: 1_000 }, now),
    new AccessTokens({
      keys: signingKeys,
      issuer: 'http://gateway.test',
      audience: 'http://gateway.test/graphql',
      revocations: new TokenRevocationRepository(table.db, table.tableName),
      access,
      settings: { clientRecheckMs: 1_000, revocationCacheMs: 1_000 },
      now,
    }),
  )
}

async function aClient(clientId: string): Promise<ApiClientRecord> {
  await provisionApiClient(
    access,
    { tenantId: TENANT, tenantName: 'Stored', clientId, clientSecret: SECRET },
    new Date(),
  )
  return (await access.getApiClient(clientId)) as ApiClientRecord
}

/** Stored as the connection item stores it, and read back. */
async function throughTheTable(stored: ReturnType<CallerAuthenticator['describe']>) {
  const repo = new WebSocketRepository(table.db, table.tableName)
  const connectionId = `conn-${Math.random()}`
  await repo.putConnection(
    {
      connectionId,
      connectedAt: new Date().toISOString(),
      clientAddress: '',
      origin: null,
      principal: null,
      trustedUntil: null,
    },
    new Date(),
  )
  await repo.acknowledge(connectionId, stored, 0)
  return (await repo.getConnection(connectionId))?.principal ?? null
}

describe('a Basic principal, stored and restored', () => {
  it('stores which hash its secret matched, never the secret or the hash', async () => {
    // Prepare
    const record = await aClient('stored-basic')
    const authenticator = authenticatorAt({ now: Date.now() })
    const principal = await authenticator.authenticate(basic('stored-basic', SECRET))
    // Act
    const stored = await throughTheTable(authenticator.describe(principal))
    // Assert
    expect(stored).toEqual({
      kind: 'API_CLIENT',
      credential: 'BASIC',
      tenantId: TENANT,
      clientId: 'stored-basic',
      secretHashFingerprint: secretHashFingerprint(record.secretHash),
    })
    expect(JSON.stringify(stored)).not.toContain(SECRET)
    expect(JSON.stringify(stored)).not.toContain(record.secretHash.split('$').at(-1))
  })

  it('refuses to describe a principal it did not verify (one built by hand)', () => {
    const authenticator = authenticatorAt({ now: Date.now() })
    const forged = {
      kind: 'API_CLIENT',
      credential: 'BASIC',
      tenantId: TENANT,
      clientId: 'x',
      revalidate: async () => 1,
    }
    expect(() => authenticator.describe(forged as never)).toThrow(/not a principal this authenticator verified/)
  })

  it('holds while the client is enabled with that secret, once per cache period, and not once it is disabled', async () => {
    // Prepare
    const record = await aClient('stored-disable')
    const clock = { now: Date.now() }
    const live = authenticatorAt(clock)
    const stored = live.describe(await live.authenticate(basic('stored-disable', SECRET)))
    const restored = authenticatorAt(clock).restore((await throughTheTable(stored))!)
    // Act
    const first = await restored.revalidate()
    await access.putApiClient({ ...record, disabled: true })
    const withinCachePeriod = await restored.revalidate()
    clock.now += 1_001
    const afterIt = await restored.revalidate()
    // Assert
    expect(restored).toMatchObject({
      kind: 'API_CLIENT',
      credential: 'BASIC',
      tenantId: TENANT,
      clientId: 'stored-disable',
    })
    expect(first).toBe(clock.now - 1_001 + 1_000)
    expect(withinCachePeriod).toBe(first)
    expect(afterIt).toBeNull()
  })

  it('holds after a rotation until the grace of the secret rotated out ends, and not without a grace', async () => {
    // Prepare
    const record = await aClient('stored-rotate')
    const clock = { now: Date.now() }
    const live = authenticatorAt(clock)
    const stored = live.describe(await live.authenticate(basic('stored-rotate', SECRET)))
    const graceEnd = clock.now + 10_000
    await access.putApiClient({
      ...record,
      secretHash: await hashSecret('the-new-secret-0123456789'),
      previousSecretHash: record.secretHash,
      previousSecretUntil: new Date(graceEnd).toISOString(),
    })
    // Act
    const duringGrace = await authenticatorAt(clock).restore(stored).revalidate()
    clock.now += 9_500
    const nearItsEnd = await authenticatorAt(clock).restore(stored).revalidate()
    clock.now += 500
    const atItsEnd = await authenticatorAt(clock).restore(stored).revalidate()
    // Assert: trusted for the cache period, never past the grace
    expect(duringGrace).toBe(clock.now - 10_000 + 1_000)
    expect(nearItsEnd).toBe(graceEnd)
    expect(atItsEnd).toBeNull()
  })

  it('describes a restored principal as it was stored, so a subscription can copy it', async () => {
    // Prepare
    await aClient('stored-again')
    const live = authenticatorAt({ now: Date.now() })
    const stored = live.describe(await live.authenticate(basic('stored-again', SECRET)))
    const elsewhere = authenticatorAt({ now: Date.now() })
    // Act
    const again = elsewhere.describe(elsewhere.restore(stored))
    // Assert
    expect(again).toEqual(stored)
  })

  it('does not hold in another tenant, nor for another client with the same hash fingerprint', async () => {
    // Prepare
    await aClient('stored-tenant')
    const clock = { now: Date.now() }
    const live = authenticatorAt(clock)
    const stored = live.describe(await live.authenticate(basic('stored-tenant', SECRET)))
    if (stored.kind !== 'API_CLIENT' || stored.credential !== 'BASIC') throw new Error('expected a Basic description')
    // Act
    const otherTenant = await authenticatorAt(clock)
      .restore({ ...stored, tenantId: 'TENANT_OTHER' })
      .revalidate()
    const otherClient = await authenticatorAt(clock)
      .restore({ ...stored, clientId: 'stored-basic' })
      .revalidate()
    // Assert
    expect(otherTenant).toBeNull()
    expect(otherClient).toBeNull()
  })
})

describe('a token principal, stored and restored', () => {
  it("stores a partner's token's claims and holds until the token expires", async () => {
    // Prepare
    await aClient('stored-bearer')
    const clock = { now: Date.now() }
    const live = authenticatorAt(clock)
    const partner = await live.authenticate(basic('stored-bearer', SECRET))
    const token = await live.tokens.issueForClient(partner as never)
    const principal = await live.authenticate(`Bearer ${token.accessToken}`)
    // Act
    const stored = await throughTheTable(live.describe(principal))
    const restored = authenticatorAt(clock).restore(stored!)
    const now = await restored.revalidate()
    clock.now = token.expiresAt
    const atExpiry = await restored.revalidate()
    // Assert
    expect(stored).toEqual({
      kind: 'API_CLIENT',
      credential: 'BEARER',
      tenantId: TENANT,
      clientId: 'stored-bearer',
      tokenId: token.tokenId,
      expiresAt: token.expiresAt,
    })
    expect(JSON.stringify(stored)).not.toContain(token.accessToken)
    expect(now).toBeGreaterThan(Date.now())
    expect(atExpiry).toBeNull()
  })

  it("stores a user's token's scope and holds until its user's tokens are revoked", async () => {
    // Prepare
    await aClient('stored-user')
    const clock = { now: Date.now() }
    const live = authenticatorAt(clock)
    const partner = await live.authenticate(basic('stored-user', SECRET))
    const token = await live.tokens.issueForUser(partner, {
      userId: 'user-7',
      scopes: ['consents:read'],
      consentIds: ['consent_01JD0000000000000000000000'],
    })
    const principal = await live.authenticate(`Bearer ${token.accessToken}`)
    const stored = await throughTheTable(live.describe(principal))
    const restored = authenticatorAt(clock).restore(stored!)
    // Act
    const before = await restored.revalidate()
    clock.now += 1
    await live.tokens.revokeUserTokens(partner, 'user-7')
    clock.now += 1_001
    const after = await restored.revalidate()
    // Assert
    expect(restored).toMatchObject({
      kind: 'END_USER',
      tenantId: TENANT,
      clientId: 'stored-user',
      userId: 'user-7',
      scopes: ['consents:read'],
      consentIds: ['01JD0000000000000000000000'],
      tokenId: token.tokenId,
      expiresAt: token.expiresAt,
    })
    expect(before).not.toBeNull()
    expect(after).toBeNull()
  })

  it("does not hold once the token's client is disabled", async () => {
    // Prepare
    const record = await aClient('stored-user-disabled')
    const clock = { now: Date.now() }
    const live = authenticatorAt(clock)
    const partner = await live.authenticate(basic('stored-user-disabled', SECRET))
    const token = await live.tokens.issueForUser(partner, { userId: 'user-8', scopes: ['consents:read'] })
    const stored = live.describe(await live.authenticate(`Bearer ${token.accessToken}`))
    // Act
    await access.putApiClient({ ...record, disabled: true })
    const restored = await authenticatorAt(clock).restore(stored).revalidate()
    // Assert
    expect(restored).toBeNull()
  })
})
