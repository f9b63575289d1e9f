// The gateway's public URL layout for providers and browsers, in one place: where each provider's notifications
// arrive, and where a provider sends the user's browser back to us. Both transports (node:http and Lambda) route by it.
import { PROVIDERS, type Provider } from '../domain/provider.ts'

const slug = (provider: Provider) => provider.toLowerCase()
const providerOfSlug = (value: string | undefined): Provider | undefined =>
  PROVIDERS.find((provider) => slug(provider) === value)

/** Where a provider's notifications arrive (Worldline appends `/notification/status` below it). */
export const notificationPath = (provider: Provider): string => `/webhooks/${slug(provider)}`

/** The prefix of a provider's per-consent callback links. */
export const callbackPrefixPath = (provider: Provider): string => `/callbacks/${slug(provider)}/`

/** `/webhooks/<provider>` and anything below it; null for any other path. */
export function notificationRoute(path: string): { provider: Provider; rest: string } | null {
  const match = /^\/webhooks\/([a-z]+)(\/.*)?$/.exec(path)
  const provider = providerOfSlug(match?.[1])
  return provider ? { provider, rest: match?.[2] ?? '' } : null
}

/** `/callbacks/<provider>/<signed link>`; null for any other path. */
export function callbackRoute(path: string): { provider: Provider; token: string } | null {
  const match = /^\/callbacks\/([a-z]+)\/([A-Za-z0-9_.-]{1,256})$/.exec(path)
  const provider = providerOfSlug(match?.[1])
  return provider && match?.[2] ? { provider, token: match[2] } : null
}
