// Delivers the outbox to partners: each consent's messages in sequence order, signed per Standard Webhooks, retried
// with exponential backoff and jitter for up to 72 hours, then dead-lettered. At least once: a message is marked
// delivered only after the partner's 2xx, so a runner killed between the two delivers it again (same `webhook-id`,
// receivers de-duplicate on it). One runner per consent at a time (a lease), so order holds across runners.
import { serializeNotification } from '../domain/notification.ts'
import type { LeaseRepository } from '../store/lease-repository.ts'
import type { DeliveryAttempt, OutboxMessage, OutboxRepository } from '../store/outbox-repository.ts'
import type { DeliverySettings } from './config.ts'
import { pastDeadline } from './lifecycle-jobs.ts'
import type { WebhookSettingsService } from './webhook-settings.ts'
import { signWebhook } from '../crypto/webhook-signing.ts'
import { postWebhook, type DeliveryAttemptResult } from '../outbound/webhook-post.ts'
import type { Logger } from '../runtime/logging.ts'

export interface DeliveryReport {
  readonly delivered: number
  readonly failed: number
  readonly deadLettered: number
  readonly consents: number
}

export interface WebhookDispatcherDependencies {
  readonly outbox: OutboxRepository
  readonly leases: LeaseRepository
  readonly settings: WebhookSettingsService
  readonly clock: () => Date
  readonly newToken: () => string
  readonly logger: Logger
  readonly delivery: DeliverySettings
  readonly leaseMs: number
  /** Local mode: partners on loopback (http://localhost) may be called. */
  readonly allowLoopback: boolean
  /** Local mode: the local stack's own ports, never reached (checked again after DNS at every attempt). */
  readonly ownPorts?: ReadonlySet<number>
  /** In [0, 1): the jitter. */
  readonly random?: () => number
  readonly post?: (request: Parameters<typeof postWebhook>[0]) => Promise<DeliveryAttemptResult>
}

interface TenantSettings {
  defaultUrl(): Promise<string | null>
  secrets(): Promise<string[]>
}

const NONE: DeliveryReport = { delivered: 0, failed: 0, deadLettered: 0, consents: 0 }

const sum = (a: DeliveryReport, b: DeliveryReport): DeliveryReport => ({
  delivered: a.delivered + b.delivered,
  failed: a.failed + b.failed,
  deadLettered: a.deadLettered + b.deadLettered,
  consents: a.consents + b.consents,
})

/**
 * The wait before attempt `attempts + 1`: exponential from `baseBackoffMs`, capped at `maxBackoffMs`, with "equal
 * jitter" (half fixed, half random) so retries of many messages spread out yet never come back at once.
 */
export function retryDelayMs(attempts: number, settings: DeliverySettings, random: number): number {
  const ceiling = Math.min(settings.maxBackoffMs, settings.baseBackoffMs * 2 ** Math.max(attempts - 1, 0))
  return Math.round(ceiling / 2 + (ceiling / 2) * random)
}

export class WebhookDispatcher {
  constructor(private readonly deps: WebhookDispatcherDependencies) {}

  /** Every consent with a message due now (on timers locally, on a schedule on AWS: retries). */
  async deliverDue(): Promise<DeliveryReport> {
    const { consents } = await this.deps.outbox.consentsDue(this.deps.clock())
    let report = NONE
    for (const consent of consents) {
      if (pastDeadline()) break
      try {
        report = sum(report, await this.deliverConsent(consent.tenantId, consent.consentId))
      } catch (error) {
        // One consent's storage trouble does not hold up the others; its messages stay due.
        this.deps.logger.error('webhook delivery run failed for a consent', { consentId: consent.consentId, error })
      }
    }
    return report
  }

