// Lambda entry: webhook delivery, every minute (infra/jobs.ts): every webhook whose first or next attempt is due,
// in order per consent. The outbox relay (functions/outbox-relay.ts) makes first attempts at once; this run makes the
// retries, and any first attempt the relay missed (its records dead-lettered, or written before it was subscribed).
import type { Context } from 'aws-lambda'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { runScheduledJob } from './scheduled-job.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())

/** Invoked by EventBridge Scheduler with an empty event. */
async function handle(_event: unknown, context: Context) {
  return runScheduledJob('webhook delivery', gateway.logger, context, () => gateway.jobs.deliverDue())
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
