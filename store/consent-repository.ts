// Consents in the single table: their reads, and their writes. Every state change is one TransactWriteItems composed
// of the item modules' writes: the consent (version-conditioned, consent-item.ts), its event (event-item.ts) and its
// outbox message (outbox-repository.ts), so nothing is lost between "status changed" and "partner told". The events
// are read through event-repository.ts.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb'
import {
  GetCommand,
  paginateQuery,
  PutCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb'
import type { Consent, ConsentEvent } from '../domain/consent.ts'
import { ConcurrentModificationError } from '../domain/errors.ts'
import type { ConsentNotification } from '../domain/notification.ts'
import type { Provider } from '../domain/provider.ts'
import type { ConsentStatus } from '../domain/status.ts'
import { batchGet } from './batch-get.ts'
import { consentEntity, consentItem, putConsentVersion, putNewConsent } from './consent-item.ts'
import { putEvent } from './event-item.ts'
import { allOf, type AttributeCondition } from './expressions.ts'
import { completeIdempotency, type IdempotencyCompletion } from './idempotency-repository.ts'
import { DUE_SHARDS, keys } from './keys.ts'
import { putOutboxMessage } from './outbox-repository.ts'
import { findProviderReference, putProviderReference } from './provider-reference-item.ts'
import { queryDue } from './query.ts'

export { consentItem } from './consent-item.ts'
export type { IdempotencyCompletion } from './idempotency-repository.ts'

/** Which of a tenant's consents a list reads; every condition is on stored attributes. */
export interface ConsentQuery {
  /** Stored statuses (any of). */
  readonly storedStatus?: readonly ConsentStatus[] | undefined
  readonly provider?: Provider | undefined
  readonly userId?: string | undefined
  readonly institutionId?: string | undefined
  /** Only these consents (at most 100 ids: a token restricted to some consents). */
  readonly consentIds?: readonly string[] | undefined
  /**
   * Keeps a consent read, or passes over it: a rule the store does not know (the status a client sees now), applied
   * while the page fills so a page is full whenever more consents match.
   */
  readonly keep?: ((consent: Consent) => boolean) | undefined
}

export interface ConsentPage {
  readonly consents: Consent[]
  readonly hasNextPage: boolean
  /** Where the next page starts (after this consent id); set whenever `hasNextPage`. */
  readonly resumeAfter: string | null
}

/** How many items one list call may examine before it returns a short page (filters can be selective). */
const LIST_READ_BUDGET = 1_000

const toConsent = (item: Record<string, unknown>): Consent => consentEntity.parse(item)

function isConditionFailure(error: unknown, index: number): boolean {
  return (
    error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed'
  )
}

export class ConsentRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One consent of one tenant; another tenant's id is simply not there. */
  async get(tenantId: string, consentId: string, options: { consistent?: boolean } = {}): Promise<Consent | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.consent(tenantId, consentId),
        ConsistentRead: options.consistent ?? false,
      }),
    )
    return Item ? toConsent(Item) : null
  }

  /** Several consents of one tenant, in the order asked; missing ones are null. */
  async getMany(tenantId: string, consentIds: readonly string[]): Promise<(Consent | null)[]> {
    const unique = [...new Set(consentIds)]
    const items = await batchGet(
      this.db,
      this.tableName,
      unique.map((id) => keys.consent(tenantId, id)),
    )
    const found = new Map(items.map((item) => [String(item.id), toConsent(item)]))
    return consentIds.map((id) => found.get(id) ?? null)
  }

  /**
   * Consents of any tenants, by key, strongly consistent (the latest committed version): what the subscription poller
   * reads once per tick for every changed consent somebody watches. Missing ones are simply absent.
   */
  async getByRefs(refs: readonly { tenantId: string; consentId: string }[]): Promise<Consent[]> {
    const unique = new Map(refs.map((ref) => [`${ref.tenantId}/${ref.consentId}`, ref]))
    const items = await batchGet(
      this.db,
      this.tableName,
      [...unique.values()].map((ref) => keys.consent(ref.tenantId, ref.consentId)),
      { consistent: true },
    )
    return items.map(toConsent)
  }

  /**
   * Writes a new consent with its first event, its outbox message and its provider-reference lookup item, and
   * completes the idempotency record that guarded the creation, all in one transaction.
   */
  async create(
    consent: Consent,
    event: ConsentEvent,
    notification: ConsentNotification,
    idempotency?: IdempotencyCompletion,
  ): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          putNewConsent(this.tableName, consent),
          putEvent(this.tableName, event),
          putOutboxMessage(this.tableName, event, notification, consent.webhookUrl),
          putProviderReference(this.tableName, {
            provider: consent.provider,
            providerConsentId: consent.providerConsentId,
            tenantId: consent.tenantId,
            consentId: consent.id,
          }),
          ...(idempotency ? [completeIdempotency(this.tableName, consent.tenantId, idempotency, consent.id)] : []),
        ],
      }),
    )
  }

  /**
   * Replaces the consent if it is still at `expectedVersion`, appending its event and outbox message.
   * Throws {@link ConcurrentModificationError} when another writer got there first.
   */
  async update(
    next: Consent,
    expectedVersion: number,
    event: ConsentEvent,
    notification: ConsentNotification,
  ): Promise<void> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            putConsentVersion(this.tableName, next, expectedVersion),
            putEvent(this.tableName, event, { exclusive: true }),
            putOutboxMessage(this.tableName, event, notification, next.webhookUrl),
          ],
        }),
      )
    } catch (error) {
      if (isConditionFailure(error, 0) || isConditionFailure(error, 1)) throw new ConcurrentModificationError(next.id)
      throw error
    }
  }

  /**
   * The consents whose next deadline has come, read from the sparse due-work index shard by shard: the work is the
   * number of due consents, never the table's size. `read` counts the items DynamoDB read to answer.
   */
  async dueForDeadline(now: Date): Promise<{ consents: Consent[]; read: number }> {
    const consents: Consent[] = []
    let read = 0
    for (let shard = 0; shard < DUE_SHARDS; shard++) {
      const page = await queryDue(this.db, this.tableName, 'gsi3', keys.duePartition('DEADLINE', shard), now)
      read += page.read
      consents.push(...page.items.map(toConsent))
    }
    return { consents, read }
  }

  /** Up to `limit` consents of `provider` due for a re-check at `now`, earliest due first within each shard. */
  async dueForRecheck(provider: Provider, now: Date, limit: number): Promise<{ consents: Consent[]; read: number }> {
    const consents: Consent[] = []
    let read = 0
    // Start at a different shard each run, so a budget smaller than what is due still reaches every shard in turn.
    const first = Math.floor(now.getTime() / 60_000) % DUE_SHARDS
    for (let i = 0; i < DUE_SHARDS && consents.length < limit; i++) {
      const shard = (first + i) % DUE_SHARDS
      const page = await queryDue(this.db, this.tableName, 'gsi4', keys.recheckPartition(provider, shard), now, {
        limit: limit - consents.length,
      })
      read += page.read
      consents.push(...page.items.map(toConsent))
    }
    return { consents, read }
  }

  /**
   * Stores a new schedule (next deadline, next re-check) for a consent whose state did not change: no new version, no
   * event. False when the consent moved on meanwhile (its own write scheduled it).
   */
  async reschedule(consent: Consent): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: consentItem(consent),
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': consent.version },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }

  /** Finds which tenant's consent a provider reference belongs to (strongly consistent). */
  async findByProviderRef(
    provider: Provider,
    providerConsentId: string,
  ): Promise<{ tenantId: string; consentId: string } | null> {
    return findProviderReference(this.db, this.tableName, provider, providerConsentId)
  }

  /**
   * A tenant's consents, newest first, filtered; `after` resumes behind a consent id. Reads the user index when a
   * user is given, the tenant index otherwise; the other conditions are applied while reading, `keep` after.
   */
  async list(tenantId: string, query: ConsentQuery, first: number, after: string | null): Promise<ConsentPage> {
    const byUser = query.userId !== undefined
    const index = byUser ? 'gsi2' : 'gsi1'
    const partition = byUser
      ? { name: 'gsi2pk', value: keys.userConsentsPartition(tenantId, query.userId ?? '') }
      : { name: 'gsi1pk', value: keys.tenantConsentsPartition(tenantId) }

    const conditions: AttributeCondition[] = []
    if (query.storedStatus?.length) conditions.push({ path: 'status', in: [...new Set(query.storedStatus)] })
    if (query.provider) conditions.push({ path: 'provider', equals: query.provider })
    if (query.institutionId !== undefined) conditions.push({ path: 'institution.id', equals: query.institutionId })
    if (query.consentIds) conditions.push({ path: 'id', in: query.consentIds })
    const filter = allOf(conditions)

    const startKey = (consentId: string) => ({
      ...keys.consent(tenantId, consentId),
      ...(byUser
        ? keys.consentByUser(tenantId, query.userId ?? '', consentId)
        : keys.consentByTenant(tenantId, consentId)),
    })

    const consents: Consent[] = []
    let exclusiveStartKey: Record<string, unknown> | undefined = after ? startKey(after) : undefined
    let examined = 0
    let lastExamined: string | null = null
    const pages = paginateQuery(
      {
        client: this.db,
        // Filtered: read in steps of 100 until the page fills; unfiltered: exactly one more than the page.
        pageSize: filter.expression ? 100 : first + 1,
        ...(exclusiveStartKey ? { startingToken: exclusiveStartKey } : {}),
      },
      {
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk',
        ...(filter.expression ? { FilterExpression: filter.expression } : {}),
        ExpressionAttributeNames: { '#pk': partition.name, ...filter.names },
        ExpressionAttributeValues: { ':pk': partition.value, ...filter.values },
        ScanIndexForward: false,
      },
    )
    for await (const page of pages) {
      examined += page.ScannedCount ?? 0
      for (const item of page.Items ?? []) {
        const consent = toConsent(item)
        if (consents.length > first) break
        lastExamined = consent.id
        if (query.keep && !query.keep(consent)) continue
        consents.push(consent)
      }
      exclusiveStartKey = page.LastEvaluatedKey
      if (!exclusiveStartKey) break
      const position = exclusiveStartKey[byUser ? 'gsi2sk' : 'gsi1sk']
      if (typeof position === 'string') lastExamined = position
      if (consents.length > first || examined >= LIST_READ_BUDGET) break
    }

    if (consents.length > first) {
      const page = consents.slice(0, first)
      return { consents: page, hasNextPage: true, resumeAfter: page.at(-1)?.id ?? after }
    }
    // Either the index is exhausted, or the read budget ran out before the page filled.
    const exhausted = exclusiveStartKey === undefined
    return { consents, hasNextPage: !exhausted, resumeAfter: exhausted ? null : lastExamined }
  }
}
