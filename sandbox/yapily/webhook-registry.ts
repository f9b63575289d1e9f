// Registered webhooks per application, their secrets, and the limit of 10 (Yapily API 12.13.0).
import { randomBytes, randomUUID } from 'node:crypto'
import { ISSUE, YapilyIssueError } from './errors.ts'
import type { CallbackUrls, WebhookRegistrationRequest } from './webhook-request.ts'

export const MAX_WEBHOOKS_PER_APPLICATION = 10

export interface WebhookRegistration {
  id: string
  applicationId: string
  categories: string[]
  callbackUrl: CallbackUrls
  metadata: Record<string, string> | null
  /** Shown once, in the registration's 201; signs every delivery. */
  secret: string
}

export class WebhookRegistry {
  readonly #registrations: WebhookRegistration[] = []

  /** A new registration with a fresh secret; the 11th of an application is 406, issue code 14007. */
  register(applicationId: string, request: WebhookRegistrationRequest): WebhookRegistration {
    if (this.list(applicationId).length >= MAX_WEBHOOKS_PER_APPLICATION) {
      throw new YapilyIssueError(406, [
        { ...ISSUE.resourceLimit, message: 'Maximum number of resources that can be created has been reached' },
      ])
    }
    const registration: WebhookRegistration = {
      id: randomUUID(),
      applicationId,
      ...request,
      secret: randomBytes(32).toString('base64url'),
    }
    this.#registrations.push(registration)
    return registration
  }

  /** Every application's registrations, secrets included: what a saved state keeps. */
  all(): WebhookRegistration[] {
    return [...this.#registrations]
  }

  /** Takes back the registrations of a saved state. */
  load(registrations: readonly WebhookRegistration[]): void {
    this.#registrations.push(...registrations)
  }

  list(applicationId: string): WebhookRegistration[] {
    return this.#registrations.filter((registration) => registration.applicationId === applicationId)
  }

  /** Removes and returns it; undefined when the application has no such webhook. */
  remove(applicationId: string, id: string): WebhookRegistration | undefined {
    const index = this.#registrations.findIndex(
      (registration) => registration.id === id && registration.applicationId === applicationId,
    )
    return index < 0 ? undefined : this.#registrations.splice(index, 1)[0]
  }

  /** The application's webhooks subscribed to `category`, in registration order. */
  subscribers(applicationId: string, category: string): WebhookRegistration[] {
    return this.list(applicationId).filter((registration) => registration.categories.includes(category))
  }

  clear(): void {
    this.#registrations.length = 0
  }
}

/** `RegisteredWebhookWithStatus`: never the secret. */
export function webhookView(registration: WebhookRegistration): Record<string, unknown> {
  return {
    id: registration.id,
    applicationId: registration.applicationId,
    categories: registration.categories,
    callbackUrl: registration.callbackUrl,
    ...(registration.metadata && { metadata: registration.metadata }),
    status: 'active',
  }
}
