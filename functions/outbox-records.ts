// The outbox relay's decisions, apart from Lambda and the gateway so they are tested without AWS: which table-stream
// records it acts on (the event filter infra/jobs.ts gives the event source mapping, and the same test here), how a
// batch groups into consents, and which records a failed delivery hands back to the stream.
// It imports nothing of ours: infra/jobs.ts takes the filter from here, and brings no more app code into the infra
// program (type-checked against the SST platform) than this file.
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda'

/**
 * The event source mapping's filter (Lambda event filtering syntax): only new outbox items reach the relay. Their later
 * updates (attempts, delivery) and removals, and every other item's writes, are dropped by Lambda before any
 * invocation, at no charge.
 */
export const OUTBOX_INSERT_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { entityType: { S: ['OUTBOX'] } } },
} as const

/** One consent's new outbox items in a batch: the consent's webhooks to deliver, and the records that brought them. */
export interface ConsentOutbox {
  readonly tenantId: string
  readonly consentId: string
  /** The outbox items' sequences (the consent versions they announce), in stream order. */
  readonly sequences: readonly number[]
  /** The records' stream sequence numbers: what a partial batch failure names. */
  readonly recordSequenceNumbers: readonly string[]
}

export interface OutboxBatch {
  /** Each consent once, in the order its first record arrived. */
  readonly consents: readonly ConsentOutbox[]
  /** Records that are not new outbox items (the filter keeps them out; a test event or a changed filter may not). */
  readonly ignored: number
  /** Event ids of outbox inserts without a tenant, consent or sequence number: nothing a retry could deliver. */
  readonly malformed: readonly string[]
}

const stringOf = (value: AttributeValue | undefined): string | undefined => (value?.S ? value.S : undefined)

/**
 * Groups a stream batch's new outbox items by consent. A consent's outbox items share its partition, so DynamoDB
 * streams them on one shard in write order, and one batch holds them in that order.
 *
 * @example
 * ```ts
 * const { consents } = outboxBatch(event.Records)
 * for (const { tenantId, consentId } of consents) await gateway.jobs.deliverConsent(tenantId, consentId)
 * ```
 */
export function outboxBatch(records: readonly DynamoDBRecord[]): OutboxBatch {
  const byConsent = new Map<string, { tenantId: string; consentId: string; sequences: number[]; records: string[] }>()
  const malformed: string[] = []
  let ignored = 0
  for (const record of records) {
    const image = record.dynamodb?.NewImage
    if (record.eventName !== 'INSERT' || stringOf(image?.entityType) !== 'OUTBOX') {
      ignored += 1
      continue
    }
    const tenantId = stringOf(image?.tenantId)
    const consentId = stringOf(image?.consentId)
    const sequenceNumber = record.dynamodb?.SequenceNumber
    if (!tenantId || !consentId || !sequenceNumber) {
      malformed.push(record.eventID ?? sequenceNumber ?? '(no event id)')
      continue
    }
    // Tenant ids are ULIDs, without '#' (store/keys.ts), so the pair cannot collide.
    const key = `${tenantId}#${consentId}`
    const consent = byConsent.get(key) ?? { tenantId, consentId, sequences: [], records: [] }
    byConsent.set(key, consent)
    const sequence = Number(image?.sequence?.N)
    if (Number.isInteger(sequence)) consent.sequences.push(sequence)
    consent.records.push(sequenceNumber)
  }
  return {
    consents: [...byConsent.values()].map(({ records: recordSequenceNumbers, ...consent }) => ({
      ...consent,
      recordSequenceNumbers,
    })),
    ignored,
    malformed,
  }
}

/** What delivering one consent's pending webhooks reports (the gateway's `jobs.deliverConsent`). */
export interface DeliveryReport {
  readonly delivered: number
  readonly failed: number
  readonly deadLettered: number
}

/** The part of the gateway's logger the relay writes to. */
export interface RelayLogger {
  info(message: string, extra?: Record<string, unknown>): void
  warn(message: string, extra?: Record<string, unknown>): void
  error(message: string, extra?: Record<string, unknown>): void
}

/** Delivers one consent's pending webhooks in order; throws only when the gateway itself failed (table, network). */
export type DeliverConsent = (tenantId: string, consentId: string) => Promise<DeliveryReport>

/**
 * Delivers the batch's consents, concurrently, each once, and names the records of every consent whose delivery threw.
 *
 * A partner answering non-2xx is not a failure here: the gateway has recorded the attempt and scheduled the retry
 * (the scheduled delivery job makes it). Only a throw is handed back to the stream: Lambda then retries from the
 * earliest failed record (bisecting the batch, infra/jobs.ts), and consents delivered meanwhile are asked again,
 * which finds nothing pending and sends nothing twice.
 */
export async function relayOutbox(
  records: readonly DynamoDBRecord[],
  deliverConsent: DeliverConsent,
  logger: RelayLogger,
): Promise<DynamoDBBatchResponse> {
  const batch = outboxBatch(records)
  if (batch.malformed.length > 0) {
    logger.warn('outbox relay skipped records without tenant, consent or sequence number', {
      eventIds: batch.malformed,
    })
  }
  const outcomes = await Promise.all(
    batch.consents.map(async (consent) => {
      try {
        return { consent, report: await deliverConsent(consent.tenantId, consent.consentId) }
      } catch (error) {
        logger.error('outbox relay could not deliver a consent', {
          tenantId: consent.tenantId,
          consentId: consent.consentId,
          sequences: consent.sequences,
          error,
        })
        return { consent, report: null }
      }
    }),
  )
  const failed = outcomes.filter((outcome) => outcome.report === null).map((outcome) => outcome.consent)
  const total = (field: keyof DeliveryReport) => outcomes.reduce((sum, { report }) => sum + (report?.[field] ?? 0), 0)
  logger.info('outbox relay batch done', {
    records: records.length,
    ignored: batch.ignored,
    consents: batch.consents.length,
    failedConsents: failed.length,
    delivered: total('delivered'),
    failed: total('failed'),
    deadLettered: total('deadLettered'),
  })
  return {
    batchItemFailures: failed.flatMap((consent) =>
      consent.recordSequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })),
    ),
  }
}
