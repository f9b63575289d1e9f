// The partner's view of its webhooks for one consent: every message with its delivery state and last attempt, and a
// replay of any of them (a dead-lettered one after fixing the endpoint, or a delivered one the partner lost).
import { ConsentNotFoundError, ValidationError } from '../domain/errors.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import type { OutboxMessage, OutboxRepository } from '../store/outbox-repository.ts'
import { tenantWide, type AccessScope } from './principal.ts'

export class WebhookDeliveries {
  constructor(
    private readonly deps: {
      readonly consents: ConsentRepository
      readonly outbox: OutboxRepository
      readonly clock: () => Date
      /** Delivers the consent's pending messages now (the replayed one included), in order. */
      readonly deliverConsent: (tenantId: string, consentId: string) => Promise<unknown>
    },
  ) {}

  /**
   * The consent's messages, in sequence order; another tenant's consent is not found. Tenant-wide (they carry the
   * partner's endpoint and payloads): FORBIDDEN to an end user's token.
   */
  async list(scope: AccessScope, consentId: string): Promise<OutboxMessage[]> {
    const tenantId = tenantWide(scope)
    if (!(await this.deps.consents.get(tenantId, consentId))) throw new ConsentNotFoundError(consentId)
    return this.deps.outbox.ofConsent(tenantId, consentId)
  }

  /**
   * Sends message `sequence` again: it becomes pending, due now, and is delivered after any earlier pending message
   * of the consent (order holds). Returns the message as it stands after this attempt.
   */
  async replay(scope: AccessScope, consentId: string, sequence: number): Promise<OutboxMessage> {
    const tenantId = tenantWide(scope)
    const messages = await this.list(scope, consentId)
    const message = messages.find((candidate) => candidate.sequence === sequence)
    if (!message) throw ValidationError.of('sequence', `consent has no webhook message with sequence ${sequence}`)
    await this.deps.outbox.replay(message, this.deps.clock())
    await this.deps.deliverConsent(tenantId, consentId)
    const after = await this.deps.outbox.ofConsent(tenantId, consentId)
    return after.find((candidate) => candidate.sequence === sequence) ?? message
  }
}
