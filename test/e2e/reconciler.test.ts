// e2e: the reconciler re-checks consents at their providers on each provider's schedule and within its call
// budget, one runner per consent, and turns provider evidence into transitions: a Yapily consent revoked at the bank
// (still labelled AUTHORIZED, its data answering 403) becomes REVOKED with no call from the partner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIFECYCLE_DEFAULTS } from '../../service/config.ts'
import { LeaseRepository } from '../../store/lease-repository.ts'
import { decodePublicId } from '../../domain/ids.ts'
import { sandboxControl } from '../support/provider-drivers.ts'
import { decideAtBank, execute, startStack, type Stack } from '../support/stack.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
let offsetMs = 0
let stack: Stack

beforeAll(async () => {
  stack = await startStack({
    clock: () => new Date(Date.now() + offsetMs),
    lifecycle: {
      recheck: {
        ...LIFECYCLE_DEFAULTS.recheck,
        YAPILY: { pendingEveryMs: 5 * MINUTE, grantedEveryMs: 6 * HOUR, budgetPerRun: 2 },
      },
    },
  })
})
afterAll(async () => {
  await stack?.close()
})

const FIELDS = 'id status statusReason providerStatus providerConsentId authorizationUrl canAccessData version'
const gql = async (query: string, variables: Record<string, unknown> = {}) =>
  (await execute(stack.client(stack.tenantA), query, variables)).data as Record<string, any>
const get = async (id: string) =>
  (
    await gql(
      `query ($id: ID!) { consent(id: $id) { ... on Consent { ${FIELDS}
    events { edges { node { from to reason source initiator } } } } } }`,
      { id },
    )
  ).consent as Record<string, any>

async function create(userId: string) {
  const data = await gql(
    `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { ... on CreateConsentPayload { consent { ${FIELDS} } } } }`,
    { input: { provider: 'YAPILY', institutionId: 'modelo-sandbox', userId, region: 'UK' } },
  )
  return data.createConsent.consent as Record<string, any>
}

async function approve(consent: Record<string, any>) {
  const atBank = await decideAtBank(consent.authorizationUrl as string, 'approve')
  await fetch(atBank.location ?? '', { redirect: 'manual' })
  return get(consent.id as string)
}

/** Moves the gateway's clock `ms` ahead of the wall clock, then reconciles once. */
const reconcileAt = async (ms: number) => {
  offsetMs = ms
  return stack.gateway.jobs.reconcile()
}

describe('the reconciler', () => {
  it('finds a consent revoked at the bank at its next scheduled check', async () => {
    // Prepare: an ACTIVE Yapily consent, then revoked at the bank behind the provider's back
    const consent = await approve(await create('y-reconcile-revoked'))
    expect(consent.status).toBe('ACTIVE')
    await sandboxControl(stack.yapily.url, `consents/${consent.providerConsentId}/revoke-at-bank`, {})
    // Act + Assess: not due before its granted-consent interval (6 hours) has passed
    expect(await reconcileAt(5 * HOUR)).toMatchObject({ checked: 0 })
    expect((await get(consent.id)).status).toBe('ACTIVE')
    const report = await reconcileAt(6 * HOUR + MINUTE)
    expect(report).toMatchObject({ checked: 1, changed: 1, failed: 0 })
    const revoked = await get(consent.id)
    expect(revoked).toMatchObject({
      status: 'REVOKED',
      statusReason: 'REVOKED_AT_BANK',
      providerStatus: 'AUTHORIZED',
      canAccessData: false,
    })
    expect(revoked.events.edges.at(-1).node).toEqual({
      from: 'ACTIVE',
      to: 'REVOKED',
      reason: 'REVOKED_AT_BANK',
      source: 'PROVIDER_POLL',
      initiator: 'scheduler',
    })
    // Terminal: never re-checked again
    expect(await reconcileAt(48 * HOUR)).toMatchObject({ checked: 0 })
  })

  it("spends at most the provider's budget per run, skips what another runner holds, and re-schedules the rest", async () => {
    // Prepare: three consents waiting for their users (re-checked every 5 minutes, 2 calls per run)
    offsetMs = 0
    const pending = [await create('y-budget-1'), await create('y-budget-2'), await create('y-budget-3')]
    const base = 100 * HOUR // past every earlier consent's schedule too: only these three are still re-checked
    // Another runner holds the third one
    const leases = new LeaseRepository(stack.table.db, stack.table.tableName)
    const held = await leases.acquire(
      { tenantId: stack.tenantA.tenantId, consentId: decodePublicId(pending[2]?.id as string)?.id ?? '' },
      'RECONCILE',
      'another-runner',
      new Date(Date.now() + base),
      60_000,
    )
    expect(held).not.toBeNull()
    // Act + Assess
    const first = await reconcileAt(base)
    const second = await reconcileAt(base + 1_000)
    // Which two the first run reads depends on the shards' order; either way it spends exactly its budget, the two
    // free consents are checked once between the runs, and the held one is skipped whenever it is read.
    expect(first.checked + first.skipped).toBe(2)
    expect(first.checked + second.checked).toBe(2)
    expect(first.skipped + second.skipped).toBeGreaterThanOrEqual(1)
    expect(first.skipped + second.skipped).toBeLessThanOrEqual(2)
    // Once the other runner's lease has run out, the third is checked; the first two wait their 5 minutes
    expect(await reconcileAt(base + 2 * MINUTE)).toMatchObject({ checked: 1, skipped: 0 })
    expect(await reconcileAt(base + 3 * MINUTE)).toMatchObject({ checked: 0 })
    expect(await reconcileAt(base + 6 * MINUTE)).toMatchObject({ checked: 2 })
    for (const consent of pending) expect((await get(consent.id)).status).toBe('AWAITING_AUTHORIZATION')
  })
})
