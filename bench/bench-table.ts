// The bench table as the Lambda bundle benches (bench/lambda-bundles.ts, bench/ws-handlers.ts) need it: created, with
// the bench's API client and the one consent of bench/consent-fixture.ts, and the environment their bundles read it
// with. Kept apart from that module, which a bundled fixture imports and which must stay free of the store.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createGateway } from '../composition/gateway.ts'
import { notificationFor } from '../domain/notification.ts'
import { silentLogger } from '../runtime/logging.ts'
import { configFromEnv } from '../service/config.ts'
import { provisionApiClient } from '../service/tenants.ts'
import { AccessRepository } from '../store/access-repository.ts'
import { createDocumentClient, createDynamoClient } from '../store/client.ts'
import { ConsentRepository } from '../store/consent-repository.ts'
import { ensureTable } from '../store/table-admin.ts'
import { newSigningKey } from '../crypto/token-keys.ts'
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

/**
 * The environment a built function bundle reads the bench table with: the stage's settings as a deployed function gets
 * them (a required signing key included), logging off.
 */
export function benchFunctionEnv(endpoint: string): Record<string, string> {
  return {
    TABLE_NAME: BENCH_TABLE,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: 'SILENT',
    PUBLIC_BASE_URL: 'http://127.0.0.1:9',
    CURSOR_SECRET: 'bench-cursor-secret-0123456789abcdef',
    USER_REFERENCE_KEY: 'bench-user-reference-key-0123456789abcdef',
    // Every stage has its signing keys (a required secret): the GraphQL bundle parses them at start either way.
    TOKEN_SIGNING_KEYS: JSON.stringify([newSigningKey()]),
  }
}

/**
 * The bench client's bearer token as /oauth/token gives it to a client that sent its Basic credentials: signed with the
 * stage's key from `env` for its issuer and audience, by the gateway built from that environment.
 */
export async function benchBearerToken(env: Record<string, string>, db: DynamoDBDocumentClient): Promise<string> {
  const issued = await createGateway(configFromEnv(env), { db, logger: silentLogger }).tokens.issueForClient({
    kind: 'API_CLIENT',
    credential: 'BASIC',
    tenantId: BENCH_TENANT_ID,
    clientId: BENCH_CLIENT.clientId,
    revalidate: async () => null,
  })
  return issued.accessToken
}
