// Lambda entry: the reconciler, every 5 minutes (infra/jobs.ts): consents due for a re-check are read again at their
// providers, within each provider's call budget per run, and any change the provider did not notify is recorded.
import type { Context } from 'aws-lambda'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { runScheduledJob } from './scheduled-job.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())

/** Invoked by EventBridge Scheduler with an empty event. */
async function handle(_event: unknown, context: Context) {
  return runScheduledJob('reconciliation', gateway.logger, context, () => gateway.jobs.reconcile())
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
