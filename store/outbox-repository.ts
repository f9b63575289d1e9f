// The outbox: one message per consent event, written in the event's own transaction (its write is here, the
// transaction is consent-repository.ts's), then
// delivered to the partner by service/webhook-dispatcher.ts. A message is PENDING until delivered, DEAD when it could
// not be delivered in time, NO_ENDPOINT when neither the consent nor its tenant has a webhook URL. Pending messages sit
// in the sparse due-work index at their next attempt (one waiting behind an earlier message, at that message's next
// attempt); finished ones leave it.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { EVENT_KINDS, type ConsentEvent } from '../domain/consent.ts'
import {
  DELIVERY_STATES,
  NOTIFICATION_TYPES,
  type ConsentNotification,
  type DeliveryAttempt,
  type DeliveryState,
  type OutboxMessage,
} from '../domain/notification.ts'
import { PROVIDERS } from '../domain/provider.ts'
import { CONSENT_STATUSES, STATUS_REASONS } from '../domain/status.ts'
import * as z from '../domain/zod.ts'
import { defineEntity, orDefault, orNull, timestamp } from './entity.ts'
import { DUE_SHARDS, keys } from './keys.ts'
import { queryDue, queryPrefix } from './query.ts'
import type { StoreWrite } from './transaction.ts'

export type { DeliveryAttempt, DeliveryState, OutboxMessage } from '../domain/notification.ts'

/** A finished message (delivered, dead, without endpoint) is kept this long for the partner to see or replay. */
export const FINISHED_MESSAGE_RETENTION_DAYS = 30

/** Attempts kept on a message (the newest); older ones only count. */
const KEPT_ATTEMPTS = 10

/** An outbox message as stored: the attempts it keeps (`history`) rather than only the last one. */
export interface StoredOutboxMessage extends Omit<OutboxMessage, 'waitingForSequence' | 'lastAttempt'> {
  readonly history: readonly DeliveryAttempt[]
}

const notificationSchema: z.ZodMiniType<ConsentNotification> = z.lazy(() =>
  z.object({
    type: z.enum(EVENT_KINDS.map((kind) => NOTIFICATION_TYPES[kind])),
    event_id: z.string(),
    consent_id: z.string(),
    status: z.enum(CONSENT_STATUSES),
    previous_status: orNull(z.enum(CONSENT_STATUSES)),
    status_reason: orNull(z.enum(STATUS_REASONS)),
    provider: z.enum(PROVIDERS),
    provider_status: orNull(z.string()),
    occurred_at: timestamp,
    sequence: z.number(),
    deadline_at: orNull(timestamp),
  }),
)

const attemptSchema: z.ZodMiniType<DeliveryAttempt> = z.lazy(() =>
  z.object({
    at: timestamp,
    url: z.string(),
    status: orNull(z.number()),
    error: orNull(z.string()),
    durationMs: z.number(),
  }),
)

export const outboxEntity = defineEntity<StoredOutboxMessage>({
  type: 'OUTBOX',
  schema: () =>
    z.object({
      tenantId: z.string(),
      consentId: z.string(),
      sequence: z.number(),
      eventId: z.string(),
      webhookUrl: orNull(z.string()),
      notification: notificationSchema,
      deliveryState: orDefault(z.enum(DELIVERY_STATES), 'PENDING'),
      attempts: orDefault(z.number(), 0),
      nextAttemptAt: orNull(timestamp),
      history: orDefault(z.array(attemptSchema), []),
      deliveredAt: orNull(timestamp),
      createdAt: timestamp,
    }),
  keys: (message) => ({
    ...keys.outbox(message.tenantId, message.consentId, message.sequence),
    // Due while pending, at its next attempt; a finished message leaves the index.
    ...(message.deliveryState === 'PENDING' && message.nextAttemptAt
      ? keys.due('DELIVERY', message.consentId, message.nextAttemptAt, dueSuffix(message))
      : {}),
  }),
})

/**
 * The message telling the partner about `event`, for the event's own transaction: pending, due for delivery at once
 * (the dispatcher moves it on after each failed attempt and removes it from the due-work index once done).
 */
export function putOutboxMessage(
  tableName: string,
  event: ConsentEvent,
  notification: ConsentNotification,
  webhookUrl: string | null,
): StoreWrite {
  const {
    history: _none,
    deliveredAt: _notYet,
    ...item
  } = outboxEntity.item({
    tenantId: event.tenantId,
    consentId: event.consentId,
    eventId: event.id,
    sequence: event.version,
    webhookUrl,
    notification,
    deliveryState: 'PENDING',
    attempts: 0,
    nextAttemptAt: event.at,
    history: [],
    deliveredAt: null,
    createdAt: event.at,
  })
  return { Put: { TableName: tableName, Item: item } }
}

function toMessage(item: Record<string, unknown>): OutboxMessage {
  const { history, ...message } = outboxEntity.parse(item)
  return { ...message, waitingForSequence: null, lastAttempt: history.at(-1) ?? null }
}

