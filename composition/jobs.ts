// Builds the jobs that run on timers and schedules (deadline sweep, reconciler, webhook dispatcher) with the leases
// they take. gateway.ts imports this module on the first job call, so a function that only answers requests (the
// GraphQL API) never loads the jobs, outbound delivery or their lease store at cold start.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { DeadlineSweep, Reconciler, type LifecycleJobDependencies } from '../service/lifecycle-jobs.ts'
import { WebhookDispatcher, type WebhookDispatcherDependencies } from '../service/webhook-dispatcher.ts'
import type { WebhookSettingsService } from '../service/webhook-settings.ts'
import { LeaseRepository } from '../store/lease-repository.ts'

/**
 * What the jobs share with the rest of the gateway (built once by createGateway): the lifecycle jobs' dependencies but
 * the leases (made here), and the dispatcher's outbox and reach.
 */
export type JobsWiring = Omit<LifecycleJobDependencies, 'leases'> &
  Pick<WebhookDispatcherDependencies, 'outbox' | 'allowLoopback' | 'ownPorts'> & {
    readonly db: DynamoDBDocumentClient
    readonly tableName: string
    /** The partners' webhook settings (the dispatcher's `settings`). */
    readonly webhooks: WebhookSettingsService
  }

export interface Jobs {
  readonly sweep: DeadlineSweep
  readonly reconciler: Reconciler
  readonly dispatcher: WebhookDispatcher
}

export function createJobs(wiring: JobsWiring): Jobs {
  const { db, tableName, outbox, webhooks, allowLoopback, ownPorts, ...shared } = wiring
  const leases = new LeaseRepository(db, tableName)
  const jobDeps: LifecycleJobDependencies = { ...shared, leases }
  const { clock, newId, logger, lifecycle } = shared
  return {
    sweep: new DeadlineSweep(jobDeps),
    reconciler: new Reconciler(jobDeps),
    dispatcher: new WebhookDispatcher({
      outbox,
      leases,
      settings: webhooks,
      clock,
      newToken: newId,
      logger,
      delivery: lifecycle.delivery,
      leaseMs: lifecycle.leaseMs,
      allowLoopback,
      ownPorts,
    }),
  }
}
