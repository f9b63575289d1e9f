// connected: access tokens against DynamoDB Local, counting every request the table gets. A partner's token verifies
// with no table read at all; a user's token reads its user's revocation once per cache period; a revocation is
// refused on the process that made it at once and on another within that period, and only moves forward.
import { GetCommand } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { InvalidTokenError } from '../../domain/errors.ts'
import { AccessTokens, type AccessTokensDependencies } from '../../service/access-tokens.ts'
import type { ApiClientPrincipal } from '../../service/principal.ts'
import { provisionApiClient } from '../../service/tenants.ts'
import { parseSigningKeys, newSigningKey } from '../../crypto/token-keys.ts'
import { AccessRepository } from '../../store/access-repository.ts'
import { TokenRevocationRepository } from '../../store/token-revocation-repository.ts'
import { keys as itemKeys } from '../../store/keys.ts'
import { countingClient, createTestTable, type TestTable } from '../support/dynamo.ts'

let table: TestTable
/** Commands the counted client sent since the last reset. */
let commands: string[]
let revocations: TokenRevocationRepository
let access: AccessRepository
const signingKeys = parseSigningKeys(JSON.stringify([newSigningKey()]))
const TENANT = '01JD0TENANTTOKENS000000000'

const partner: ApiClientPrincipal = {
  kind: 'API_CLIENT',
  credential: 'BASIC',
  tenantId: TENANT,
  clientId: 'client-tokens',
  revalidate: async () => null,
}

beforeAll(async () => {
  table = await createTestTable()
  const counting = countingClient(table.endpoint)
  const db = counting.db
  commands = counting.commands
  revocations = new TokenRevocationRepository(db, table.tableName)
  access = new AccessRepository(db, table.tableName)
  // Minting asks the table whether the client is still enabled; verifying never does.
  await provisionApiClient(
    access,
    {
      tenantId: partner.tenantId,
      clientId: partner.clientId,
      clientSecret: 'partner-secret-of-tokens',
      tenantName: 'Partner',
    },
    new Date(),
  )
})
afterAll(() => {
  commands.length = 0
})

/** AccessTokens over the counted table, on a clock the test moves. */
function tokensAt(clock: { now: number }, settings: AccessTokensDependencies['settings'] = {}) {
  return new AccessTokens({
    keys: signingKeys,
    issuer: 'http://gateway.test',
    audience: 'http://gateway.test/graphql',
    revocations,
    access,
    settings,
    now: () => clock.now,
  })
}

describe('verifying access tokens', () => {
  it("reads nothing from the table for a partner's token, however often", async () => {
    // Prepare
    const clock = { now: Date.now() }
    const tokens = tokensAt(clock)
    const { accessToken } = await tokens.issueForClient(partner)
    commands.length = 0

    // Act
    for (let i = 0; i < 200; i++) await tokens.verify(accessToken)

    // Assess
    expect(commands).toEqual([])
    expect(await tokens.verify(accessToken)).toMatchObject({
      kind: 'API_CLIENT',
      credential: 'BEARER',
      tenantId: TENANT,
      clientId: 'client-tokens',
    })
  })

  it("checks a partner's token's signature once, then holds it until the token expires and no later", async () => {
    // Prepare
    const clock = { now: Date.now() }
    const tokens = tokensAt(clock, { clockToleranceSeconds: 0 })
    const { accessToken, expiresAt } = await tokens.issueForClient(partner)
    const signatureChecks = vi.spyOn(globalThis.crypto.subtle, 'verify')

    try {
      // Act
      for (let i = 0; i < 20; i++) await tokens.verify(accessToken)
      const checksWhileValid = signatureChecks.mock.calls.length
      clock.now = expiresAt
      const afterExpiry = tokens.verify(accessToken)

      // Assess
      expect(checksWhileValid).toBe(1)
      await expect(afterExpiry).rejects.toThrow('The access token has expired')
    } finally {
      signatureChecks.mockRestore()
    }
  })

  it('verifies afresh a token that differs in any byte from one it holds', async () => {
    // Prepare
    const clock = { now: Date.now() }
    const tokens = tokensAt(clock)
    const { accessToken } = await tokens.issueForClient(partner)
    await tokens.verify(accessToken)
    const [header, payload, signature] = accessToken.split('.')
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>
    const otherTenant = Buffer.from(JSON.stringify({ ...claims, tenant: 'OTHER_TENANT' })).toString('base64url')

    // Act
    const forged = tokens.verify(`${header}.${otherTenant}.${signature}`)

    // Assess
    await expect(forged).rejects.toBeInstanceOf(InvalidTokenError)
  })

  it("reads a user's revocation once per cache period, shared by that user's tokens", async () => {
    // Prepare
    const clock = { now: Date.now() }
    const tokens = tokensAt(clock, { revocationCacheMs: 5_000 })
    const minted = await Promise.all(
      [1, 2, 3].map(() => tokens.issueForUser(partner, { userId: 'user-cached', scopes: ['consents:read'] })),
    )
    commands.length = 0

    // Act
    await Promise.all(minted.flatMap(({ accessToken }) => Array.from({ length: 20 }, () => tokens.verify(accessToken))))
    const withinPeriod = [...commands]
    clock.now += 5_001
    await tokens.verify(minted[0]?.accessToken ?? '')

    // Assess
    expect(withinPeriod).toEqual(['GetItemCommand'])
    expect(commands).toEqual(['GetItemCommand', 'GetItemCommand'])
  })

  it('refuses revoked tokens at once where revoked and within the cache period elsewhere; later tokens hold', async () => {
    // Prepare: two processes' worth of AccessTokens over one table, both having seen the token
    const clock = { now: Date.now() }
    const here = tokensAt(clock)
    const elsewhere = tokensAt(clock)
    const { accessToken } = await here.issueForUser(partner, { userId: 'user-revoked', scopes: ['consents:read'] })
    await elsewhere.verify(accessToken)

    // Act
    clock.now += 1
    const revokedBefore = await here.revokeUserTokens(partner, 'user-revoked')

    // Assess: here at once; elsewhere still cached, then refused once its period has run out
    await expect(here.verify(accessToken)).rejects.toThrow(InvalidTokenError)
    await expect(elsewhere.verify(accessToken)).resolves.toMatchObject({ kind: 'END_USER' })
    clock.now += 5_001
    await expect(elsewhere.verify(accessToken)).rejects.toThrow(/revoked/)
    clock.now += 1
    const later = await here.issueForUser(partner, { userId: 'user-revoked', scopes: ['consents:read'] })
    await expect(elsewhere.verify(later.accessToken)).resolves.toMatchObject({ userId: 'user-revoked' })
    // The item lapses (TTL) once every token it revokes has expired anyway.
    const { Item } = await table.db.send(
      new GetCommand({ TableName: table.tableName, Key: itemKeys.userTokenRevocation(TENANT, 'user-revoked') }),
    )
    expect(Item).toMatchObject({ entityType: 'USER_TOKEN_REVOCATION', revokedBefore, userId: 'user-revoked' })
    expect(Number(Item?.expiresAt)).toBeGreaterThan(Math.floor(revokedBefore / 1000) + 3_600)
  })

  it('keeps the later revocation when an earlier one arrives after it', async () => {
    await revocations.revoke(TENANT, 'user-order', 2_000, 9_999)
    await revocations.revoke(TENANT, 'user-order', 1_000, 9_999)
    expect(await revocations.revokedBefore(TENANT, 'user-order')).toBe(2_000)
    expect(await revocations.revokedBefore(TENANT, 'user-never')).toBeNull()
  })
})
