// Consent status changes as webhook deliveries: one signed POST per subscribed webhook of the consent's application.
import { randomUUID } from 'node:crypto'
import type { YapilyConsent } from './consent.ts'
import {
  CONSENT_STATUS_CATEGORY,
  SIGNATURE_HEADER,
  consentStatusEventBody,
  webhookSignature,
} from './webhook-events.ts'
import type { WebhookRegistry } from './webhook-registry.ts'

export interface ConsentEventPublisherOptions {
  registry: WebhookRegistry
  signWebhooks: boolean
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
    for (const webhook of this.#options.registry.subscribers(consent.applicationId, CONSENT_STATUS_CATEGORY)) {
      const tracingId = randomUUID()
      const body = consentStatusEventBody({
        webhookId: webhook.id,
        applicationId: consent.applicationId,
        consent,
        tracingId,
        metadata: webhook.metadata,
      })
      this.#secretByTracingId.set(tracingId, webhook.secret)
      this.#options.enqueue(webhook.callbackUrl.main.url, body)
    }
  }

  /** The dispatcher's signer: `X-Yapily-Signature` when signing is on and the event is known, else no header. */
  async sign(body: string): Promise<Record<string, string>> {
    if (!this.#options.signWebhooks) return {}
    const secret = this.#secretByTracingId.get(tracingIdOf(body))
    return secret === undefined ? {} : { [SIGNATURE_HEADER]: webhookSignature(body, secret) }
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
