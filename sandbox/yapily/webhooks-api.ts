// The webhook routes (Yapily API 12.13.0): register (the only answer with the secret), list, delete, categories.
import type { ApiOperation } from './api-call.ts'
import { ISSUE, YapilyIssueError } from './errors.ts'
import type { WebhookCategory } from './webhook-events.ts'
import { webhookView, type WebhookRegistry } from './webhook-registry.ts'
import { parseWebhookRegistration } from './webhook-request.ts'

export function registerWebhookOperation(
  registry: WebhookRegistry,
  categories: readonly WebhookCategory[],
): ApiOperation {
  return ({ application, body }) => {
    const registration = registry.register(application.id, parseWebhookRegistration(body, application.id, categories))
    return { status: 201, data: { ...webhookView(registration), webhookSecret: registration.secret } }
  }
}

export function listWebhooksOperation(registry: WebhookRegistry): ApiOperation {
  return ({ application }) => ({ status: 200, data: { active: registry.list(application.id).map(webhookView) } })
}

/** 200 with the deleted `RegisteredWebhook`; another application's or an unknown id: 404, issue code 10800. */
export function deleteWebhookOperation(registry: WebhookRegistry): ApiOperation {
  return ({ application, params }) => {
    const webhookId = params.webhookId ?? ''
    const removed = registry.remove(application.id, webhookId)
    if (!removed) {
      throw new YapilyIssueError(404, [
        { ...ISSUE.notFound, parameter: 'webhook_id', message: `Webhook ${webhookId} not found` },
      ])
    }
    return { status: 200, data: webhookView(removed) }
  }
}

export function listCategoriesOperation(categories: readonly WebhookCategory[]): ApiOperation {
  return () => ({ status: 200, data: { categories } })
}
