// Consents, their history and their outbox in the single table. Every state change is one TransactWriteItems:
// the consent (version-conditioned), its event and its outbox message, so nothing is lost between "status changed"
// and "partner told".
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb'
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb'
import type { Consent, ConsentEvent } from '../domain/consent.ts'
import { effectiveStatus, storedStatusesShownAs } from '../domain/derived.ts'
import { ConcurrentModificationError } from '../domain/errors.ts'
import type { ConsentNotification } from '../domain/notification.ts'
import type { Provider } from '../domain/provider.ts'
import type { ConsentStatus } from '../domain/status.ts'
import { DUE_SHARDS, keys, type ItemKey } from './keys.ts'
import { queryDue, queryPrefix } from './query.ts'

export interface ConsentFilter {
  /** Effective statuses (any of). */
  readonly status?: readonly ConsentStatus[] | undefined
  readonly provider?: Provider | undefined
  readonly userId?: string | undefined
  readonly institutionId?: string | undefined
  /** Only these consents (at most 100 ids: a token restricted to some consents). */
  readonly consentIds?: readonly string[] | undefined
}

export interface ConsentPage {
  readonly consents: Consent[]
  readonly hasNextPage: boolean
  /** Where the next page starts (after this consent id); set whenever `hasNextPage`. */
  readonly resumeAfter: string | null
}

export interface IdempotencyCompletion {
  readonly idempotencyKey: string
  readonly leaseToken: string
}

/** How many items one list call may examine before it returns a short page (filters can be selective). */
const LIST_READ_BUDGET = 1_000
const BATCH_GET_LIMIT = 100

const CONSENT_FIELDS = [
  'id',
  'tenantId',
  'provider',
  'providerConsentId',
  'providerStatus',
  'userId',
  'providerUserRef',
  'institution',
  'region',
  'scope',
  'validityDays',
  'status',
  'statusReason',
  'authorizationUrl',
  'linkExpiresAt',
  'validUntil',
  'lastConfirmedAt',
  'reconfirmBy',
  'redirectUrl',
  'webhookUrl',
  'supersededBy',
  'supersedes',
  'deletion',
  'nextDeadline',
  'sweptUntil',
  'nextCheckAt',
  'createdAt',
  'updatedAt',
  'version',
] as const satisfies readonly (keyof Consent)[]

function toConsent(item: Record<string, unknown>): Consent {
  const consent: Record<string, unknown> = {}
  for (const field of CONSENT_FIELDS) consent[field] = item[field] ?? null
  return consent as unknown as Consent
}

/** The stored item of a consent, its index keys included (exported for bulk seeding in tests and benchmarks). */
export function consentItem(consent: Consent): Record<string, unknown> {
  return {
    ...keys.consent(consent.tenantId, consent.id),
    ...keys.consentByTenant(consent.tenantId, consent.id),
    ...keys.consentByUser(consent.tenantId, consent.userId, consent.id),
    // Sparse: only a consent with a deadline ahead, or still worth re-checking, is in the due-work indexes.
    ...(consent.nextDeadline
      ? keys.due('DEADLINE', consent.id, consent.nextDeadline.at, `${consent.tenantId}#${consent.id}`)
      : {}),
    ...(consent.nextCheckAt ? keys.recheck(consent.provider, consent.id, consent.nextCheckAt, consent.tenantId) : {}),
    entityType: 'CONSENT',
    ...consent,
  }
}

function eventItem(event: ConsentEvent): Record<string, unknown> {
  return {
    ...keys.event(event.tenantId, event.consentId, event.version),
    ...keys.eventByTenant(event.tenantId, event.id),
    ...keys.change(event.consentId, event.id),
    entityType: 'EVENT',
    ...event,
  }
}

/** A stored event; items written before events had kinds are changes. */
export function toEvent(item: Record<string, unknown>): ConsentEvent {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _gsi1pk,
    gsi1sk: _gsi1sk,
    gsi5pk: _gsi5pk,
    gsi5sk: _gsi5sk,
    entityType: _type,
    ...event
  } = item
  return { kind: 'CHANGE', deadline: null, ...event } as ConsentEvent
}

