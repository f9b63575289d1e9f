// Lambda entry: the deadline sweep, every 5 minutes (infra/jobs.ts): link expiry, expiry warnings, end of validity
// and UK reconfirmation, applied to every consent whose deadline has come (read from the sparse due-work index).
import type { Context } from 'aws-lambda'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { runScheduledJob } from './scheduled-job.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())

/** Invoked by EventBridge Scheduler with an empty event. */
async function handle(_event: unknown, context: Context) {
  return runScheduledJob('deadline sweep', gateway.logger, context, () => gateway.jobs.sweepDeadlines())
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
