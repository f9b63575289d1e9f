// offline: the outbox relay's decisions on realistic table-stream batches: which records it acts on (the same ones the
// event source mapping's filter lets through), one delivery per consent, and partial batch failures.
import { marshall } from '@aws-sdk/util-dynamodb'
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { type DeliveryReport, OUTBOX_INSERT_FILTER, outboxBatch, relayOutbox } from '../../functions/outbox-records.ts'
import { silentLogger } from '../../runtime/logging.ts'

const TENANT = '01JD0TENANTRELAY0000000000A'
const OTHER_TENANT = '01JD0TENANTRELAY0000000000B'
const CONSENT_A = '01JD1CONSENTA000000000000AA'
const CONSENT_B = '01JD1CONSENTB000000000000BB'
const STREAM_ARN =
  'arn:aws:dynamodb:eu-west-1:123456789012:table/consent-gateway-production-TableTable-abcdefgh/stream/2026-11-21T09:00:00.000'
const AT = '2026-11-21T09:30:00.000Z'

let sequenceNumber = 4_200_000_000_000_000_000_000n
type Image = Record<string, unknown>

/** A stream record as Lambda hands it over (NEW_AND_OLD_IMAGES), for the item `item` and before it `old`. */
function streamRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', item: Image, old?: Image): DynamoDBRecord {
  sequenceNumber += 100n
  // The stream's images carry binaries as base64 strings where the SDK has bytes; these items hold none.
  const image = (value: Image) => marshall(value, { removeUndefinedValues: true }) as Record<string, AttributeValue>
  return {
    eventID: `evt-${sequenceNumber}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    eventSourceARN: STREAM_ARN,
    dynamodb: {
      ApproximateCreationDateTime: Date.parse(AT) / 1000,
      Keys: image({ pk: (old ?? item).pk, sk: (old ?? item).sk }),
      ...(eventName === 'REMOVE' ? {} : { NewImage: image(item) }),
      ...(old ? { OldImage: image(old) } : {}),
      SequenceNumber: String(sequenceNumber),
      SizeBytes: 640,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  }
}

/** An outbox item as store/consent-repository.ts writes it in a state change's transaction. */
function outboxItem(tenantId: string, consentId: string, sequence: number): Image {
  return {
    pk: `T#${tenantId}#C#${consentId}`,
    sk: `OUTBOX#${String(sequence).padStart(10, '0')}`,
    entityType: 'OUTBOX',
    tenantId,
    consentId,
    eventId: `01JD2EVENT${String(sequence).padStart(16, '0')}`,
    sequence,
    webhookUrl: 'https://partner.example/webhooks/consents',
    notification: {
      type: 'consent_status_update',
      consent_id: `cns_${consentId}`,
      status: 'ACTIVE',
      previous_status: 'AUTHORIZED',
      sequence,
      occurred_at: AT,
      deadline_at: null,
    },
    deliveryState: 'PENDING',
    attempts: 0,
    nextAttemptAt: AT,
    gsi3pk: 'DUE#DELIVERY#3',
    gsi3sk: `${AT}#${tenantId}#${consentId}#${sequence}`,
    createdAt: AT,
  }
}

const consentItem = (tenantId: string, consentId: string, version: number): Image => ({
  pk: `T#${tenantId}#C#${consentId}`,
  sk: 'CONSENT',
  entityType: 'CONSENT',
  tenantId,
  id: consentId,
  status: 'ACTIVE',
  version,
})

const eventItem = (tenantId: string, consentId: string, version: number): Image => ({
  pk: `T#${tenantId}#C#${consentId}`,
  sk: `EVENT#${String(version).padStart(10, '0')}`,
  entityType: 'EVENT',
  tenantId,
  consentId,
  version,
})

const leaseItem = (tenantId: string, consentId: string): Image => ({
  pk: `T#${tenantId}#C#${consentId}`,
  sk: 'LEASE#DELIVERY',
  entityType: 'LEASE',
  expiresAt: Math.floor(Date.parse(AT) / 1000) + 60,
})

/**
 * A batch as the stream delivers it: two state changes of consent A and one of consent B, each a consent update, its
 * event and its outbox item, with the deliveries' own writes (leases, attempts recorded, delivered items removed).
 */
function realisticBatch() {
  const a3 = outboxItem(TENANT, CONSENT_A, 3)
  const a4 = outboxItem(TENANT, CONSENT_A, 4)
  const b1 = outboxItem(OTHER_TENANT, CONSENT_B, 1)
  const records = [
    streamRecord('MODIFY', consentItem(TENANT, CONSENT_A, 3), consentItem(TENANT, CONSENT_A, 2)),
    streamRecord('INSERT', eventItem(TENANT, CONSENT_A, 3)),
    streamRecord('INSERT', a3),
    streamRecord('INSERT', consentItem(OTHER_TENANT, CONSENT_B, 1)),
    streamRecord('INSERT', eventItem(OTHER_TENANT, CONSENT_B, 1)),
    streamRecord('INSERT', b1),
    streamRecord('INSERT', leaseItem(TENANT, CONSENT_A)),
    streamRecord('MODIFY', { ...a3, attempts: 1, deliveryState: 'RETRYING' }, a3),
    streamRecord('MODIFY', consentItem(TENANT, CONSENT_A, 4), consentItem(TENANT, CONSENT_A, 3)),
    streamRecord('INSERT', eventItem(TENANT, CONSENT_A, 4)),
    streamRecord('INSERT', a4),
    streamRecord('REMOVE', b1, b1),
  ]
  const sequenceOf = (index: number) => records[index]?.dynamodb?.SequenceNumber
  return { records, a3: sequenceOf(2), b1: sequenceOf(5), a4: sequenceOf(10) }
}