function outboxItem(event: ConsentEvent, notification: ConsentNotification, webhookUrl: string | null) {
  return {
    ...keys.outbox(event.tenantId, event.consentId, event.version),
    entityType: 'OUTBOX',
    tenantId: event.tenantId,
    consentId: event.consentId,
    eventId: event.id,
    sequence: event.version,
    webhookUrl,
    notification,
    deliveryState: 'PENDING',
    attempts: 0,
    nextAttemptAt: event.at,
    // Due for delivery at once; the dispatcher moves it on after each failed attempt and removes it once done.
    ...keys.due('DELIVERY', event.consentId, event.at, `${event.tenantId}#${event.consentId}#${event.version}`),
    createdAt: event.at,
  }
}

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

  /** Reads many items in batches of 100, retrying what DynamoDB leaves unprocessed. */
  async #batchGet(
    itemKeys: readonly ItemKey[],
    options: { projection?: string; consistent?: boolean } = {},
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = []
    for (let start = 0; start < itemKeys.length; start += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] | undefined = itemKeys.slice(start, start + BATCH_GET_LIMIT)
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(20 * 2 ** attempt, 1_000)))
        const result: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ConsistentRead: options.consistent ?? false,
                ...(options.projection ? { ProjectionExpression: options.projection } : {}),
              },
            },
          }),
        )
        items.push(...(result.Responses?.[this.tableName] ?? []))
        pending = result.UnprocessedKeys?.[this.tableName]?.Keys
      }
    }
    return items
  }

  /** Several consents of one tenant, in the order asked; missing ones are null. */
  async getMany(tenantId: string, consentIds: readonly string[]): Promise<(Consent | null)[]> {
    const unique = [...new Set(consentIds)]
    const items = await this.#batchGet(unique.map((id) => keys.consent(tenantId, id)))
    const found = new Map(items.map((item) => [String(item.id), toConsent(item)]))
    return consentIds.map((id) => found.get(id) ?? null)
  }

  /**
   * Consents of any tenants, by key, strongly consistent (the latest committed version): what the subscription poller
   * reads once per tick for every changed consent somebody watches. Missing ones are simply absent.
   */
  async getByRefs(refs: readonly { tenantId: string; consentId: string }[]): Promise<Consent[]> {
    const unique = new Map(refs.map((ref) => [`${ref.tenantId}/${ref.consentId}`, ref]))
    const items = await this.#batchGet(
      [...unique.values()].map((ref) => keys.consent(ref.tenantId, ref.consentId)),
      { consistent: true },
    )
    return items.map(toConsent)
  }

  /**
   * One shard of the change feed (every tenant's events, gsi5): the events with ids above `afterEventId`, in id order,
   * every page read. Eventually consistent, like every index read: the caller re-reads an overlap window behind its
   * cursor (see service/change-feed.ts). `pageSize` bounds each Query, not the answer.
   */
  async changesOfShard(shard: number, afterEventId: string, pageSize = 500): Promise<ConsentEvent[]> {
    const events: ConsentEvent[] = []
    let start: Record<string, unknown> | undefined
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'gsi5',
          KeyConditionExpression: 'gsi5pk = :pk AND gsi5sk > :after',
          ExpressionAttributeValues: { ':pk': keys.changePartition(shard), ':after': afterEventId },
          Limit: pageSize,
          ExclusiveStartKey: start,
        }),
      )
      events.push(...(page.Items ?? []).map(toEvent))
      start = page.LastEvaluatedKey
    } while (start)
    return events
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
          {
            Put: {
              TableName: this.tableName,
              Item: consentItem(consent),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          { Put: { TableName: this.tableName, Item: eventItem(event) } },
          { Put: { TableName: this.tableName, Item: outboxItem(event, notification, consent.webhookUrl) } },
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...keys.providerRef(consent.provider, consent.providerConsentId),
                entityType: 'PROVIDER_REF',
                tenantId: consent.tenantId,
                consentId: consent.id,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ...(idempotency
            ? [
                {
                  Update: {
                    TableName: this.tableName,
                    Key: keys.idempotency(consent.tenantId, idempotency.idempotencyKey),
                    UpdateExpression: 'SET #state = :completed, consentId = :consentId REMOVE leaseExpiresAt',
                    ConditionExpression: '#state = :inProgress AND leaseToken = :leaseToken',
                    ExpressionAttributeNames: { '#state': 'state' },
                    ExpressionAttributeValues: {
                      ':completed': 'COMPLETED',
                      ':inProgress': 'IN_PROGRESS',
                      ':consentId': consent.id,
                      ':leaseToken': idempotency.leaseToken,
                    },
                  },
                },
              ]
            : []),
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
            {
              Put: {
                TableName: this.tableName,
                Item: consentItem(next),
                ConditionExpression: 'version = :expected',
                ExpressionAttributeValues: { ':expected': expectedVersion },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: eventItem(event),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: outboxItem(event, notification, next.webhookUrl) } },
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

  /**
   * The tenant's history feed in event order, after `afterEventId`, up to `until` (exclusive): events are ordered by
   * their ULIDs, so the feed only serves ids below `until`, a moment every transaction that could still carry a
   * smaller id has committed by (see service/event-feed.ts).
   */
  async eventsOfTenant(
    tenantId: string,
    afterEventId: string | null,
    untilEventId: string,
    limit: number,
  ): Promise<{ events: ConsentEvent[]; hasMore: boolean }> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: afterEventId
          ? 'gsi1pk = :pk AND gsi1sk BETWEEN :after AND :until'
          : 'gsi1pk = :pk AND gsi1sk < :until',
        ExpressionAttributeValues: {
          ':pk': keys.tenantEventsPartition(tenantId),
          ':until': untilEventId,
          ...(afterEventId ? { ':after': afterEventId } : {}),
        },
        // BETWEEN is inclusive: one more, and the cursor's own event dropped.
        Limit: limit + 1 + (afterEventId ? 1 : 0),
      }),
    )
    const events = (page.Items ?? [])
      .map(toEvent)
      .filter((event) => event.id !== afterEventId && event.id < untilEventId)
    return { events: events.slice(0, limit), hasMore: events.length > limit || page.LastEvaluatedKey !== undefined }
  }

  /**
   * One event of the tenant's, by id: only the tenant's own event partition is read (gsi1), so another tenant's id
   * finds nothing. Eventually consistent, like the feed.
   */
  async eventOfTenant(tenantId: string, eventId: string): Promise<ConsentEvent | null> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk = :id',
        ExpressionAttributeValues: { ':pk': keys.tenantEventsPartition(tenantId), ':id': eventId },
      }),
    )
    const item = page.Items?.[0]
    return item ? toEvent(item) : null
  }

  /** Finds which tenant's consent a provider reference belongs to (strongly consistent). */
  async findByProviderRef(
    provider: Provider,
    providerConsentId: string,
  ): Promise<{ tenantId: string; consentId: string } | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.providerRef(provider, providerConsentId),
        ConsistentRead: true,
      }),
    )
    return Item ? { tenantId: String(Item.tenantId), consentId: String(Item.consentId) } : null
  }

  /** A consent's history, oldest first. */
  async history(tenantId: string, consentId: string): Promise<ConsentEvent[]> {
    const { items } = await queryPrefix(this.db, this.tableName, keys.consent(tenantId, consentId).pk, keys.eventPrefix)
    return items.map(toEvent)
  }

  /**
   * A tenant's consents, newest first, filtered; `after` resumes behind a consent id. Reads the user index when a
   * user is given, the tenant index otherwise; other filters are applied while reading, the effective status after.
   */
  async list(
    tenantId: string,
    filter: ConsentFilter,
    first: number,
    after: string | null,
    now: Date,
  ): Promise<ConsentPage> {
    const byUser = filter.userId !== undefined
    const index = byUser ? 'gsi2' : 'gsi1'
    const partition = byUser
      ? { name: 'gsi2pk', value: keys.userConsentsPartition(tenantId, filter.userId ?? '') }
      : { name: 'gsi1pk', value: keys.tenantConsentsPartition(tenantId) }

    const names: Record<string, string> = { '#pk': partition.name }
    const values: Record<string, unknown> = { ':pk': partition.value }
    const conditions: string[] = []
    if (filter.status?.length) {
      const stored = [...new Set(filter.status.flatMap(storedStatusesShownAs))]
      names['#status'] = 'status'
      conditions.push(`#status IN (${stored.map((_, i) => `:status${i}`).join(', ')})`)
      stored.forEach((status, i) => (values[`:status${i}`] = status))
    }
    if (filter.provider) {
      names['#provider'] = 'provider'
      values[':provider'] = filter.provider
      conditions.push('#provider = :provider')
    }
    if (filter.institutionId !== undefined) {
      names['#institution'] = 'institution'
      values[':institutionId'] = filter.institutionId
      conditions.push('#institution.id = :institutionId')
    }
    if (filter.consentIds) {
      names['#id'] = 'id'
      conditions.push(`#id IN (${filter.consentIds.map((_, i) => `:id${i}`).join(', ')})`)
      filter.consentIds.forEach((id, i) => (values[`:id${i}`] = id))
    }
    const wanted = filter.status?.length ? new Set(filter.status) : null

    const startKey = (consentId: string) => ({
      ...keys.consent(tenantId, consentId),
      ...(byUser
        ? keys.consentByUser(tenantId, filter.userId ?? '', consentId)
        : keys.consentByTenant(tenantId, consentId)),
    })

    const consents: Consent[] = []
    let exclusiveStartKey: Record<string, unknown> | undefined = after ? startKey(after) : undefined
    let examined = 0
    let lastExamined: string | null = null
    while (consents.length <= first && examined < LIST_READ_BUDGET) {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: '#pk = :pk',
          ...(conditions.length ? { FilterExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: conditions.length ? 100 : first + 1 - consents.length,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      )
      examined += page.ScannedCount ?? 0
      for (const item of page.Items ?? []) {
        const consent = toConsent(item)
        if (consents.length > first) break
        lastExamined = consent.id
        if (wanted && !wanted.has(effectiveStatus(consent, now).status)) continue
        consents.push(consent)
      }
      exclusiveStartKey = page.LastEvaluatedKey
      if (!exclusiveStartKey) break
      const position = exclusiveStartKey[byUser ? 'gsi2sk' : 'gsi1sk']
      if (typeof position === 'string') lastExamined = position
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
