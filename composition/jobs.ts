// Builds the jobs that run on timers and schedules (deadline sweep, reconciler, webhook dispatcher) with the leases
// they take. gateway.ts imports this module on the first job call, so a function that only answers requests (the
// GraphQL API) never loads the jobs, outbound delivery or their lease store at cold start.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { ProviderRegistry } from '../providers/adapter.ts'
import type { Logger } from '../runtime/logging.ts'
import type { LifecycleSettings } from '../service/config.ts'
import type { ConsentRecorder } from '../service/consent-recorder.ts'
import { DeadlineSweep, Reconciler } from '../service/lifecycle-jobs.ts'
import { WebhookDispatcher } from '../service/webhook-dispatcher.ts'
import type { WebhookSettingsService } from '../service/webhook-settings.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import { LeaseRepository } from '../store/lease-repository.ts'
import type { OutboxRepository } from '../store/outbox-repository.ts'

/** What the jobs share with the rest of the gateway (built once by createGateway). */
export interface JobsWiring {
  readonly db: DynamoDBDocumentClient
  readonly tableName: string
  readonly consents: ConsentRepository
  readonly recorder: ConsentRecorder
  readonly outbox: OutboxRepository
  readonly webhooks: WebhookSettingsService
  readonly providers: ProviderRegistry
  readonly clock: () => Date
  readonly newId: () => string
  readonly logger: Logger
  readonly lifecycle: LifecycleSettings
  /** Local mode: partners on loopback (http://localhost) may be called. */
  readonly allowLoopback: boolean
  /** Local mode: the local stack's own ports, never reached. */
  readonly ownPorts: ReadonlySet<number>
}

export interface Jobs {
  readonly sweep: DeadlineSweep
  readonly reconciler: Reconciler
  readonly dispatcher: WebhookDispatcher
}

export function createJobs(wiring: JobsWiring): Jobs {
  const { clock, newId, logger, lifecycle } = wiring
  const leases = new LeaseRepository(wiring.db, wiring.tableName)
  const jobDeps = {
    consents: wiring.consents,
    recorder: wiring.recorder,
    leases,
    providers: wiring.providers,
    clock,
    newId,
    logger,
    lifecycle,
  }
  return {
    sweep: new DeadlineSweep(jobDeps),
    reconciler: new Reconciler(jobDeps),
    dispatcher: new WebhookDispatcher({
      outbox: wiring.outbox,
      leases,
      settings: wiring.webhooks,
      clock,
      newToken: newId,
      logger,
      delivery: lifecycle.delivery,
      leaseMs: lifecycle.leaseMs,
      allowLoopback: wiring.allowLoopback,
      ownPorts: wiring.ownPorts,
    }),
  }
}
