// Lambda entry: webhook delivery, every minute (infra/jobs.ts): every webhook whose first or next attempt is due,
// in order per consent. The outbox relay (functions/outbox-relay.ts) makes first attempts at once; this run makes the
// retries, and any first attempt the relay missed (its records dead-lettered, or written before it was subscribed).
import type { Context } from 'aws-lambda'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { runScheduledJob } from './scheduled-job.ts'

const gateway = createGateway(deployedConfig())

/** Invoked by EventBridge Scheduler with an empty event. */
export async function handler(_event: unknown, context: Context) {
  return runScheduledJob('webhook delivery', gateway.logger, context, () => gateway.jobs.deliverDue())
}
