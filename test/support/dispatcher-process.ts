// A webhook dispatcher in a process of its own, for the test that kills one mid-delivery: delivers whatever is due,
// again and again, until it is killed. Reads its table from the environment; prints "ready" once running.
import { createGateway } from '../../service/gateway.ts'
import { silentLogger } from '../../service/logging.ts'

const env = process.env
const gateway = createGateway(
  {
    tableName: env.TABLE_NAME ?? '',
    dynamoEndpoint: env.DYNAMODB_ENDPOINT,
    publicBaseUrl: 'http://127.0.0.1:1',
    cursorSecret: 'test-cursor-secret-0123456789abcdef',
    localMode: true,
    subscriptionPollIntervalMs: 100,
    subscriptionMaxSeconds: 30,
    authCacheTtlMs: 60_000,
    tokenEncryptionKeys: env.TOKEN_ENCRYPTION_KEYS,
    lifecycle: { leaseMs: Number(env.LEASE_MS ?? 1_000) },
    providers: {},
  },
  { logger: silentLogger },
)

console.log('ready')
for (;;) {
  await gateway.jobs.deliverDue()
  await new Promise((resolve) => setTimeout(resolve, 20))
}
