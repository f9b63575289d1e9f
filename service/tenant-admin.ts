// Partner administration: tenants, their API clients (created with a secret shown once, rotated with a grace period,
// disabled and enabled), their web origins, trusted documents and request limits (on AWS, with their API Gateway usage
// plan), and the admin log. Input is checked before anything is read or written; each change is one transaction with
// its log entry, conditioned on what was checked, so bad input or a lost race changes nothing. composition/tenant-admin.ts builds it over a table for `npm run admin` (cli/admin.ts)
// and `npm start`'s demo tenant.
import { createHash } from 'node:crypto'
import { checkOrigins } from '../domain/origins.ts'
import { rateLimitProblems, type RateLimits } from '../domain/rate-limits.ts'
import type { AccessRepository, ApiClientRecord } from '../store/access-repository.ts'
import type { AdminLogRepository, AdminLogDetail, AdminLogEntry } from '../store/admin-log-repository.ts'
import type { TenantRecord, TenantUsagePlan } from '../store/tenant-repository.ts'
import type { TrustedDocumentRepository, TrustedDocument } from '../store/trusted-document-repository.ts'
import { MAX_TRANSACTION_WRITES, WriteConditionFailedError, type StoreWrite } from '../store/transaction.ts'
import { hashSecret, issueSecret, verifySecret } from '../crypto/secret-hash.ts'
import { CLIENT_ID } from './tenants.ts'
import type { UsagePlans } from './usage-plans.ts'

/** Input that cannot be acted on: malformed, naming nothing that exists, or contradicting what is stored. */
export class AdminInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AdminInputError'
  }
}

/** Something changed what this command read before it could write; nothing was written, running it again is safe. */
export class AdminConcurrentChangeError extends Error {
  constructor(what: string) {
    super(`${what} changed while this command ran; nothing was written, run it again`)
    this.name = 'AdminConcurrentChangeError'
  }
}

/** A checked GraphQL document: what it runs (`query GetConsent`), or why it cannot be trusted. */
export type DocumentCheck = (
  document: string,
) => { readonly operations: readonly string[] } | { readonly problem: string }

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
const HASH_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const HOUR_MS = 3_600_000

const quote = (value: string) => JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)

function checkName(value: string, what: string): string {
  const name = value.trim()
  if (name.length === 0) throw new AdminInputError(`${what} is empty`)
  if (name.length > ADMIN_LIMITS.nameLength) {
    throw new AdminInputError(`${what} is longer than ${ADMIN_LIMITS.nameLength} characters`)
  }
  if (CONTROL.test(name)) throw new AdminInputError(`${what} has control characters in it`)
  return name
}

function checkTenantId(tenantId: string): string {
  if (!TENANT_ID.test(tenantId)) {
    throw new AdminInputError(`${quote(tenantId)} is not a tenant id (tenant_<ULID>, as create-tenant prints it)`)
  }
  return tenantId
}

function checkClientId(clientId: string): string {
  if (!CLIENT_ID.test(clientId)) {
    throw new AdminInputError(`${quote(clientId)} is not a client id (3-64 letters, digits, '.', '_', '-')`)
  }
  return clientId
}

function checkActor(actor: string): string {
  if (actor.trim().length === 0 || actor.length > 300 || CONTROL.test(actor)) {
    throw new AdminInputError('The operator is not named: give --actor a name of at most 300 plain characters')
  }
  return actor
}

const tenantView = (tenant: TenantRecord): TenantView => ({
  tenantId: tenant.tenantId,
  name: tenant.name,
  allowedOrigins: tenant.allowedOrigins,
  rateLimits: tenant.rateLimits ?? null,
  usagePlanId: tenant.usagePlan?.usagePlanId ?? null,
  createdAt: tenant.createdAt,
  updatedAt: tenant.updatedAt,
})

