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
 * own secret. Each delivery's body therefore carries its own event id, and the secret is looked up by that id
 * (kept until a reset), so retries and duplicates are signed with the right key.
 *
 * Deliveries go to `callbackUrl.main` only: the dispatcher retries one URL and has no fallback, so `backup` is kept
 * and shown but never used.
 */
export class ConsentEventPublisher {
  readonly #options: ConsentEventPublisherOptions
  readonly #secretByEventId = new Map<string, string>()

  constructor(options: ConsentEventPublisherOptions) {
    this.#options = options
  }

  publish(consent: YapilyConsent, occurredAt: Date): void {
    for (const webhook of this.#options.registry.subscribers(consent.applicationId, CONSENT_STATUS_CATEGORY)) {
      const eventId = randomUUID()
      const body = consentStatusEventBody({
        eventId,
        applicationId: consent.applicationId,
        consent,
        occurredAt,
        tracingId: randomUUID(),
        metadata: webhook.metadata,
      })
      this.#secretByEventId.set(eventId, webhook.secret)
      this.#options.enqueue(webhook.callbackUrl.main.url, body)
    }
  }

  /** The dispatcher's signer: `X-Yapily-Signature` when signing is on and the event is known, else no header. */
  async sign(body: string): Promise<Record<string, string>> {
    if (!this.#options.signWebhooks) return {}
    const secret = this.#secretByEventId.get(eventIdOf(body))
    return secret === undefined ? {} : { [SIGNATURE_HEADER]: webhookSignature(body, secret) }
  }

  clear(): void {
    this.#secretByEventId.clear()
  }
}

function eventIdOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { id?: unknown }
    return typeof parsed.id === 'string' ? parsed.id : ''
  } catch {
    return ''
  }
}
