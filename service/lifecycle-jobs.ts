// The jobs that keep consents true while nobody calls: the deadline sweep (link expiry, warnings, end of validity,
// UK reconfirmation) and the reconciler (re-reading consents at their providers, where banks revoke silently and
// providers may not say). Both write through ConsentRecorder, so every change they make is a version with its event
// and outbox message, exactly like a change made through the API.
import { sweepStep, type DeadlinePolicy } from '../domain/lifecycle.ts'
import type { Provider } from '../domain/provider.ts'
import type { ProviderRegistry } from '../providers/adapter.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import type { LeaseRepository } from '../store/lease-repository.ts'
import type { LifecycleSettings } from './config.ts'
import type { ConsentRecorder } from './consent-recorder.ts'
import type { Logger } from '../runtime/logging.ts'
import { currentDeadline } from '../runtime/request-scope.ts'

/**
 * True once the invocation running the job (a Lambda with its deadline in the request scope) should take no new
 * work: what is left stays due for the next run.
 */
export const pastDeadline = (): boolean => Date.now() >= (currentDeadline() ?? Number.POSITIVE_INFINITY)

/** How the jobs name themselves in the history. */
export const SCHEDULER_INITIATOR = 'scheduler'

export interface SweepReport {
  /** Index items DynamoDB read to find the due consents: the work done, proportional to what is due. */
  readonly read: number
  /** Consents that got a new version (a transition or a warning event). */
  readonly changed: number
  /** Due consents that needed nothing (already handled by a concurrent run, or moved on meanwhile). */
  readonly skipped: number
}

export interface ReconcileReport {
  readonly checked: number
  readonly changed: number
  /** Held by another runner. */
  readonly skipped: number
  readonly failed: number
}

export interface LifecycleJobDependencies {
  readonly consents: ConsentRepository
  readonly recorder: ConsentRecorder
  readonly leases: LeaseRepository
  readonly providers: ProviderRegistry
  readonly clock: () => Date
  readonly newId: () => string
  readonly logger: Logger
  readonly lifecycle: LifecycleSettings
}

export class DeadlineSweep {
  constructor(private readonly deps: LifecycleJobDependencies) {}

  /**
   * Applies every due deadline and schedules each consent's next one. Idempotent: a second run, or a concurrent one,
   * finds nothing more to do (the change is re-derived from the consent's latest version before each write).
   */
  async run(): Promise<SweepReport> {
    const policy: DeadlinePolicy = this.deps.lifecycle
    const { consents, read } = await this.deps.consents.dueForDeadline(this.deps.clock())
    let changed = 0
    let skipped = 0
    for (const consent of consents) {
      if (pastDeadline()) break
      try {
        // Whether this run wrote: the last application of the change decides (after a lost race it is re-applied to
        // the winner's version, and finds nothing left to do).
        let wrote = false
        const recorded = await this.deps.recorder.write(
          consent,
          (current, now) => {
            const step = sweepStep(current, now, policy)
            wrote = step !== null
            return step
          },
          'SCHEDULER',
          SCHEDULER_INITIATOR,
        )
        if (wrote) {
          changed++
          continue
        }
        skipped++
        // Due in the index, yet nothing to do (settings changed since it was scheduled): schedule it afresh.
        const rescheduled = this.deps.recorder.schedule(recorded, this.deps.clock())
        if (rescheduled.nextDeadline?.at !== recorded.nextDeadline?.at) await this.deps.consents.reschedule(rescheduled)
      } catch (error) {
        this.deps.logger.error('deadline sweep failed for a consent', { consentId: consent.id, error })
      }
    }
    return { read, changed, skipped }
  }
}

export class Reconciler {
  constructor(private readonly deps: LifecycleJobDependencies) {}

  /**
   * Re-checks the consents due at each configured provider, at most its budget of calls per run, one runner per
   * consent (a lease). What the provider says, evidence included (Yapily's 403 on a data probe, Worldline's 401 code
   * 123), is recorded like any provider read; an unchanged consent is re-scheduled.
   */
  async run(): Promise<ReconcileReport> {
    let report: ReconcileReport = { checked: 0, changed: 0, skipped: 0, failed: 0 }
    for (const provider of this.deps.providers.providers()) {
      const outcome = await this.#runProvider(provider)
      report = {
        checked: report.checked + outcome.checked,
        changed: report.changed + outcome.changed,
        skipped: report.skipped + outcome.skipped,
        failed: report.failed + outcome.failed,
      }
    }
    return report
  }

  async #runProvider(provider: Provider): Promise<ReconcileReport> {
    const policy = this.deps.lifecycle.recheck[provider]
    const { consents } = await this.deps.consents.dueForRecheck(provider, this.deps.clock(), policy.budgetPerRun)
    let checked = 0
    let changed = 0
    let skipped = 0
    let failed = 0
    if (consents.length === 0) return { checked, changed, skipped, failed }
    const adapter = await this.deps.providers.get(provider)
    for (const consent of consents) {
      if (pastDeadline()) break
      const lease = await this.deps.leases.acquire(
        { tenantId: consent.tenantId, consentId: consent.id },
        'RECONCILE',
        this.deps.newId(),
        this.deps.clock(),
        this.deps.lifecycle.leaseMs,
      )
      if (!lease) {
        skipped++
        continue
      }
      const context = { requestId: `reconcile-${lease.token}`, logger: this.deps.logger }
      try {
        checked++
        const snapshot = await adapter.fetch(await this.deps.recorder.refFor(consent, adapter), context)
        const recorded = await this.deps.recorder.record(
          consent,
          snapshot,
          'PROVIDER_POLL',
          SCHEDULER_INITIATOR,
          context,
        )
        if (recorded.version !== consent.version) changed++
        else await this.deps.consents.reschedule(this.deps.recorder.schedule(recorded, this.deps.clock()))
      } catch (error) {
        failed++
        this.deps.logger.warn('re-check at the provider failed; trying again at the next scheduled check', {
          consentId: consent.id,
          provider,
          error,
        })
        // Not re-checked every run while the provider fails: the consent waits its normal interval.
        await this.deps.consents
          .reschedule(this.deps.recorder.schedule(consent, this.deps.clock()))
          .catch(() => undefined)
      } finally {
        await this.deps.leases.release(lease)
      }
    }
    return { checked, changed, skipped, failed }
  }
}
