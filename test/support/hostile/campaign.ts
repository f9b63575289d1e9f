// The hostile-traffic campaign against the whole local stack: its own DynamoDB Local on disk (so it can be killed
// under the gateway and started again on the same data), the fuzz at limited concurrency with the stalled bodies
// beside it, the store killed mid-traffic, and every acknowledged consent read back at the end.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDynamoDBLocal, type DynamoDBLocal } from '../../../local/dynamodb-local.ts'
import { provisionApiClient } from '../../../service/tenants.ts'
import { execute, startStack, type Stack } from '../stack.ts'
import { CREATE_CONSENT, consentInput, GET_CONSENT, SET_WEBHOOK_ENDPOINT, type FuzzTarget } from './payloads.ts'
import type { HostileRequest } from './hostile-request.ts'
import { hostileRequest, isStalledBody, storeOutageRequest } from './requests.ts'
import { judge, type Phase, type Secrets, type Verdict } from './verdict.ts'
import { encodeRequest, send } from './wire.ts'

/** The seed of the committed test and the script's default: the same 3,000 requests before and after a fix. */
export const FUZZ_SEED = 20_260_601

/** An answer not complete within this is a hang (the issue's bar). */
export const HANG_MS = 10_000

/** Where the source lives on disk: a path under it in an answer is internal text. */
const REPOSITORY_ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '')

/** Strings only tenant B's data holds: any answer to anyone else that shows one is a leak. */
const TENANT_B_USER = 'bravo-private-user-5e1f'
const TENANT_B_ENDPOINT = 'https://bravo-private-hooks.example/consents'

export interface FuzzSystem {
  readonly stack: Stack
  readonly target: FuzzTarget
  readonly secrets: Secrets
  /** The DynamoDB Local under the gateway (replaced by a new process on the same port and data when restarted). */
  dynamo(): DynamoDBLocal
  stopStore(): Promise<void>
  startStore(): Promise<void>
  close(): Promise<void>
}

