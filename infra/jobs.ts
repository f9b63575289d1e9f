// The gateway's background work: three schedules (EventBridge Scheduler through CronV2) for the deadline sweep, the
// reconciler and webhook retries, and the outbox relay on the table's stream, whose failures end in a dead-letter
// queue. Every function is a gateway function (infra/functions.ts): same bundling, same links (the table, the secrets).
import { OUTBOX_INSERT_FILTER } from '../functions/outbox-records.ts'
import { baseUrl } from './api.ts'
import { gatewayFunction } from './functions.ts'
import { table } from './storage.ts'

/** What a scheduled job's function is given beyond the shared gateway settings. */
interface JobFunction {
  readonly handler: string
  readonly description: string
  /** Under the schedule's period, so one run ends before the next begins. */
  readonly timeout: sst.aws.FunctionArgs['timeout']
}

/**
 * A schedule invoking a gateway function built here, not from `FunctionArgs` handed to CronV2 (which would build it
 * inside an `apply`): the function is then declared like every other, with gatewayFunction's links and environment,
 * which test/infra/api.test.ts checks of every function.
 */
function scheduledJob(name: string, schedule: sst.aws.CronV2Args['schedule'], job: JobFunction): sst.aws.CronV2 {
  const fn = new sst.aws.Function(`${name}Job`, {
    ...gatewayFunction(baseUrl),
    ...job,
    memory: '512 MB',
    // Scheduler invokes asynchronously, and Lambda would retry a failed run twice, into the next ticks: the next tick
    // is the retry.
    retries: 0,
  })
  return new sst.aws.CronV2(name, { schedule, function: fn })
}

/**
 * The deadline sweep (functions/sweep-deadlines.ts). Deadlines are days apart (link expiry, warnings, end of
 * validity, reconfirmation), so five minutes late is on time. An overlapping run would be harmless (the sweep's
 * writes are version-conditioned), but there is no use in one.
 */
export const sweepDeadlines = scheduledJob('SweepDeadlines', 'rate(5 minutes)', {
  handler: 'functions/sweep-deadlines.handler',
  description: 'Deadline sweep: link expiry, warnings, end of validity, reconfirmation (every 5 minutes)',
  timeout: '4 minutes',
})

/**
 * The reconciler (functions/reconcile.ts): re-reads due consents at their providers, each provider within its call
 * budget per run (service/config.ts `LIFECYCLE_DEFAULTS.recheck`, sized for a 5-minute period).
 */
export const reconcile = scheduledJob('Reconcile', 'rate(5 minutes)', {
  handler: 'functions/reconcile.handler',
  description: 'Reconciler: re-checks due consents at their providers (every 5 minutes)',
  timeout: '4 minutes',
})

/**
 * Webhook retries (functions/deliver-webhooks.ts): every delivery whose next attempt is due. A minute is the shortest
 * rate Scheduler offers: a retry comes at most a minute after its back-off (30 s at first, doubling up to 6 hours,
 * service/config.ts `delivery`).
 */
export const deliverWebhooks = scheduledJob('DeliverWebhooks', 'rate(1 minute)', {
  handler: 'functions/deliver-webhooks.handler',
  description: 'Webhook delivery: retries and anything the outbox relay missed (every minute)',
  timeout: '50 seconds',
})

/**
 * How long a stream record may wait for the relay: with it, a batch failing over and over stops holding its shard
 * after an hour. Nothing is lost with it: the record's webhook stays pending in the table for the scheduled job.
 */
const RELAY_MAX_RECORD_AGE_SECONDS = 3600

/** Retries of a failing batch (bisections, which Lambda does not count, aside) before it goes to the dead letters. */
const RELAY_MAX_RETRIES = 10

/**
 * Where the relay's event source mapping reports the records it gave up on: one message per failed batch, naming the
 * shard and the range of sequence numbers (Lambda sends the batch's metadata, not its items; the items stay in the
 * table). Kept 14 days, SQS's longest. A queue costs nothing until it is used.
 */
export const outboxDeadLetters = new sst.aws.Queue('OutboxRelayDeadLetters', {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } },
})

/**
 * The outbox relay (functions/outbox-relay.ts), built here for the reason given at `scheduledJob` and subscribed to
 * the stream by its ARN. Reading the stream needs no grant of its own: the table's link allows `dynamodb:*` on the
 * table's ARN and everything under it, its stream included.
 */
export const outboxRelay = new sst.aws.Function('OutboxRelay', {
  ...gatewayFunction(baseUrl),
  handler: 'functions/outbox-relay.handler',
  description: 'Outbox relay: delivers new webhooks from the table stream',
  // Consents of a batch are delivered concurrently; one consent's run stops taking new messages after half its
  // lease (30 s) and an attempt lasts 10 s at most, so a minute covers a batch.
  timeout: '60 seconds',
  memory: '512 MB',
  // For the event source mapping's on-failure destination: Lambda sends with the function's role.
  permissions: [{ actions: ['sqs:SendMessage'], resources: [outboxDeadLetters.arn] }],
})

/**
 * The relay's subscription to the table's stream: only new outbox items reach it (the filter), a consent's records in
 * write order (they share its partition, so its shard). It reports partial batch failures; a failing batch is
 * bisected to isolate the record at fault and retried, then dead-lettered.
 *
 * From `LATEST`: outbox items written before the subscription existed are still in the table, due, and the
 * scheduled delivery sends them; replaying the stream's 24 hours (`TRIM_HORIZON`) would only ask again for consents
 * long delivered.
 */
export const outboxSubscription = table.subscribe('OutboxRelay', outboxRelay.arn, {
  filters: [OUTBOX_INSERT_FILTER],
  transform: {
    eventSourceMapping: {
      startingPosition: 'LATEST',
      batchSize: 25,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: RELAY_MAX_RETRIES,
      maximumRecordAgeInSeconds: RELAY_MAX_RECORD_AGE_SECONDS,
      functionResponseTypes: ['ReportBatchItemFailures'],
      destinationConfig: { onFailure: { destinationArn: outboxDeadLetters.arn } },
    },
  },
})

/** What `sst deploy` prints for operators: where the relay's failures wait to be looked at. */
export const outputs = {
  outboxDeadLetterQueueUrl: outboxDeadLetters.url,
}
