import { describe, expect, it } from 'vitest'
import { callerOf } from '../../schema/caller.ts'
import type { GraphQLContext } from '../../schema/context.ts'
import { withCost } from '../../schema/cost.ts'
import type { ApiClientPrincipal, EndUserPrincipal } from '../../service/principal.ts'

// The per-request objects the hot path builds without object spreads (schema/caller.ts, schema/cost.ts): the same
// fields as before, and a request's signal still made only when a use case reads it.

const revalidate = () => Promise.resolve(null)
const partner: ApiClientPrincipal = {
  kind: 'API_CLIENT',
  credential: 'BASIC',
  tenantId: 'tenant-a',
  clientId: 'client-a',
  revalidate,
}
const user: EndUserPrincipal = {
  kind: 'END_USER',
  tenantId: 'tenant-a',
  clientId: 'client-a',
  userId: 'user-1',
  scopes: ['consents:read'],
  consentIds: ['01JD0000000000000000000001'],
  tokenId: '01JD0000000000000000000002',
  issuedAt: 0,
  expiresAt: 1,
  revalidate,
}

function contextOf(principal: GraphQLContext['principal']) {
  let signalsMade = 0
  const signal = new AbortController().signal
  const context = {
    principal,
    requestId: 'req-1',
    get signal() {
      signalsMade++
      return signal
    },
  } as unknown as GraphQLContext
  return { context, signal, signalsMade: () => signalsMade }
}

describe('callerOf', () => {
  it("gives a partner its tenant-wide scope, its initiator and the request's id", () => {
    const { context } = contextOf(partner)
    const caller = callerOf(context)
    expect({ ...caller }).toEqual({ tenantId: 'tenant-a', initiator: 'api-client:client-a', requestId: 'req-1' })
    expect('userId' in caller || 'consentIds' in caller || 'canWrite' in caller).toBe(false)
  })

  it("narrows an end user's caller to the user, the token's consents and whether it may write", () => {
    const { context } = contextOf(user)
    expect({ ...callerOf(context) }).toEqual({
      tenantId: 'tenant-a',
      userId: 'user-1',
      consentIds: ['01JD0000000000000000000001'],
      canWrite: false,
      initiator: 'api-client:client-a/end-user:user-1',
      requestId: 'req-1',
    })
  })

  it("reads the request's signal only when a use case asks for it", () => {
    const { context, signal, signalsMade } = contextOf(partner)
    const caller = callerOf(context)
    expect(signalsMade()).toBe(0)
    expect(caller.signal).toBe(signal)
    expect(signalsMade()).toBe(1)
  })
})

describe('withCost', () => {
  it('adds the cost to a copy, keeping every other field and extension', () => {
    const stringify = (value: unknown) => JSON.stringify(value)
    const result = { data: { a: 1 }, extensions: { other: true }, stringify }
    const costed = withCost(result, { requested: 12, limit: 5000 })
    expect(costed).toEqual({
      data: { a: 1 },
      extensions: { other: true, cost: { requested: 12, limit: 5000 } },
      stringify,
    })
    expect(result.extensions).toEqual({ other: true })
    expect(withCost({ data: null }, { requested: 1, limit: 2 })).toEqual({
      data: null,
      extensions: { cost: { requested: 1, limit: 2 } },
    })
  })
})
