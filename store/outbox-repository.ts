// The outbox: one message per consent event, written in the event's own transaction (consent-repository.ts), then
// delivered to the partner by service/webhook-dispatcher.ts. A message is PENDING until delivered, DEAD when it could
// not be delivered in time, NO_ENDPOINT when neither the consent nor its tenant has a webhook URL. Pending messages sit
// in the sparse due-work index at their next attempt (one waiting behind an earlier message, at that message's next
// attempt); finished ones leave it.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { ConsentNotification, DeliveryAttempt, DeliveryState, OutboxMessage } from '../domain/notification.ts'
import { DUE_SHARDS, keys } from './keys.ts'
import { queryDue, queryPrefix } from './query.ts'

export type { DeliveryAttempt, DeliveryState, OutboxMessage } from '../domain/notification.ts'

/** A finished message (delivered, dead, without endpoint) is kept this long for the partner to see or replay. */
export const FINISHED_MESSAGE_RETENTION_DAYS = 30

/** Attempts kept on a message (the newest); older ones only count. */
const KEPT_ATTEMPTS = 10

function toMessage(item: Record<string, unknown>): OutboxMessage {
  return {
    tenantId: String(item.tenantId),
    consentId: String(item.consentId),
    sequence: Number(item.sequence),
    eventId: String(item.eventId),
    webhookUrl: (item.webhookUrl as string | null | undefined) ?? null,
    notification: item.notification as ConsentNotification,
    deliveryState: (item.deliveryState as DeliveryState | undefined) ?? 'PENDING',
    attempts: Number(item.attempts ?? 0),
    nextAttemptAt: (item.nextAttemptAt as string | null | undefined) ?? null,
    waitingForSequence: null,
    lastAttempt: ((item.history as DeliveryAttempt[] | undefined) ?? []).at(-1) ?? null,
    deliveredAt: (item.deliveredAt as string | null | undefined) ?? null,
    createdAt: String(item.createdAt),
  }
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
