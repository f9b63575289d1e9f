// A webhook dispatcher in a process of its own, for the test that kills one mid-delivery: delivers whatever is due,
// again and again, until it is killed. Reads its table from the environment; prints "ready" once running.
import { createGateway } from '../../composition/gateway.ts'
import { silentLogger } from '../../runtime/logging.ts'
import { aGatewayConfig } from './fixtures.ts'

const env = process.env
const gateway = createGateway(
  aGatewayConfig(
    { tableName: env.TABLE_NAME ?? '', endpoint: env.DYNAMODB_ENDPOINT },
    { tokenEncryptionKeys: env.TOKEN_ENCRYPTION_KEYS, lifecycle: { leaseMs: Number(env.LEASE_MS ?? 1_000) } },
  ),
  { logger: silentLogger },
)

console.log('ready')
for (;;) {
  await gateway.jobs.deliverDue()
  // This process's schedule (the dispatcher's timer stands in here), not a test waiting for something.
  await new Promise((resolve) => setTimeout(resolve, 20))
}
