// Consent status changes as webhook deliveries: one signed POST per subscribed webhook of the consent's application.
import { randomUUID } from 'node:crypto'
import type { YapilyConsent } from './consent.ts'
import { consentStatusEventBody, webhookSignature } from './webhook-events.ts'
import type { WebhookRegistry } from './webhook-registry.ts'

export interface ConsentEventPublisherOptions {
  registry: WebhookRegistry
  signWebhooks: boolean
  /** The header the signature travels in (the `webhookSignatureHeader` option). */
  signatureHeader: string
  /** The category consent events are sent under and the `type` they carry (the `consentEventType` option). */
  consentEventType: string
  /** Queues one delivery (the shared dispatcher's `enqueue`). */
  enqueue: (url: string, body: string) => void
}

/**
 * The shared dispatcher has one signer for every delivery and hands it only the body, while each webhook has its
 * own secret. Each delivery's body therefore carries its own tracing id, and the secret is looked up by that id
 * (kept until a reset), so retries and duplicates are signed with the right key.
 *
 * Deliveries go to `callbackUrl.main` only: the dispatcher retries one URL and has no fallback, so `backup` is kept
 * and shown but never used.
 */
export class ConsentEventPublisher {
  readonly #options: ConsentEventPublisherOptions
  readonly #secretByTracingId = new Map<string, string>()

  constructor(options: ConsentEventPublisherOptions) {
    this.#options = options
  }

  publish(consent: YapilyConsent): void {
    for (const webhook of this.#options.registry.subscribers(consent.applicationId, this.#options.consentEventType)) {
      const tracingId = randomUUID()
      const body = consentStatusEventBody({
        webhookId: webhook.id,
        applicationId: consent.applicationId,
        consent,
        tracingId,
        metadata: webhook.metadata,
        type: this.#options.consentEventType,
      })
      this.#secretByTracingId.set(tracingId, webhook.secret)
      this.#options.enqueue(webhook.callbackUrl.main.url, body)
    }
  }

  /** The dispatcher's signer: the signature header when signing is on and the event is known, else no header. */
  async sign(body: string): Promise<Record<string, string>> {
    if (!this.#options.signWebhooks) return {}
    const secret = this.#secretByTracingId.get(tracingIdOf(body))
    return secret === undefined ? {} : { [this.#options.signatureHeader]: webhookSignature(body, secret) }
  }

  clear(): void {
    this.#secretByTracingId.clear()
  }
}

function tracingIdOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { metadata?: { tracingId?: unknown } }
    return typeof parsed.metadata?.tracingId === 'string' ? parsed.metadata.tracingId : ''
  } catch {
    return ''
  }
}
