// What administration accepts (service/tenant-admin.ts): its limits, and the checks of names, ids, operators and
// trusted-document manifests that run before anything is read or written, each refusal an AdminInputError that says
// what is wrong in words an operator can act on.
import { CLIENT_ID } from './tenants.ts'

/** Input that cannot be acted on: malformed, naming nothing that exists, or contradicting what is stored. */
export class AdminInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AdminInputError'
  }
}

/** Limits on what administration accepts. */
export const ADMIN_LIMITS = {
  /** Names of tenants and API clients, in characters. */
  nameLength: 100,
  /** A rotated-out secret keeps working at most this long. */
  maxGraceHours: 720,
  /** A trusted-documents manifest, in bytes of UTF-8. */
  manifestBytes: 1_048_576,
  /** Documents in one manifest. */
  manifestDocuments: 500,
  /** One document, in bytes of UTF-8. */
  documentBytes: 32_768,
  /** Admin log entries per page. */
  logPage: 1_000,
} as const

/** The grace a rotated-out secret gets unless told otherwise. @default 24 */
export const DEFAULT_GRACE_HOURS = 24

/** Tenant ids this service makes are `tenant_<ULID>`; older and seeded ones are other safe strings (never a '#'). */
const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/
/** A document id: the manifest's own, or a SHA-256 (optionally `sha256:`-prefixed); never a '#'. */
const DOCUMENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/
export const HASH_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

export const quote = (value: string) => JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)

export function checkName(value: string, what: string): string {
  const name = value.trim()
  if (name.length === 0) throw new AdminInputError(`${what} is empty`)
  if (name.length > ADMIN_LIMITS.nameLength) {
    throw new AdminInputError(`${what} is longer than ${ADMIN_LIMITS.nameLength} characters`)
  }
  if (CONTROL.test(name)) throw new AdminInputError(`${what} has control characters in it`)
  return name
}

export function checkTenantId(tenantId: string): string {
  if (!TENANT_ID.test(tenantId)) {
    throw new AdminInputError(`${quote(tenantId)} is not a tenant id (tenant_<ULID>, as create-tenant prints it)`)
  }
  return tenantId
}

export function checkClientId(clientId: string): string {
  if (!CLIENT_ID.test(clientId)) {
    throw new AdminInputError(`${quote(clientId)} is not a client id (3-64 letters, digits, '.', '_', '-')`)
  }
  return clientId
}

export function checkActor(actor: string): string {
  if (actor.trim().length === 0 || actor.length > 300 || CONTROL.test(actor)) {
    throw new AdminInputError('The operator is not named: give --actor a name of at most 300 plain characters')
  }
  return actor
}

/** The manifest's entries, in order; throws {@link AdminInputError} for anything but a small object of strings. */
export function parseManifest(manifest: string): [string, string][] {
  if (Buffer.byteLength(manifest, 'utf8') > ADMIN_LIMITS.manifestBytes) {
    throw new AdminInputError(`The manifest is larger than ${ADMIN_LIMITS.manifestBytes} bytes`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(manifest)
  } catch {
    throw new AdminInputError('The manifest is not JSON (expected { "<id or sha256>": "<GraphQL document>" })')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AdminInputError('The manifest is not a JSON object of id -> GraphQL document')
  }
  const entries = Object.entries(parsed)
  if (entries.length === 0) throw new AdminInputError('The manifest has no documents')
  if (entries.length > ADMIN_LIMITS.manifestDocuments) {
    throw new AdminInputError(`The manifest has ${entries.length} documents: at most ${ADMIN_LIMITS.manifestDocuments}`)
  }
  for (const [id, document] of entries) {
    if (!DOCUMENT_ID.test(id)) {
      throw new AdminInputError(`Manifest id ${quote(id)} is not 1-128 letters, digits, '.', '_', ':', '-'`)
    }
    if (typeof document !== 'string' || document.trim().length === 0) {
      throw new AdminInputError(`Manifest entry ${quote(id)} is not a GraphQL document (a non-empty string)`)
    }
    if (Buffer.byteLength(document, 'utf8') > ADMIN_LIMITS.documentBytes) {
      throw new AdminInputError(`Document ${quote(id)} is larger than ${ADMIN_LIMITS.documentBytes} bytes`)
    }
  }
  return entries as [string, string][]
}
