// What administration shows (service/tenant-admin.ts): tenants, API clients (never a secret's hash), issued and
// rotated secrets, trusted documents and the admin log, shaped from the stored records.
import type { RateLimits } from '../domain/rate-limits.ts'
import type { ApiClientRecord } from '../store/access-repository.ts'
import type { AdminLogEntry } from '../store/admin-log-repository.ts'
import type { TenantRecord } from '../store/tenant-repository.ts'

export interface TenantView {
  readonly tenantId: string
  readonly name: string
  readonly allowedOrigins: readonly string[]
  /** Its own request limits; null: the stage's default usage plan on AWS, none locally. */
  readonly rateLimits: RateLimits | null
  /** On AWS, the usage plan that applies them (never the key's value). */
  readonly usagePlanId: string | null
  readonly createdAt: string
  readonly updatedAt: string
}

/** An API client as administration shows it: never its secret, never a hash. */
export interface ApiClientView {
  readonly clientId: string
  readonly tenantId: string
  readonly name: string
  readonly disabled: boolean
  readonly createdAt: string
  /** The last rotation, or null when the secret is the first. */
  readonly secretRotatedAt: string | null
  /** While a rotated-out secret still works: when it stops; null otherwise. */
  readonly previousSecretUntil: string | null
}

export interface IssuedSecret {
  readonly client: ApiClientView
  /** Shown once: only its hash is stored. */
  readonly clientSecret: string
}

export interface RotatedSecret extends IssuedSecret {
  /** When the secret this rotation replaced stops working. */
  readonly previousSecretUntil: string
  /** An older secret, still in its grace from an earlier rotation, that stopped working with this one. */
  readonly droppedEarlierSecret: boolean
}

export interface RegisteredDocuments {
  /** Manifest ids written now. */
  readonly registered: readonly string[]
  /** Manifest ids already registered with the same document. */
  readonly unchanged: readonly string[]
}

export interface DocumentView {
  readonly documentId: string
  readonly sha256: string
  readonly operations: readonly string[]
  readonly registeredAt: string
}

export interface AdminLogView {
  readonly entries: readonly AdminLogEntry[]
  /** Pass as `before` to read older entries; null when there are none. */
  readonly next: string | null
}

export const tenantView = (tenant: TenantRecord): TenantView => ({
  tenantId: tenant.tenantId,
  name: tenant.name,
  allowedOrigins: tenant.allowedOrigins,
  rateLimits: tenant.rateLimits ?? null,
  usagePlanId: tenant.usagePlan?.usagePlanId ?? null,
  createdAt: tenant.createdAt,
  updatedAt: tenant.updatedAt,
})

/** When the client's rotated-out secret stops working, if it still works at `now`. */
export function previousSecretUntil(client: ApiClientRecord, now: Date): string | null {
  const until = client.previousSecretHash ? client.previousSecretUntil : null
  return until && Date.parse(until) > now.getTime() ? until : null
}

export const clientView = (client: ApiClientRecord, now: Date): ApiClientView => ({
  clientId: client.clientId,
  tenantId: client.tenantId,
  name: client.name,
  disabled: client.disabled,
  createdAt: client.createdAt,
  secretRotatedAt: client.secretRotatedAt ?? null,
  previousSecretUntil: previousSecretUntil(client, now),
})
