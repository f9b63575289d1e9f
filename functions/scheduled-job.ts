// What the scheduled jobs' entry points share: one run of one gateway job per invocation, under the invocation's
// request id and deadline, its report logged and returned. A run that throws fails the invocation; the next tick is
// its retry (infra/jobs.ts turns Lambda's own retries off).
import type { Context } from 'aws-lambda'
import type { Logger } from '../runtime/logging.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'

/** A job stops taking new work this long before Lambda would cut the invocation, to finish what it started. */
const DEADLINE_MARGIN_MS = 5_000

/**
 * Runs `job` once and logs its report under `name`.
 *
 * @example
 * ```ts
 * const gateway = createGateway(deployedConfig())
 * export const handler = (_event: unknown, context: Context) =>
 *   runScheduledJob('deadline sweep', gateway.logger, context, () => gateway.jobs.sweepDeadlines())
 * ```
 */
export async function runScheduledJob<Report extends object>(
  name: string,
  logger: Logger,
  context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>,
  job: () => Promise<Report>,
): Promise<Report> {
  const started = Date.now()
  const deadline = started + Math.max(0, context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS)
  return runInRequestScope({ requestId: context.awsRequestId, deadline }, async () => {
    try {
      const report = await job()
      logger.info(`${name} done`, { ...report, durationMs: Date.now() - started })
      return report
    } catch (error) {
      logger.error(`${name} failed`, { error, durationMs: Date.now() - started })
      throw error
    }
  })
}
