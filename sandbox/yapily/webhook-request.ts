// Validation of `POST /webhook/events` (Yapily API 12.13.0): refusals in the newer envelope, issue code 10600.
import { badParameter } from './errors.ts'
import { webhookCategories, type WebhookCategory } from './webhook-events.ts'

/** "Any data (under 10kB total)" (spec `WebhookMetadata`). */
export const MAX_METADATA_BYTES = 10 * 1024

export interface CallbackUrls {
  main: { url: string }
  backup?: { url: string }
}

export interface WebhookRegistrationRequest {
  categories: string[]
  callbackUrl: CallbackUrls
  metadata: Record<string, string> | null
}

/**
 * `applicationId` must be the calling application's id (our guess); `categories` a non-empty list of known categories;
 * `callbackUrl.main.url` (and `backup.url` when given) absolute http(s) URLs without a query string; `metadata` an
 * object of strings under 10 kB.
 */
export function parseWebhookRegistration(
  body: unknown,
  applicationId: string,
  categories: readonly WebhookCategory[] = webhookCategories(),
): WebhookRegistrationRequest {
  const fields = object(body, '$', 'The request body must be a JSON object')
  if (fields.applicationId !== applicationId) {
    throw badParameter('$.applicationId', `applicationId must be the id of the authenticated application`)
  }
  return {
    categories: parseCategories(fields.categories, categories),
    callbackUrl: parseCallbackUrls(fields.callbackUrl),
    metadata: parseMetadata(fields.metadata),
  }
}

function parseCategories(value: unknown, categories: readonly WebhookCategory[]): string[] {
  const known = new Set(categories.map((category) => category.name))
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) {
    throw badParameter('$.categories', 'categories must be a non-empty array of category names')
  }
  const unknown = value.filter((category) => !known.has(category))
  if (unknown.length > 0) throw badParameter('$.categories', `unknown categories: ${unknown.join(', ')}`)
  return [...new Set(value)]
}

function parseCallbackUrls(value: unknown): CallbackUrls {
  const urls = object(value, '$.callbackUrl', 'callbackUrl must be an object with main.url')
  const main = object(urls.main, '$.callbackUrl.main', 'callbackUrl.main must be an object with a url')
  const result: CallbackUrls = { main: { url: callbackUrl(main.url, '$.callbackUrl.main.url') } }
  if (urls.backup !== undefined && urls.backup !== null) {
    const backup = object(urls.backup, '$.callbackUrl.backup', 'callbackUrl.backup must be an object with a url')
    result.backup = { url: callbackUrl(backup.url, '$.callbackUrl.backup.url') }
  }
  return result
}

function callbackUrl(value: unknown, parameter: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) throw badParameter(parameter, 'A valid URL is required')
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badParameter(parameter, 'The URL must use http or https')
  }
  if (url.search !== '' || value.includes('?')) {
    throw badParameter(parameter, 'The URL must not contain query parameters')
  }
  return value
}

function parseMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null
  const metadata = object(value, '$.metadata', 'metadata must be an object of strings')
  if (!Object.values(metadata).every((item) => typeof item === 'string')) {
    throw badParameter('$.metadata', 'metadata values must be strings')
  }
  if (Buffer.byteLength(JSON.stringify(metadata)) >= MAX_METADATA_BYTES) {
    throw badParameter('$.metadata', 'metadata must be under 10 kB')
  }
  return metadata as Record<string, string>
}

function object(value: unknown, parameter: string, message: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badParameter(parameter, message)
  return value as Record<string, unknown>
}
