// HTTP Basic authentication with an application's key and secret (Yapily API 12.13.0).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { YapilyApplication } from './options.ts'

/** The application whose `key:secret` the `Authorization` header carries, or undefined. */
export function authenticateApplication(
  authorization: string | undefined,
  applications: readonly YapilyApplication[],
): YapilyApplication | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization ?? '')
  if (!match) return undefined
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  const key = decoded.slice(0, colon)
  const secret = decoded.slice(colon + 1)
  return applications.find((application) => sameText(application.key, key) && sameText(application.secret, secret))
}

/** Compares digests, so neither the length nor the content leaks through timing. */
function sameText(expected: string, actual: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(expected), digest(actual))
}

/** The header value a client sends. */
export function basicAuthorization(key: string, secret: string): string {
  return `Basic ${Buffer.from(`${key}:${secret}`, 'utf8').toString('base64')}`
}
