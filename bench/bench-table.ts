// The bench table as the Lambda bundle benches (bench/lambda-bundles.ts, bench/ws-handlers.ts) need it: created, with
// the bench's API client and the one consent of bench/consent-fixture.ts. Kept apart from that module, which a bundled
// fixture imports and which must stay free of the store.
import { notificationFor } from '../domain/notification.ts'
import { provisionApiClient } from '../service/tenants.ts'
import { AccessRepository } from '../store/access-repository.ts'
import { createDocumentClient, createDynamoClient } from '../store/client.ts'
import { ConsentRepository } from '../store/consent-repository.ts'
import { ensureTable } from '../store/table-admin.ts'
import { BENCH_CLIENT, BENCH_TABLE, BENCH_TENANT_ID, benchConsent, benchConsentCreated } from './consent-fixture.ts'

/** Creates and seeds {@link BENCH_TABLE} on the DynamoDB at `endpoint`; the caller destroys the client it returns. */
export async function seedBenchTable(endpoint: string) {
  const client = createDynamoClient({ endpoint })
  await ensureTable(client, BENCH_TABLE)
  const db = createDocumentClient(client)
  const now = new Date()
  await provisionApiClient(
    new AccessRepository(db, BENCH_TABLE),
    { ...BENCH_CLIENT, tenantId: BENCH_TENANT_ID, tenantName: 'Bench' },
    now,
  )
  const consent = benchConsent(now)
  const created = benchConsentCreated(consent)
  await new ConsentRepository(db, BENCH_TABLE).create(consent, created, notificationFor(created, consent))
  return { client, db }
}
