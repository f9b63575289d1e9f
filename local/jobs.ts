// The lifecycle jobs on timers, for `npm start` (on AWS they are CronV2 schedules and the table-stream relay): each
// job runs, then waits its interval, so runs of one job never overlap; stopping waits for the runs in flight. A run is
// logged only when it did something.
import type { Gateway } from '../composition/gateway.ts'

export interface JobIntervals {
  /** Deadline sweep. */
  readonly sweepEveryMs: number
  /** Re-checks at providers (each consent still waits its own per-provider interval). */
  readonly reconcileEveryMs: number
  /** Webhook delivery: new messages and due retries (on AWS, the table stream delivers new ones at once). */
  readonly deliverEveryMs: number
}

export const LOCAL_JOB_INTERVALS: JobIntervals = { sweepEveryMs: 15_000, reconcileEveryMs: 30_000, deliverEveryMs: 500 }

/**
 * Report counts that say what a run looked at, not what it did (index items read, consents visited, work another
 * runner held): a run with only these is not logged, or an idle job would log every interval.
 */
const LOOKED_AT = new Set(['read', 'consents', 'skipped'])

/** Whether a job's report shows it did something: a count other than {@link LOOKED_AT} above zero. */
export const didSomething = (report: object): boolean =>
  Object.entries(report).some(([key, value]) => !LOOKED_AT.has(key) && typeof value === 'number' && value > 0)

export interface JobTimers {
  /** Runs every job now instead of at its next tick (a job already running runs again once it ends). */
  runNow(): void
  stop(): Promise<void>
}

export function startJobTimers(gateway: Gateway, intervals: JobIntervals = LOCAL_JOB_INTERVALS): JobTimers {
  let stopped = false
  const running = new Set<Promise<void>>()
  const timers = new Set<NodeJS.Timeout>()

  const nudges: (() => void)[] = []

  const every = (name: string, intervalMs: number, job: () => Promise<object>) => {
    let busy = false
    let again = false
    const tick = () => {
      timers.delete(timer)
      busy = true
      const run = job()
        .then((report) => {
          if (didSomething(report)) gateway.logger.info(`job ${name}`, { ...report })
        })
        .catch((error: unknown) => gateway.logger.error(`job ${name} failed`, { error }))
        .finally(() => {
          running.delete(run)
          busy = false
          if (stopped) return
          if (again) {
            again = false
            tick()
          } else schedule()
        })
      running.add(run)
    }
    let timer: NodeJS.Timeout
    const schedule = () => {
      timer = setTimeout(tick, intervalMs)
      timers.add(timer)
    }
    schedule()
    nudges.push(() => {
      if (stopped) return
      if (busy) {
        again = true
        return
      }
      clearTimeout(timer)
      tick()
    })
  }

  every('sweep-deadlines', intervals.sweepEveryMs, () => gateway.jobs.sweepDeadlines())
  every('reconcile', intervals.reconcileEveryMs, () => gateway.jobs.reconcile())
  every('deliver-webhooks', intervals.deliverEveryMs, () => gateway.jobs.deliverDue())

  return {
    runNow() {
      for (const nudge of nudges) nudge()
    },
    async stop() {
      stopped = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await Promise.allSettled([...running])
    },
  }
}