/** Starts a DynamoDB Local of its own (on disk in a temp dir), the stack on it, and the seed data both tenants own. */
export async function startFuzzSystem(): Promise<FuzzSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'consent-gateway-fuzz-'))
  let dynamo = await startDynamoDBLocal({ dbPath: dataDir })
  let stack: Stack | undefined
  const stopAll = async () => {
    await stack?.close()
    await dynamo.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    stack = await startStack({ dynamoEndpoint: dynamo.endpoint })
    const { target, secrets } = await seed(stack, dynamo, dataDir)
    return {
      stack,
      target,
      secrets,
      dynamo: () => dynamo,
      stopStore: () => dynamo.stop(),
      async startStore() {
        dynamo = await startDynamoDBLocal({ dbPath: dataDir, port: dynamo.port })
      },
      close: stopAll,
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}

/**
 * A consent for each tenant (B's marked, to spot it in anyone else's answers), B's webhook endpoint and a cursor of
 * B's, and tenant A's second client for the outage traffic; what the generator and the verdicts need to know.
 */
async function seed(stack: Stack, dynamo: DynamoDBLocal, dataDir: string) {
  const clientA = stack.client(stack.tenantA)
  const clientB = stack.client(stack.tenantB)
  const created = async (client: typeof clientA, input: Record<string, unknown>) => {
    const result = await execute(client, CREATE_CONSENT, { input: consentInput(input) })
    const id = result.data?.createConsent?.consent?.id
    if (typeof id !== 'string') throw new Error(`seed consent not created: ${JSON.stringify(result)}`)
    return id
  }
  const mine = await created(clientA, { userId: 'alpha-fuzz-user' })
  const theirs = await created(clientB, {
    userId: TENANT_B_USER,
    idempotencyKey: 'bravo-seed',
    webhookUrl: TENANT_B_ENDPOINT,
  })
  await execute(clientB, SET_WEBHOOK_ENDPOINT, { url: TENANT_B_ENDPOINT })
  const page = await execute(clientB, `{ consents(first: 1) { pageInfo { endCursor } } }`)
  const foreignCursor = page.data?.consents?.pageInfo?.endCursor
  if (typeof foreignCursor !== 'string') throw new Error(`no cursor for tenant B: ${JSON.stringify(page)}`)

  const outageClient = { clientId: 'client-alpha-outage', clientSecret: randomBytes(24).toString('base64url') }
  await provisionApiClient(
    stack.gateway.access,
    { ...outageClient, tenantId: stack.tenantA.tenantId, tenantName: 'Alpha' },
    new Date(),
  )
  const check = await execute(stack.client({ ...stack.tenantA, ...outageClient }), GET_CONSENT, { id: mine })
  if (check.data?.consent?.__typename !== 'Consent') {
    throw new Error(`outage client not usable: ${JSON.stringify(check)}`)
  }

  const port = (url: string) => Number(new URL(url).port)
  const target: FuzzTarget = {
    gatewayPort: port(stack.http.url),
    ownPorts: [
      { name: 'gateway', port: port(stack.http.url) },
      { name: 'finqware sandbox', port: port(stack.finqware.url) },
      { name: 'worldline sandbox', port: port(stack.worldline.url) },
      { name: 'yapily sandbox', port: port(stack.yapily.url) },
      { name: 'dynamodb local', port: dynamo.port },
    ],
    authorization: { A: stack.authorization(stack.tenantA), B: stack.authorization(stack.tenantB) },
    outageAuthorization: stack.authorization({ ...stack.tenantA, ...outageClient }),
    clientIds: { A: stack.tenantA.clientId, B: stack.tenantB.clientId },
    consentIds: { A: mine, B: theirs },
    foreignCursor,
  }
  const secrets: Secrets = {
    // Not the store's endpoint: the fuzz itself stores it as a tenant's webhook URL, which is then rightly shown back.
    // Errors that reach the store are caught by their own vocabulary (ECONNREFUSED, DynamoDB...).
    internalNames: [stack.table.tableName, REPOSITORY_ROOT, dataDir],
    tenantBMarkers: [TENANT_B_USER, TENANT_B_ENDPOINT],
  }
  return { target, secrets }
}

/** Sends one request and judges its answer. */
async function sendAndJudge(system: FuzzSystem, request: HostileRequest, phase: () => Phase): Promise<Verdict> {
  const sentAt = performance.now()
  const sentIn = phase()
  const bytes = encodeRequest(request)
  const answer = await send(request, system.target.gatewayPort, HANG_MS, bytes)
  return judge(request, answer, { phase: sentIn, sentAt, secrets: system.secrets, requestText: bytes.toString('utf8') })
}

/** Runs `work(i)` for i in [from, to) with at most `concurrency` at once. */
async function pool(from: number, to: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = from
  const worker = async () => {
    while (next < to) await work(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, worker))
}

export interface FuzzOptions {
  readonly seed: number
  readonly requests: number
  /**
   * Requests in flight at once (stalled bodies run beside them, all at once).
   * @default 6
   */
  readonly concurrency?: number
  /** Only these indexes (a replay). */
  readonly only?: readonly number[]
  readonly onVerdict?: (verdict: Verdict) => void
}

/** Sends requests 0..requests-1 of run `seed`; the stalled bodies go at once, beside the rest. */
export async function runFuzz(system: FuzzSystem, options: FuzzOptions): Promise<Verdict[]> {
  const indexes = options.only ?? Array.from({ length: options.requests }, (_, i) => i)
  const stalled = indexes.filter(isStalledBody)
  const others = indexes.filter((index) => !isStalledBody(index))
  const verdicts: Verdict[] = []
  // Each request is built just before it is sent: the huge bodies are not all held at once.
  const sendOne = async (index: number) => {
    const verdict = await sendAndJudge(system, hostileRequest(options.seed, index, system.target), () => 'fuzz')
    verdicts.push(verdict)
    options.onVerdict?.(verdict)
  }
  await Promise.all([
    ...stalled.map(sendOne),
    pool(0, others.length, options.concurrency ?? 6, (i) => sendOne(others[i]!)),
  ])
  return verdicts.sort((a, b) => a.index - b.index)
}

export interface StoreOutageOptions {
  readonly seed: number
  /**
   * Requests answered before the kill, during it, and after the gateway has recovered.
   * @default { before: 100, down: 150, after: 100 }
   */
  readonly counts?: { readonly before: number; readonly down: number; readonly after: number }
  /** @default 6 */
  readonly concurrency?: number
  readonly onVerdict?: (verdict: Verdict) => void
  readonly log?: (line: string) => void
}

export interface StoreOutageResult {
  readonly verdicts: Verdict[]
  /** performance.now() when the stop began, when the store listened again, and when the gateway answered again. */
  readonly stoppedAt: number
  readonly restartedAt: number
  readonly recoveredAt: number | null
}

/**
 * Keeps traffic up while the store is killed and started again on the same data: `before` answers with the store up,
 * then the stop, `down` answers while it is gone, then the restart, then the wait until a store-backed read succeeds
 * again (at most 30 s), then `after` more answers.
 */
export async function runStoreOutage(system: FuzzSystem, options: StoreOutageOptions): Promise<StoreOutageResult> {
  const counts = options.counts ?? { before: 100, down: 150, after: 100 }
  const log = options.log ?? (() => undefined)
  const verdicts: Verdict[] = []
  let phase: Phase = 'store-up'
  let next = 0
  let answeredInPhase = 0
  let stopping = false
  let wake: () => void = () => undefined
  const worker = async () => {
    while (!stopping) {
      const request = storeOutageRequest(options.seed, next++, system.target)
      const verdict = await sendAndJudge(system, request, () => phase)
      verdicts.push(verdict)
      options.onVerdict?.(verdict)
      if (verdict.phase === phase) answeredInPhase++
      wake()
    }
  }
  const answered = (count: number) =>
    new Promise<void>((done) => {
      const check = () => {
        if (answeredInPhase >= count) done()
        else wake = check
      }
      check()
    })
  const workers = Array.from({ length: options.concurrency ?? 6 }, worker)

  await answered(counts.before)
  log(
    `store-outage: ${answeredInPhase} answers with the store up; stopping DynamoDB Local (pid ${system.dynamo().pid})`,
  )
  const stoppedAt = performance.now()
  phase = 'store-down'
  answeredInPhase = 0
  await system.stopStore()
  await answered(counts.down)
  log(`store-outage: ${answeredInPhase} answers with the store down; starting it again`)
  await system.startStore()
  const restartedAt = performance.now()
  phase = 'store-back'
  answeredInPhase = 0
  const recoveredAt = await waitForRecovery(system)
  log(
    `store-outage: gateway ${recoveredAt === null ? 'did NOT recover within 30 s' : `recovered ${Math.round(recoveredAt - restartedAt)} ms after the restart`}`,
  )
  phase = 'store-up'
  answeredInPhase = 0
  await answered(counts.after)
  stopping = true
  await Promise.all(workers)
  return { verdicts: verdicts.sort((a, b) => a.sentAt - b.sentAt), stoppedAt, restartedAt, recoveredAt }
}

/**
 * One GraphQL POST as `tenant` (A through its client the fuzz never attacks), given up after {@link HANG_MS}; null
 * when no JSON answer came.
 */
async function graphqlAs(system: FuzzSystem, tenant: 'A' | 'B', query: string, variables: Record<string, unknown>) {
  try {
    const response = await fetch(system.stack.graphqlUrl, {
      method: 'POST',
      headers: {
        authorization: tenant === 'A' ? system.target.outageAuthorization : system.target.authorization.B,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(HANG_MS),
    })
    return (await response.json()) as { data?: Record<string, any> | null }
  } catch {
    return null
  }
}

/** Polls a store-backed read until it answers the consent; the moment it did, or null after 30 s. */
async function waitForRecovery(system: FuzzSystem): Promise<number | null> {
  const deadline = performance.now() + 30_000
  while (performance.now() < deadline) {
    const result = await graphqlAs(system, 'A', GET_CONSENT, { id: system.target.consentIds.A })
    if (result?.data?.consent?.__typename === 'Consent') return performance.now()
    await new Promise((done) => setTimeout(done, 100))
  }
  return null
}

/** Reads every acknowledged consent back as its tenant; the ids that are gone. */
export async function findLostConsents(
  system: FuzzSystem,
  acknowledged: readonly { readonly id: string; readonly tenant: 'A' | 'B' }[],
): Promise<string[]> {
  const lost: string[] = []
  await pool(0, acknowledged.length, 4, async (i) => {
    const { id, tenant } = acknowledged[i]!
    const result = await graphqlAs(system, tenant, GET_CONSENT, { id })
    const consent = result?.data?.consent
    if (consent?.__typename !== 'Consent' || consent.id !== id) lost.push(id)
  })
  return lost
}
