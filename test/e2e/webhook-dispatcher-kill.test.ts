// e2e: a webhook dispatcher process is killed (SIGKILL) while a delivery is in flight, and another one started. Every
// transition reaches the partner at least once, and in order per consent: the one in flight when the first died
// arrives again (same webhook-id, for the receiver to de-duplicate), nothing is skipped or reordered.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { monotonicFactory } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Consent } from '../../domain/consent.ts'
import { ConsentRepository } from '../../store/consent-repository.ts'
import { OutboxRepository } from '../../store/outbox-repository.ts'
import { aConsent, writeConsentWithTransitions } from '../support/fixtures.ts'
import { createTestTable, type TestTable } from '../support/dynamo.ts'
import { eventually } from '../support/stack.ts'
import { RecordingReceiver } from '../support/webhook-receiver.ts'

const newId = monotonicFactory()
const CONSENTS = 20
const TRANSITIONS: Consent['status'][] = ['AWAITING_AUTHORIZATION', 'AUTHORIZED', 'ACTIVE', 'REVOKED']
const KILL_AT_REQUEST = 37
const TOKEN_KEYS = `k1:${randomBytes(32).toString('base64')}`
const TENANT = newId()

let table: TestTable
let receiver: RecordingReceiver
const children: ChildProcess[] = []

beforeAll(async () => {
  table = await createTestTable()
  receiver = await RecordingReceiver.start()
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await receiver.close()
})

async function startDispatcher(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/dispatcher-process.ts'], {
    env: {
      ...process.env,
      TABLE_NAME: table.tableName,
      DYNAMODB_ENDPOINT: table.endpoint,
      TOKEN_ENCRYPTION_KEYS: TOKEN_KEYS,
      LEASE_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer]
  expect(chunk.toString()).toContain('ready')
  return child
}

/** A consent and its transitions, each with its outbox message, as the gateway writes them. */
const consentWithTransitions = (repo: ConsentRepository): Promise<Consent> =>
  writeConsentWithTransitions(
    repo,
    aConsent({
      id: newId(),
      tenantId: TENANT,
      providerConsentId: `fq-${newId()}`,
      webhookUrl: receiver.url,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    }),
    TRANSITIONS,
    newId,
  )

describe('a webhook dispatcher killed mid-delivery', () => {
  it('loses nothing and reorders nothing once another one takes over', async () => {
    // Prepare: 20 consents with 5 messages each; the partner answers slowly, and request 37 never gets its answer
    // to the dispatcher: it is killed while waiting for it
    const repo = new ConsentRepository(table.db, table.tableName)
    const consents = await Promise.all(Array.from({ length: CONSENTS }, () => consentWithTransitions(repo)))
    const made = CONSENTS * (TRANSITIONS.length + 1)
    const running: { first?: ChildProcess } = {}
    let inFlightWhenKilled: string | undefined
    receiver.answer = (webhook, index) => {
      if (index === KILL_AT_REQUEST - 1) {
        inFlightWhenKilled = String(webhook.headers['webhook-id'])
        running.first?.kill('SIGKILL')
        return { status: 200, delayMs: 1_000 }
      }
      return { status: 200, delayMs: 5 }
    }
    // Act
    running.first = await startDispatcher()
    await eventually(async () => running.first?.signalCode === 'SIGKILL', 30_000)
    const beforeRestart = receiver.received.length
    await startDispatcher()
    const outbox = new OutboxRepository(table.db, table.tableName)
    await eventually(async () => {
      const states = await Promise.all(consents.map((consent) => outbox.ofConsent(TENANT, consent.id)))
      return states.flat().every((message) => message.deliveryState === 'DELIVERED')
    }, 60_000)
    // Assess
    const arrivals = receiver.received.map((webhook) => ({
      id: String(webhook.headers['webhook-id']),
      consentId: String(webhook.body.consent_id),
      sequence: Number(webhook.body.sequence),
    }))
    const distinct = new Set(arrivals.map((arrival) => arrival.id))
    console.log(
      `dispatcher killed at request ${KILL_AT_REQUEST} (${beforeRestart} sent by the first process): transitions made ` +
        `${made}, delivered ${distinct.size} distinct, ${arrivals.length} requests in all ` +
        `(${arrivals.length - distinct.size} redelivered)`,
    )
    expect(distinct.size).toBe(made)
    expect(arrivals.filter((arrival) => arrival.id === inFlightWhenKilled).length).toBeGreaterThanOrEqual(2)
    for (const consent of consents) {
      const sequences = arrivals
        .filter((arrival) => arrival.consentId === `consent_${consent.id}`)
        .map((arrival) => arrival.sequence)
      // Consecutive repeats are redeliveries; without them the consent's messages arrived 1, 2, 3, 4, 5.
      const collapsed = sequences.filter((sequence, i) => sequence !== sequences[i - 1])
      expect(collapsed).toEqual([1, 2, 3, 4, 5])
    }
  }, 120_000)
})