export class OutboxRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The consents with a message due for an attempt at `now` (each once), and how many index items were read. */
  async consentsDue(now: Date): Promise<{ consents: { tenantId: string; consentId: string }[]; read: number }> {
    const found = new Map<string, { tenantId: string; consentId: string }>()
    let read = 0
    for (let shard = 0; shard < DUE_SHARDS; shard++) {
      const page = await queryDue(this.db, this.tableName, 'gsi3', keys.duePartition('DELIVERY', shard), now, {
        projection: 'tenantId, consentId',
      })
      read += page.read
      for (const item of page.items) {
        const ref = { tenantId: String(item.tenantId), consentId: String(item.consentId) }
        found.set(`${ref.tenantId}#${ref.consentId}`, ref)
      }
    }
    return { consents: [...found.values()], read }
  }

  /**
   * Every message of one consent, in sequence order (strongly consistent); a pending message behind the first pending
   * one names it in `waitingForSequence`.
   */
  async ofConsent(tenantId: string, consentId: string): Promise<OutboxMessage[]> {
    const pk = keys.consent(tenantId, consentId).pk
    const { items } = await queryPrefix(this.db, this.tableName, pk, keys.outboxPrefix, { consistent: true })
    const messages = items.map(toMessage).sort((a, b) => a.sequence - b.sequence)
    const head = messages.find((message) => message.deliveryState === 'PENDING')
    return messages.map((message) =>
      head && message.deliveryState === 'PENDING' && message.sequence > head.sequence
        ? { ...message, waitingForSequence: head.sequence }
        : message,
    )
  }

  /**
   * Moves a pending message that waits behind an earlier one to that message's next attempt, `at`, in the due-work
   * index, so it is not offered again before it can go. False when it is not pending any more.
   */
  async deferBehind(message: OutboxMessage, at: string): Promise<boolean> {
    const due = keys.due('DELIVERY', message.consentId, at, dueSuffix(message))
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.outbox(message.tenantId, message.consentId, message.sequence),
          UpdateExpression: 'SET nextAttemptAt = :next, gsi3pk = :duePk, gsi3sk = :dueSk',
          ConditionExpression: 'deliveryState = :pending',
          ExpressionAttributeValues: { ':next': at, ':duePk': due.gsi3pk, ':dueSk': due.gsi3sk, ':pending': 'PENDING' },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }

  /**
   * Records an attempt on a pending message and what follows: another attempt at `nextAttemptAt` (still PENDING),
   * or a final state. False when the message was not pending any more (another runner finished it).
   */
  async recordAttempt(
    message: OutboxMessage,
    attempt: DeliveryAttempt | null,
    outcome: { state: 'PENDING'; nextAttemptAt: string } | { state: Exclude<DeliveryState, 'PENDING'> },
  ): Promise<boolean> {
    const key = keys.outbox(message.tenantId, message.consentId, message.sequence)
    const due =
      outcome.state === 'PENDING'
        ? keys.due('DELIVERY', message.consentId, outcome.nextAttemptAt, dueSuffix(message))
        : null
    const sets = ['deliveryState = :state', 'attempts = attempts + :one']
    const values: Record<string, unknown> = { ':state': outcome.state, ':pending': 'PENDING', ':one': attempt ? 1 : 0 }
    if (attempt) {
      sets.push('history = list_append(if_not_exists(history, :empty), :attempt)')
      values[':empty'] = []
      values[':attempt'] = [attempt]
    }
    if (due) {
      sets.push('nextAttemptAt = :next', 'gsi3pk = :duePk', 'gsi3sk = :dueSk')
      Object.assign(values, { ':next': due.gsi3sk.split('#')[0], ':duePk': due.gsi3pk, ':dueSk': due.gsi3sk })
    }
    if (outcome.state === 'DELIVERED') {
      sets.push('deliveredAt = :deliveredAt')
      values[':deliveredAt'] = attempt?.at ?? new Date().toISOString()
    }
    if (!due) {
      // Finished: TTL removes it after the retention period (the history event stays for good).
      const finishedAt = Date.parse(attempt?.at ?? new Date().toISOString())
      sets.push('expiresAt = :expiresAt')
      values[':expiresAt'] = Math.ceil(finishedAt / 1000) + FINISHED_MESSAGE_RETENTION_DAYS * 86_400
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}${due ? '' : ' REMOVE nextAttemptAt, gsi3pk, gsi3sk'}`,
          ConditionExpression: 'deliveryState = :pending',
          ExpressionAttributeValues: values,
        }),
      )
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
    if (attempt && message.attempts + 1 > KEPT_ATTEMPTS) await this.#trimHistory(key)
    return true
  }

  async #trimHistory(key: { pk: string; sk: string }) {
    // list_append grows the list; dropping the oldest keeps the item small (REMOVE history[0]).
    await this.db.send(
      new UpdateCommand({ TableName: this.tableName, Key: key, UpdateExpression: 'REMOVE history[0]' }),
    )
  }

  /** Makes a finished message pending again, due at `now` (a replay the partner asked for). */
  async replay(message: OutboxMessage, now: Date): Promise<void> {
    const due = keys.due('DELIVERY', message.consentId, now.toISOString(), dueSuffix(message))
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.outbox(message.tenantId, message.consentId, message.sequence),
        UpdateExpression:
          'SET deliveryState = :pending, nextAttemptAt = :now, replayedAt = :now, gsi3pk = :pk, gsi3sk = :sk ' +
          'REMOVE expiresAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: {
          ':pending': 'PENDING',
          ':now': now.toISOString(),
          ':pk': due.gsi3pk,
          ':sk': due.gsi3sk,
        },
      }),
    )
  }
}

const dueSuffix = (message: Pick<OutboxMessage, 'tenantId' | 'consentId' | 'sequence'>) =>
  `${message.tenantId}#${message.consentId}#${message.sequence}`
