// Partner administration: tenants, their API clients (created with a secret shown once, rotated with a grace period,
// disabled and enabled), their web origins, trusted documents and request limits (on AWS, with their API Gateway usage
// plan), and the admin log. Input is checked before anything is read or written (admin-input.ts); each change is one
// transaction with its log entry, conditioned on what was checked, so bad input or a lost race changes nothing; what
// it shows is shaped in admin-views.ts. composition/tenant-admin.ts builds it over a table for `npm run admin`
// (cli/admin.ts) and `npm start`'s demo tenant.
import { createHash } from 'node:crypto'
import { checkOrigins } from '../domain/origins.ts'
import { rateLimitProblems, type RateLimits } from '../domain/rate-limits.ts'
import type { AccessRepository, ApiClientRecord } from '../store/access-repository.ts'
import type { AdminLogRepository, AdminLogDetail, AdminLogEntry } from '../store/admin-log-repository.ts'
import type { TenantRecord, TenantUsagePlan } from '../store/tenant-repository.ts'
import type { TrustedDocumentRepository, TrustedDocument } from '../store/trusted-document-repository.ts'
import { MAX_TRANSACTION_WRITES, WriteConditionFailedError, type StoreWrite } from '../store/transaction.ts'
import { hashSecret, issueSecret, verifySecret } from '../crypto/secret-hash.ts'
import {
  ADMIN_LIMITS,
  AdminInputError,
  DEFAULT_GRACE_HOURS,
  HASH_ID,
  checkActor,
  checkClientId,
  checkName,
  checkTenantId,
  parseManifest,
  quote,
} from './admin-input.ts'
import {
  clientView,
  previousSecretUntil,
  tenantView,
  type ApiClientView,
  type DocumentView,
  type IssuedSecret,
  type RegisteredDocuments,
  type RotatedSecret,
  type TenantView,
} from './admin-views.ts'
import type { UsagePlans } from './usage-plans.ts'

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

const HOUR_MS = 3_600_000

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