/** When the client's rotated-out secret stops working, if it still works at `now`. */
function previousSecretUntil(client: ApiClientRecord, now: Date): string | null {
  const until = client.previousSecretHash ? client.previousSecretUntil : null
  return until && Date.parse(until) > now.getTime() ? until : null
}

const clientView = (client: ApiClientRecord, now: Date): ApiClientView => ({
  clientId: client.clientId,
  tenantId: client.tenantId,
  name: client.name,
  disabled: client.disabled,
  createdAt: client.createdAt,
  secretRotatedAt: client.secretRotatedAt ?? null,
  previousSecretUntil: previousSecretUntil(client, now),
})

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

export interface TenantAdminDeps {
  readonly access: AccessRepository
  readonly log: AdminLogRepository
  readonly documents: TrustedDocumentRepository
  /** Runs one change and its log entry as a single transaction. */
  readonly write: (writes: readonly StoreWrite[]) => Promise<void>
  readonly clock: () => Date
  /** ULIDs for tenants, clients and log entries. */
  readonly newId: () => string
  /** Checks trusted documents against the schema (the composition root passes schema/'s check). */
  readonly checkDocument?: DocumentCheck | undefined
  /**
   * Hashes a secret the operator chose (`provisionClient`): scrypt, as such a secret may be weak. Secrets made here
   * (`createClient`, `rotateSecret`) are 32 random bytes under one keyed SHA-256 (`issueSecret`).
   * @default hashSecret (scrypt)
   */
  readonly hashSecret?: (secret: string) => Promise<string>
  /**
   * API Gateway's usage plans, on a deployed stage; none locally, where the limits stored on the tenant are applied
   * in process (service/rate-limiter.ts).
   * @default undefined
   */
  readonly usagePlans?: UsagePlans | undefined
}

export class TenantAdmin {
  readonly #hash: (secret: string) => Promise<string>

  constructor(private readonly deps: TenantAdminDeps) {
    this.#hash = deps.hashSecret ?? hashSecret
  }

