// The one consent the consent-get suite reads, the request both targets get, and the exact answer both must give:
// shared by the servers (which seed and serve it) and the suite (which checks every answer against it).
import { addDays, newConsent, newConsentEvent, type Consent, type ConsentEvent } from '../domain/consent.ts'
import { encodePublicId } from '../domain/ids.ts'

export const BENCH_TABLE = 'consent-gateway-bench'

/** ULIDs (Crockford base-32), readable in a table dump. */
export const BENCH_TENANT_ID = '01JD0BENCHTENANT0000000000'
export const BENCH_CONSENT_ID = '01JD0BENCHC0NSENT000000001'
export const BENCH_CONSENT_PUBLIC_ID = encodePublicId('Consent', BENCH_CONSENT_ID)

export const BENCH_CLIENT = { clientId: 'bench-client', clientSecret: 'bench-secret-0123456789abcdef' } as const

export const CONSENT_QUERY = 'query ConsentById($id: ID!) { consent(id: $id) { ... on Consent { id status version } } }'

/** The POST body both targets get (the raw server reads the id from it too). */
export const CONSENT_REQUEST_BODY = JSON.stringify({
  query: CONSENT_QUERY,
  variables: { id: BENCH_CONSENT_PUBLIC_ID },
})

/**
 * What the query answers for the seeded consent, byte for byte. Its link expires a week after seeding, so the
 * effective status stays the stored CREATED for the whole run.
 */
export const EXPECTED_ANSWER = JSON.stringify({
  data: { consent: { id: BENCH_CONSENT_PUBLIC_ID, status: 'CREATED', version: 1 } },
})

/** The gateway's answer: the same, with the query's cost as every gateway answer carries it (schema/cost.ts). */
export const EXPECTED_GATEWAY_ANSWER = JSON.stringify({
  data: { consent: { id: BENCH_CONSENT_PUBLIC_ID, status: 'CREATED', version: 1 } },
  extensions: { cost: { requested: 12, limit: 5000 } },
})

/** The seeded consent (the shape of test/support/fixtures.ts `aConsent()`), created at `now`. */
export function benchConsent(now: Date): Consent {
  return newConsent({
    id: BENCH_CONSENT_ID,
    tenantId: BENCH_TENANT_ID,
    provider: 'FINQWARE',
    providerConsentId: 'fq-bench-1',
    userId: 'bench-user-1',
    providerUserRef: null,
    institution: { id: 'bt_ro', name: 'Banca Transilvania', country: 'RO' },
    region: 'EEA',
    scope: ['ACCOUNTS', 'BALANCES', 'TRANSACTIONS'],
    validityDays: 90,
    observed: {
      providerStatus: 'created',
      status: 'CREATED',
      reason: null,
      authorizationUrl: 'https://bank.example/link/bench-1',
      linkExpiresAt: addDays(now, 7),
    },
    at: now.toISOString(),
  })
}

/** The creation event that goes with {@link benchConsent}. */
export function benchConsentCreated(consent: Consent): ConsentEvent {
  return newConsentEvent(consent, null, {
    id: '01JD0BENCHEVENT00000000001',
    source: 'API',
    initiator: `api-client:${BENCH_CLIENT.clientId}`,
  })
}