/** Whether a Lambda event filter pattern (exact string matches, as OUTBOX_INSERT_FILTER uses) accepts `value`. */
function filterAccepts(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.includes(value)
  if (pattern === null || typeof pattern !== 'object') return false
  if (value === null || typeof value !== 'object') return false
  return Object.entries(pattern).every(([key, nested]) =>
    filterAccepts(nested, (value as Record<string, unknown>)[key]),
  )
}

const delivered = (count: number): DeliveryReport => ({ delivered: count, failed: 0, deadLettered: 0 })

describe('outboxBatch', () => {
  it('groups new outbox items by consent, in the order the stream delivered them', () => {
    // Prepare
    const { records, a3, a4, b1 } = realisticBatch()

    // Act
    const batch = outboxBatch(records)

    // Assess
    expect(batch.consents).toEqual([
      { tenantId: TENANT, consentId: CONSENT_A, sequences: [3, 4], recordSequenceNumbers: [a3, a4] },
      { tenantId: OTHER_TENANT, consentId: CONSENT_B, sequences: [1], recordSequenceNumbers: [b1] },
    ])
    expect(batch.ignored).toBe(records.length - 3)
    expect(batch.malformed).toEqual([])
  })

  it('acts on exactly the records the event source mapping lets through', () => {
    // Prepare
    const { records } = realisticBatch()

    // Act
    const verdicts = records.map((record) => ({
      filter: filterAccepts(OUTBOX_INSERT_FILTER, record),
      relay: outboxBatch([record]).consents.length === 1,
    }))

    // Assess
    expect(verdicts.filter((verdict) => verdict.filter)).toHaveLength(3)
    for (const verdict of verdicts) expect(verdict.relay).toBe(verdict.filter)
  })

  it('sets aside an outbox insert without its tenant or consent, which no retry could deliver', () => {
    // Prepare
    const { consentId: _consentId, ...withoutConsent } = outboxItem(TENANT, CONSENT_A, 5)
    const record = streamRecord('INSERT', withoutConsent)

    // Act
    const batch = outboxBatch([record])

    // Assess
    expect(batch.consents).toEqual([])
    expect(batch.malformed).toEqual([record.eventID])
  })

  it('finds nothing to do in an empty batch', () => {
    // Assess
    expect(outboxBatch([])).toEqual({ consents: [], ignored: 0, malformed: [] })
  })
})

describe('relayOutbox', () => {
  it('delivers each consent of the batch once and reports no failure when every delivery ran', async () => {
    // Prepare
    const { records } = realisticBatch()
    const calls: string[] = []

    // Act
    const response = await relayOutbox(
      records,
      async (tenantId, consentId) => {
        calls.push(`${tenantId}/${consentId}`)
        return delivered(1)
      },
      silentLogger,
    )

    // Assess
    expect(calls).toEqual([`${TENANT}/${CONSENT_A}`, `${OTHER_TENANT}/${CONSENT_B}`])
    expect(response).toEqual({ batchItemFailures: [] })
  })

  it('does not hand back a consent whose partner refused: the gateway has scheduled its retry', async () => {
    // Prepare
    const { records } = realisticBatch()

    // Act
    const response = await relayOutbox(
      records,
      async () => ({ delivered: 0, failed: 1, deadLettered: 0 }),
      silentLogger,
    )

    // Assess
    expect(response.batchItemFailures).toEqual([])
  })

  it("hands back every record of a consent whose delivery threw, and only that consent's", async () => {
    // Prepare
    const { records, a3, a4 } = realisticBatch()
    const errors: unknown[] = []
    const logger = { ...silentLogger, error: (_message: string, extra?: Record<string, unknown>) => errors.push(extra) }

    // Act
    const response = await relayOutbox(
      records,
      async (_tenantId, consentId) => {
        if (consentId === CONSENT_A) throw new Error('ProvisionedThroughputExceededException')
        return delivered(1)
      },
      logger,
    )

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: a3 }, { itemIdentifier: a4 }])
    expect(errors).toEqual([expect.objectContaining({ tenantId: TENANT, consentId: CONSENT_A, sequences: [3, 4] })])
  })

  it('delivers the consents of a batch concurrently', async () => {
    // Prepare
    const { records } = realisticBatch()
    let inFlight = 0
    let most = 0

    // Act
    await relayOutbox(
      records,
      async () => {
        inFlight += 1
        most = Math.max(most, inFlight)
        // One turn of the event loop: every delivery the relay started together has begun before any ends.
        await new Promise((resolve) => setImmediate(resolve))
        inFlight -= 1
        return delivered(1)
      },
      silentLogger,
    )

    // Assess
    expect(most).toBe(2)
  })

  it('calls no one for a batch without new outbox items', async () => {
    // Prepare
    const records = realisticBatch().records.filter((record) => record.eventName !== 'INSERT')
    let calls = 0

    // Act
    const response = await relayOutbox(
      records,
      async () => {
        calls += 1
        return delivered(0)
      },
      silentLogger,
    )

    // Assess
    expect(calls).toBe(0)
    expect(response).toEqual({ batchItemFailures: [] })
  })
})