  get #tenants() {
    return this.deps.access.tenants
  }

  async createTenant(input: { name: string }, actor: string): Promise<TenantView> {
    const name = checkName(input.name, 'The tenant name')
    checkActor(actor)
    const at = this.deps.clock().toISOString()
    const tenant: TenantRecord = {
      tenantId: `tenant_${this.deps.newId()}`,
      name,
      allowedOrigins: [],
      createdAt: at,
      updatedAt: at,
    }
    await this.#record([this.#tenants.create(tenant)], {
      tenantId: tenant.tenantId,
      at,
      actor,
      action: 'create-tenant',
      target: tenant.tenantId,
      details: { name },
    })
    return tenantView(tenant)
  }

  async listTenants(): Promise<TenantView[]> {
    return (await this.#tenants.list()).map(tenantView)
  }

  async getTenant(tenantId: string): Promise<TenantView> {
    return tenantView(await this.#tenant(checkTenantId(tenantId)))
  }

  /** A new API client of the tenant, with a random secret returned once and stored only as its hash. */
  async createClient(input: { tenantId: string; name: string }, actor: string): Promise<IssuedSecret> {
    const tenantId = checkTenantId(input.tenantId)
    const name = checkName(input.name, 'The client name')
    checkActor(actor)
    await this.#tenant(tenantId)
    const { secret: clientSecret, secretHash } = issueSecret()
    const now = this.deps.clock()
    const at = now.toISOString()
    const client: ApiClientRecord = {
      clientId: `client_${this.deps.newId()}`,
      tenantId,
      name,
      secretHash,
      disabled: false,
      createdAt: at,
      updatedAt: at,
    }
    await this.#record(
      [this.#tenants.exists(tenantId), this.deps.access.createApiClient(client)],
      { tenantId, at, actor, action: 'create-client', target: client.clientId, details: { name } },
      (failed) => (failed.includes(0) ? new AdminInputError(`There is no tenant ${quote(tenantId)}`) : null),
    )
    return { client: clientView(client, now), clientSecret }
  }

  async listClients(tenantId: string): Promise<ApiClientView[]> {
    await this.#tenant(checkTenantId(tenantId))
    const now = this.deps.clock()
    return (await this.deps.access.listApiClients(tenantId)).map((client) => clientView(client, now))
  }

  /**
   * A new secret for the client, returned once; the one it replaces keeps working for `graceHours` (0: stops now).
   * At most two secrets work at once: an older one still in its grace stops with this rotation.
   */
  async rotateSecret(
    input: { clientId: string; tenantId?: string | undefined; graceHours?: number | undefined },
    actor: string,
  ): Promise<RotatedSecret> {
    const graceHours = input.graceHours ?? DEFAULT_GRACE_HOURS
    if (!Number.isFinite(graceHours) || graceHours < 0 || graceHours > ADMIN_LIMITS.maxGraceHours) {
      throw new AdminInputError(`The grace period is 0 to ${ADMIN_LIMITS.maxGraceHours} hours`)
    }
    const client = await this.#client(input.clientId, input.tenantId)
    checkActor(actor)
    const { secret: clientSecret, secretHash: newHash } = issueSecret()
    const now = this.deps.clock()
    const at = now.toISOString()
    const until = new Date(now.getTime() + graceHours * HOUR_MS).toISOString()
    const droppedEarlierSecret = previousSecretUntil(client, now) !== null
    await this.#record(
      [
        this.deps.access.rotateSecret({
          clientId: client.clientId,
          tenantId: client.tenantId,
          expectedHash: client.secretHash,
          newHash,
          previousUntil: until,
          at,
        }),
      ],
      {
        tenantId: client.tenantId,
        at,
        actor,
        action: 'rotate-secret',
        target: client.clientId,
        details: { graceHours, previousSecretUntil: until, droppedEarlierSecret },
      },
      (failed) => (failed.includes(0) ? new AdminConcurrentChangeError(`Client ${quote(client.clientId)}`) : null),
    )
    const rotated: ApiClientRecord = {
      ...client,
      secretHash: newHash,
      previousSecretHash: client.secretHash,
      previousSecretUntil: until,
      secretRotatedAt: at,
      updatedAt: at,
    }
    return { client: clientView(rotated, now), clientSecret, previousSecretUntil: until, droppedEarlierSecret }
  }

  /**
   * Disables the client (its credentials are refused: new ones at once, ones verified before within the
   * authentication cache period) or enables it again. Doing what is already so changes and records nothing.
   */
  async setClientDisabled(
    input: { clientId: string; tenantId?: string | undefined; disabled: boolean },
    actor: string,
  ): Promise<{ client: ApiClientView; changed: boolean }> {
    const client = await this.#client(input.clientId, input.tenantId)
    checkActor(actor)
    const now = this.deps.clock()
    if (client.disabled === input.disabled) return { client: clientView(client, now), changed: false }
    const at = now.toISOString()
    await this.#record(
      [this.deps.access.setDisabled(client.clientId, client.tenantId, input.disabled, at)],
      {
        tenantId: client.tenantId,
        at,
        actor,
        action: input.disabled ? 'disable-client' : 'enable-client',
        target: client.clientId,
        details: {},
      },
      (failed) => (failed.includes(0) ? new AdminConcurrentChangeError(`Client ${quote(client.clientId)}`) : null),
    )
    return { client: clientView({ ...client, disabled: input.disabled, updatedAt: at }, now), changed: true }
  }

  /** Replaces the web origins whose pages may call the API with the tenant's end-user tokens (none: `[]`). */
  async setOrigins(input: { tenantId: string; origins: readonly string[] }, actor: string): Promise<TenantView> {
    const tenantId = checkTenantId(input.tenantId)
    const { origins, problems } = checkOrigins(input.origins)
    if (problems.length > 0) {
      throw new AdminInputError(
        `Origin ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
      )
    }
    checkActor(actor)
    const tenant = await this.#tenant(tenantId)
    const at = this.deps.clock().toISOString()
    await this.#record(
      [this.#tenants.setAllowedOrigins(tenantId, origins, at)],
      {
        tenantId,
        at,
        actor,
        action: 'set-origins',
        target: tenantId,
        details: { origins, previous: [...tenant.allowedOrigins] },
      },
      (failed) => (failed.includes(0) ? new AdminInputError(`There is no tenant ${quote(tenantId)}`) : null),
    )
    return tenantView({ ...tenant, allowedOrigins: origins, updatedAt: at })
  }

  /**
   * Sets the tenant's request limits: on AWS its usage plan first (made with its key on first use, changed in place
   * after), then the tenant item with its log entry. Should the item's write fail, a plan made by this call is removed
   * again; a changed one keeps the new limits, and running the command again makes both agree.
   */
  async setLimits(input: { tenantId: string } & RateLimits, actor: string): Promise<TenantView> {
    const tenantId = checkTenantId(input.tenantId)
    const limits: RateLimits = { rate: input.rate, burst: input.burst, quotaPerDay: input.quotaPerDay }
    const problems = rateLimitProblems(limits)
    if (problems.length > 0) throw new AdminInputError(`Limits: ${problems.join('; ')}`)
    checkActor(actor)
    const tenant = await this.#tenant(tenantId)
    const existing = tenant.usagePlan ?? null
    const plans = this.deps.usagePlans
    const usagePlan: TenantUsagePlan | null = plans ? await plans.apply(tenantId, limits, existing) : null
    const at = this.deps.clock().toISOString()
    const previous = tenant.rateLimits ?? null
    try {
      await this.#record(
        [this.#tenants.setRateLimits(tenantId, limits, usagePlan, at)],
        {
          tenantId,
          at,
          actor,
          action: 'set-limits',
          target: tenantId,
          details: {
            rate: limits.rate,
            burst: limits.burst,
            quotaPerDay: limits.quotaPerDay,
            previous: previous ? `${previous.rate}/s, burst ${previous.burst}, ${previous.quotaPerDay}/day` : null,
            usagePlanId: usagePlan?.usagePlanId ?? null,
          },
        },
        (failed) => (failed.includes(0) ? new AdminInputError(`There is no tenant ${quote(tenantId)}`) : null),
      )
    } catch (error) {
      if (plans && usagePlan && usagePlan.usagePlanId !== existing?.usagePlanId) await plans.discard(usagePlan)
      throw error
    }
    return tenantView({ ...tenant, rateLimits: limits, usagePlan: usagePlan ?? tenant.usagePlan, updatedAt: at })
  }

  /**
   * Registers a trusted-documents manifest (`{ "<id or sha256>": "<GraphQL document>" }`) for the tenant: every
   * document is parsed and checked against the schema, an id that is a SHA-256 must be its document's, and an id
   * already registered must name the same document, all before anything is written. Written in transactions of up
   * to 49 documents (each stored under its id and its hash), each with its log entry; the same manifest again writes
   * nothing.
   */
  async registerDocuments(input: { tenantId: string; manifest: string }, actor: string): Promise<RegisteredDocuments> {
    const tenantId = checkTenantId(input.tenantId)
    const check = this.deps.checkDocument
    if (!check) throw new Error('registerDocuments needs a document check (the schema)')
    const entries = parseManifest(input.manifest)
    const now = this.deps.clock()
    const at = now.toISOString()
    const problems: string[] = []
    const documents: TrustedDocument[] = []
    for (const [documentId, document] of entries) {
      const sha256 = sha256Hex(document)
      const claimed = HASH_ID.exec(documentId)?.[1]
      if (claimed && claimed.toLowerCase() !== sha256) {
        problems.push(`${quote(documentId)} is a SHA-256 but not its document's (${sha256})`)
        continue
      }
      const result = check(document)
      if ('problem' in result) {
        problems.push(`${quote(documentId)}: ${result.problem}`)
        continue
      }
      documents.push({ tenantId, documentId, document, sha256, operations: result.operations, registeredAt: at })
    }
    if (problems.length > 0) {
      throw new AdminInputError(
        `Manifest: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more documents)` : ''}`,
      )
    }
    checkActor(actor)
    await this.#tenant(tenantId)

    const stored = await this.deps.documents.getMany(tenantId, [
      ...documents.map((document) => document.documentId),
      ...documents.map((document) => document.sha256),
    ])
    const unchanged: string[] = []
    const fresh: TrustedDocument[] = []
    for (const document of documents) {
      const existing = stored.get(document.documentId)
      if (!existing) fresh.push(document)
      else if (existing.document === document.document) unchanged.push(document.documentId)
      else {
        throw new AdminInputError(
          `${quote(document.documentId)} is registered already, with another document: give the new one a new id`,
        )
      }
    }
    // Each document under its id, and under its hash unless some item already has that key (stored, or one of this
    // manifest's ids): two writes of one item cannot share a transaction, and the hash names the same document anyway.
    const aliased = new Set([...stored.keys(), ...fresh.map((document) => document.documentId)])
    const planned = fresh.map((document) => {
      const writes = [this.deps.documents.register(document, document.documentId)]
      if (!aliased.has(document.sha256)) {
        aliased.add(document.sha256)
        writes.push(this.deps.documents.register(document, document.sha256))
      }
      return { document, writes }
    })
    const registered: string[] = []
    const perTransaction = Math.floor((MAX_TRANSACTION_WRITES - 1) / 2)
    for (let start = 0; start < planned.length; start += perTransaction) {
      const part = planned.slice(start, start + perTransaction)
      const ids = part.map(({ document }) => document.documentId)
      await this.#record(
        part.flatMap(({ writes }) => writes),
        {
          tenantId,
          at,
          actor,
          action: 'register-documents',
          target: tenantId,
          details: {
            documents: ids,
            ...(planned.length > perTransaction
              ? { part: `${start / perTransaction + 1}/${Math.ceil(planned.length / perTransaction)}` }
              : {}),
          },
        },
        () => new AdminConcurrentChangeError(`The documents of tenant ${quote(tenantId)}`),
      )
      registered.push(...ids)
    }
    return { registered, unchanged }
  }

  async listDocuments(tenantId: string): Promise<DocumentView[]> {
    await this.#tenant(checkTenantId(tenantId))
    return (await this.deps.documents.list(tenantId)).map((document) => ({
      documentId: document.documentId,
      sha256: document.sha256,
      operations: document.operations,
      registeredAt: document.registeredAt,
    }))
  }

  /** The admin log, newest first: one tenant's, or every tenant's. */
  async listLog(input: { tenantId?: string | undefined; limit?: number | undefined; before?: string | undefined }) {
    const limit = input.limit ?? 50
    if (!Number.isInteger(limit) || limit < 1 || limit > ADMIN_LIMITS.logPage) {
      throw new AdminInputError(`The limit is 1 to ${ADMIN_LIMITS.logPage}`)
    }
    if (input.before !== undefined && !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(input.before)) {
      throw new AdminInputError(`${quote(input.before)} is not an admin log entry id`)
    }
    if (input.tenantId === undefined) return this.deps.log.listAll(limit, input.before)
    const tenantId = checkTenantId(input.tenantId)
    await this.#tenant(tenantId)
    return this.deps.log.listForTenant(tenantId, limit, input.before)
  }

  /**
   * Makes sure a known tenant and client exist with the given secret (what `npm start` does for its demo tenant):
   * creates the tenant if it is missing (keeping it as it is otherwise), and writes the client afresh (enabled, that
   * secret only) unless it already verifies that secret and is enabled. Each change is logged; none, none.
   */
  async provisionClient(
    input: { tenantId: string; tenantName: string; clientId: string; clientSecret: string; clientName?: string },
    actor: string,
  ): Promise<{ tenantCreated: boolean; clientWritten: boolean }> {
    const tenantId = checkTenantId(input.tenantId)
    const clientId = checkClientId(input.clientId)
    const tenantName = checkName(input.tenantName, 'The tenant name')
    const clientName = checkName(input.clientName ?? input.clientId, 'The client name')
    if (input.clientSecret.length < 16) throw new AdminInputError('Client secrets are at least 16 characters')
    checkActor(actor)
    const at = this.deps.clock().toISOString()
    let tenantCreated = false
    // Items an older version wrote lack the keys that list them: given them here, once (not a change worth a log).
    await this.#tenants.backfill(tenantId)
    await this.deps.access.backfillApiClient(clientId)
    if (!(await this.#tenants.get(tenantId))) {
      const tenant = { tenantId, name: tenantName, allowedOrigins: [], createdAt: at, updatedAt: at }
      await this.#record(
        [this.#tenants.create(tenant)],
        { tenantId, at, actor, action: 'create-tenant', target: tenantId, details: { name: tenantName } },
        () => new AdminConcurrentChangeError(`Tenant ${quote(tenantId)}`),
      )
      tenantCreated = true
    }
    const existing = await this.deps.access.getApiClient(clientId)
    if (existing && existing.tenantId !== tenantId) {
      throw new AdminInputError(`Client ${quote(clientId)} belongs to another tenant`)
    }
    if (
      existing &&
      !existing.disabled &&
      existing.name === clientName &&
      !existing.previousSecretHash &&
      (await verifySecret(input.clientSecret, existing.secretHash))
    ) {
      return { tenantCreated, clientWritten: false }
    }
    const client: ApiClientRecord = {
      clientId,
      tenantId,
      name: clientName,
      secretHash: await this.#hash(input.clientSecret),
      disabled: false,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
    }
    await this.#record(
      [this.#tenants.exists(tenantId), this.deps.access.replaceApiClient(client, existing?.secretHash ?? null)],
      { tenantId, at, actor, action: 'provision-client', target: clientId, details: { name: clientName } },
      () => new AdminConcurrentChangeError(`Client ${quote(clientId)}`),
    )
    return { tenantCreated, clientWritten: true }
  }

  async #tenant(tenantId: string): Promise<TenantRecord> {
    const tenant = await this.#tenants.get(tenantId)
    if (!tenant) throw new AdminInputError(`There is no tenant ${quote(tenantId)}`)
    return tenant
  }

  /** The client, checked to be the tenant's when one is named: another tenant's client answers as missing. */
  async #client(clientId: string, tenantId: string | undefined): Promise<ApiClientRecord> {
    checkClientId(clientId)
    if (tenantId !== undefined) checkTenantId(tenantId)
    const client = await this.deps.access.getApiClient(clientId)
    if (!client || (tenantId !== undefined && client.tenantId !== tenantId)) {
      throw new AdminInputError(
        `There is no client ${quote(clientId)}${tenantId !== undefined ? ` in tenant ${quote(tenantId)}` : ''}`,
      )
    }
    return client
  }

  /** The change and its log entry in one transaction; a failed condition becomes `onConflict`'s error. */
  async #record(
    changes: readonly StoreWrite[],
    entry: Omit<AdminLogEntry, 'entryId' | 'details'> & { details: Record<string, AdminLogDetail> },
    onConflict: (failed: readonly number[]) => Error | null = () => null,
  ): Promise<void> {
    try {
      await this.deps.write([...changes, this.deps.log.append({ entryId: this.deps.newId(), ...entry })])
    } catch (error) {
      if (error instanceof WriteConditionFailedError) {
        throw onConflict(error.failed) ?? new AdminConcurrentChangeError(`${entry.target}`)
      }
      throw error
    }
  }
}

/** The manifest's entries, in order; throws {@link AdminInputError} for anything but a small object of strings. */
function parseManifest(manifest: string): [string, string][] {
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