  /**
   * Delivers one consent's pending messages in sequence order, stopping at the first that is not due yet or fails
   * (later ones wait for it: order per consent, and they are moved to its next attempt in the due-work index, so they
   * are not offered before they can go). Does nothing while another runner holds the consent.
   */
  async deliverConsent(tenantId: string, consentId: string): Promise<DeliveryReport> {
    const started = this.deps.clock()
    const lease = await this.deps.leases.acquire(
      { tenantId, consentId },
      'DELIVERY',
      this.deps.newToken(),
      started,
      this.deps.leaseMs,
    )
    if (!lease) return NONE
    let report: DeliveryReport = { ...NONE, consents: 1 }
    // The tenant's endpoint and secrets, read once per run however many messages go out.
    const tenant = this.#tenantSettings(tenantId)
    try {
      const pending = (await this.deps.outbox.ofConsent(tenantId, consentId))
        .filter((message) => message.deliveryState === 'PENDING')
        .sort((a, b) => a.sequence - b.sequence)
      for (const [index, message] of pending.entries()) {
        const now = this.deps.clock()
        // Leave the rest to the next run well before the lease could lapse under us.
        if (now.getTime() - started.getTime() > this.deps.leaseMs / 2) break
        if (message.nextAttemptAt && message.nextAttemptAt > now.toISOString()) {
          await this.#deferBehind(message.nextAttemptAt, pending.slice(index + 1))
          break
        }
        if (pastDeadline()) break
        const outcome = await this.#attempt(message, now, tenant)
        report = sum(report, outcome.report)
        if (outcome.retryAt) {
          await this.#deferBehind(outcome.retryAt, pending.slice(index + 1))
          break
        }
      }
    } finally {
      await this.deps.leases.release(lease)
    }
    return report
  }

  /** Reads on first use, then remembers (for one run). */
  #tenantSettings(tenantId: string): TenantSettings {
    let defaultUrl: Promise<string | null> | undefined
    let secrets: Promise<string[]> | undefined
    return {
      defaultUrl: () => (defaultUrl ??= this.deps.settings.defaultUrl(tenantId)),
      secrets: () => (secrets ??= this.deps.settings.signingSecrets(tenantId)),
    }
  }

  /**
   * The messages behind one that goes next at `at` cannot go before it: each still due earlier moves to `at` in the
   * due-work index (otherwise every run would find the consent due, and stop at the same message).
   */
  async #deferBehind(at: string, waiting: readonly OutboxMessage[]): Promise<void> {
    for (const message of waiting) {
      if ((message.nextAttemptAt ?? message.createdAt) < at) await this.deps.outbox.deferBehind(message, at)
    }
  }

  /** One attempt; `retryAt` when it failed and the message waits for its next attempt. */
  async #attempt(
    message: OutboxMessage,
    now: Date,
    tenant: TenantSettings,
  ): Promise<{ report: DeliveryReport; retryAt?: string }> {
    const url = message.webhookUrl ?? (await tenant.defaultUrl())
    if (!url) {
      await this.deps.outbox.recordAttempt(message, null, { state: 'NO_ENDPOINT' })
      return { report: NONE }
    }
    const body = serializeNotification(message.notification)
    const headers = signWebhook({
      id: message.notification.event_id,
      // The wall clock, not the gateway's: receivers reject timestamps more than minutes from their own time.
      timestamp: new Date(),
      body,
      secrets: await tenant.secrets(),
    })
    const post = this.deps.post ?? postWebhook
    const result = await post({
      url,
      headers,
      body,
      timeoutMs: this.deps.delivery.timeoutMs,
      allowLoopback: this.deps.allowLoopback,
      ...(this.deps.ownPorts ? { ownPorts: this.deps.ownPorts } : {}),
    })
    const attempt: DeliveryAttempt = {
      at: now.toISOString(),
      url,
      status: result.status,
      error: result.error,
      durationMs: Math.round(result.durationMs),
    }
    const log = { consentId: message.consentId, sequence: message.sequence, status: result.status, error: result.error }
    if (result.ok) {
      await this.deps.outbox.recordAttempt(message, attempt, { state: 'DELIVERED' })
      this.deps.logger.info('webhook delivered', log)
      return { report: { ...NONE, delivered: 1 } }
    }
    const deadline = Date.parse(message.createdAt) + this.deps.delivery.maxAgeMs
    if (now.getTime() >= deadline) {
      await this.deps.outbox.recordAttempt(message, attempt, { state: 'DEAD' })
      this.deps.logger.warn('webhook dead-lettered: undelivered for the whole retry period', log)
      return { report: { ...NONE, deadLettered: 1 } }
    }
    const delay = retryDelayMs(message.attempts + 1, this.deps.delivery, (this.deps.random ?? Math.random)())
    const nextAttemptAt = new Date(Math.min(now.getTime() + delay, deadline)).toISOString()
    await this.deps.outbox.recordAttempt(message, attempt, { state: 'PENDING', nextAttemptAt })
    this.deps.logger.warn('webhook delivery failed, retrying later', { ...log, nextAttemptAt })
    return { report: { ...NONE, failed: 1 }, retryAt: nextAttemptAt }
  }
}
