// e2e: `npm start` as a user runs it: a child process that prints credentials, serves the whole flow with them, and
// stops everything (the JVM included) on SIGTERM; keeps every consent (gateway and sandboxes) across a restart on
// the same data directory; moves the whole stack's clock so warnings and expiry arrive in minutes; and a clear message
// with exit code 3 when Java is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { decideAtBank, eventually } from '../support/stack.ts'
import { RecordingReceiver } from '../support/webhook-receiver.ts'

const started: ChildProcess[] = []
afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Descendant pids of `pid` (the JVM is a grandchild of npm). */
function descendants(pid: number): number[] {
  const out = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout
  const children = new Map<number, number[]>()
  for (const line of out.trim().split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number)
    if (child && parent) children.set(parent, [...(children.get(parent) ?? []), child])
  }
  const all: number[] = []
  const queue = [pid]
  while (queue.length) {
    for (const child of children.get(queue.shift() ?? 0) ?? []) {
      all.push(child)
      queue.push(child)
    }
  }
  return all
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

interface RunningStart {
  readonly child: ChildProcess
  readonly graphqlUrl: string
  readonly base: string
  output(): string
  /** The control secret the banner printed. */
  controlSecret(): string
  /** A GraphQL operation with the demo credentials; the data, errors thrown. */
  gql(query: string, variables?: Record<string, unknown>): Promise<any>
  /** SIGTERM, as a process manager sends it; resolves with the exit code. */
  stop(): Promise<number | null>
}

const DEMO = { clientId: 'e2e-demo-client', clientSecret: 'e2e-demo-secret-0123456789' }

/** Runs `npm start -- <args>` on free ports and waits for its banner. */
async function npmStart(args: string[], timeoutMs = 60_000): Promise<RunningStart> {
  const port = await freePort()
  const child = spawn('npm', ['start', '--', ...args], {
    env: {
      ...process.env,
      PORT: String(port),
      FINQWARE_SANDBOX_PORT: String(await freePort()),
      WORLDLINE_SANDBOX_PORT: String(await freePort()),
      YAPILY_SANDBOX_PORT: String(await freePort()),
      CONSENT_GATEWAY_DEMO_CLIENT_ID: DEMO.clientId,
      CONSENT_GATEWAY_DEMO_CLIENT_SECRET: DEMO.clientSecret,
      LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await eventually(async () => output.includes('Ctrl-C stops everything'), timeoutMs)
  const base = `http://127.0.0.1:${port}`
  const graphqlUrl = `${base}/graphql`
  const auth = `Basic ${Buffer.from(`${DEMO.clientId}:${DEMO.clientSecret}`).toString('base64')}`
  return {
    child,
    base,
    graphqlUrl,
    output: () => output,
    controlSecret: () => /Control secret +(\S+)/.exec(output)?.[1] ?? '',
    async gql(query, variables = {}) {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      })
      const body = (await response.json()) as { data?: any; errors?: unknown[] }
      if (body.errors) throw new Error(JSON.stringify(body.errors))
      return body.data
    },
    stop() {
      child.kill('SIGTERM')
      return waitForExit(child)
    },
  }
}

const CREATE = `mutation ($input: CreateConsentInput!) { createConsent(input: $input) {
  ... on CreateConsentPayload { consent { id status authorizationUrl } } ... on Error { code message } } }`
const STATUS = `query ($id: ID!) { consent(id: $id) { ... on Consent { status validUntil } } }`

describe('npm start', () => {
  it(
    'runs the whole system with the printed credentials and stops everything on SIGTERM',
    { timeout: 90_000 },
    async () => {
      // Prepare
      const port = await freePort()
      const clientId = 'e2e-demo-client'
      const clientSecret = 'e2e-demo-secret-0123456789'
      const child = spawn('npm', ['start', '--', '--in-memory'], {
        env: {
          ...process.env,
          PORT: String(port),
          FINQWARE_SANDBOX_PORT: String(await freePort()),
          CONSENT_GATEWAY_DEMO_CLIENT_ID: clientId,
          CONSENT_GATEWAY_DEMO_CLIENT_SECRET: clientSecret,
          LOG_LEVEL: 'WARN',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      started.push(child)
      let output = ''
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))

      // Act: wait for the banner
      await eventually(async () => output.includes('Ctrl-C stops everything'), 60_000)

      // Assess: the banner names GraphiQL, the fixed credentials and a curl to paste
      const graphqlUrl = `http://127.0.0.1:${port}/graphql`
      expect(output).toContain(`GraphiQL          ${graphqlUrl}`)
      expect(output).toContain(`Client id         ${clientId}`)
      expect(output).toContain(`Client secret     ${clientSecret}`)
      expect(output).toContain(`curl -s -u '${clientId}:${clientSecret}' ${graphqlUrl}`)

      // GraphiQL is served, pre-filled with the demo credentials and the README's operations in tabs
      const graphiql = await fetch(graphqlUrl, { headers: { accept: 'text/html' } })
      expect(graphiql.status).toBe(200)
      const page = await graphiql.text()
      expect(page.includes('GraphiQL')).toBe(true)
      expect(page.includes('mutation CreateConsent')).toBe(true)
      expect(page.includes('"defaultTabs"')).toBe(true)

      // The controls need the printed control secret: the sandboxes' and the gateway clock's
      const controlSecret = /Control secret +(\S+)/.exec(output)?.[1] ?? ''
      expect(controlSecret).not.toBe('')
      const finqwareUrl = /Finqware (http:\/\/\S+),/.exec(output)?.[1] ?? ''
      for (const headers of [{}, { 'x-control-secret': 'forged' }] as Record<string, string>[]) {
        expect((await fetch(`${finqwareUrl}/__sandbox/reset`, { method: 'POST', headers })).status).toBe(401)
        const clock = await fetch(`http://127.0.0.1:${port}/local/clock`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ advanceSeconds: 86_400 }),
        })
        expect(clock.status).toBe(401)
      }
      const clock = await fetch(`http://127.0.0.1:${port}/local/clock`, {
        headers: { 'x-control-secret': controlSecret },
      })
      expect(await clock.json()).toMatchObject({ offsetMs: 0 })
      // The done page shows what came back, as text
      const done = await fetch(`http://127.0.0.1:${port}/local/done?consent=consent_01X&status=ACTIVE&x=%3Cscript%3E`)
      const donePage = await done.text()
      expect(donePage).toContain('consent_01X')
      expect(donePage).not.toContain('<script>')
      expect(output).toContain(`Done page         http://127.0.0.1:${port}/local/done`)

      // The flow with the printed credentials
      const auth = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`
      const gql = async (query: string) => {
        const response = await fetch(graphqlUrl, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        })
        return ((await response.json()) as { data: any }).data
      }
      const created = (
        await gql(
          'mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA}) { ... on CreateConsentPayload { consent { id status authorizationUrl } } } }',
        )
      ).createConsent.consent
      expect(created.status).toBe('CREATED')
      await decideAtBank(created.authorizationUrl, 'approve')
      await eventually(
        async () =>
          (await gql(`{ consent(id: "${created.id}") { ... on Consent { status } } }`)).consent.status === 'ACTIVE',
      )
      const revoked = await gql(
        `mutation { revokeConsent(id: "${created.id}") { ... on RevokeConsentPayload { consent { status } } } }`,
      )
      expect(revoked.revokeConsent.consent.status).toBe('REVOKED')

      // Act: SIGTERM to npm, as a process manager would send it
      const processes = descendants(child.pid ?? 0)
      const jvm = processes.find(
        (pid) => spawnSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim() === 'java',
      )
      expect(jvm).toBeDefined()
      child.kill('SIGTERM')

      // Assess: everything exits, the JVM included
      expect(await waitForExit(child)).toBe(0)
      await eventually(async () => processes.every((pid) => !alive(pid)), 15_000)
    },
  )

  it(
    'keeps every consent across a restart on the same data directory: refresh and revoke work afterwards',
    { timeout: 180_000 },
    async () => {
      // Prepare: one ACTIVE consent per provider
      const dataDir = await mkdtemp(join(tmpdir(), 'npm-start-data-'))
      let run = await npmStart(['--data-dir', dataDir])
      const ids: Record<string, string> = {}
      for (const [provider, input, approve] of [
        ['FINQWARE', { institutionId: 'bt_ro', region: 'EEA' }, (url: string) => decideAtBank(url, 'approve')],
        ['WORLDLINE', { institutionId: '20101', region: 'EEA' }, (url: string) => decideAtBank(url, 'approve')],
        [
          'YAPILY',
          { institutionId: 'modelo-sandbox', region: 'UK' },
          // The bank sends the browser to the gateway's callback, which takes the consent token.
          async (url: string) => {
            const atBank = await decideAtBank(url, 'approve')
            await fetch(atBank.location ?? '', { redirect: 'manual' })
          },
        ],
      ] as const) {
        const created = (await run.gql(CREATE, { input: { provider, userId: `restart-${provider}`, ...input } }))
          .createConsent.consent as { id: string; authorizationUrl: string }
        await approve(created.authorizationUrl)
        await eventually(async () => (await run.gql(STATUS, { id: created.id })).consent.status === 'ACTIVE')
        ids[provider] = created.id
      }

      // Act: stop, start again on the same data
      expect(await run.stop()).toBe(0)
      run = await npmStart(['--data-dir', dataDir])
      try {
        // Assess: each consent is read again at its provider, then revoked there
        for (const [provider, id] of Object.entries(ids)) {
          const refreshed = await run.gql(
            `mutation ($id: ID!) { refreshConsent(id: $id) { __typename
              ... on RefreshConsentPayload { consent { status } } ... on Error { code message } } }`,
            { id },
          )
          expect(refreshed.refreshConsent, provider).toMatchObject({ consent: { status: 'ACTIVE' } })
          const revoked = await run.gql(
            `mutation ($id: ID!) { revokeConsent(id: $id) { __typename
              ... on RevokeConsentPayload { consent { status } } ... on Error { code message } } }`,
            { id },
          )
          expect(revoked.revokeConsent, provider).toMatchObject({ consent: { status: 'REVOKED' } })
        }
      } finally {
        expect(await run.stop()).toBe(0)
      }
    },
  )

  it(
    "moves the whole stack's clock on request: the partner gets both expiry warnings, then EXPIRED",
    { timeout: 150_000 },
    async () => {
      // Prepare: an ACTIVE consent valid for 10 days, reporting to the partner's endpoint
      const receiver = await RecordingReceiver.start()
      const run = await npmStart(['--in-memory'])
      try {
        const created = (
          await run.gql(CREATE, {
            input: {
              provider: 'FINQWARE',
              institutionId: 'bt_ro',
              userId: 'clock-user',
              region: 'EEA',
              validityDays: 10,
              webhookUrl: receiver.url,
            },
          })
        ).createConsent.consent as { id: string; authorizationUrl: string }
        await decideAtBank(created.authorizationUrl, 'approve')
        await eventually(async () => (await run.gql(STATUS, { id: created.id })).consent.status === 'ACTIVE')
        const advance = async (seconds: number) => {
          const answer = await fetch(`${run.base}/local/clock`, {
            method: 'POST',
            headers: { 'x-control-secret': run.controlSecret(), 'content-type': 'application/json' },
            body: JSON.stringify({ advanceSeconds: seconds }),
          })
          expect(answer.status).toBe(200)
          return (await answer.json()) as { now: string; sandboxes: Record<string, string> }
        }
        const mine = () => receiver.received.filter((webhook) => webhook.body?.consent_id === created.id)
        const DAY = 86_400

        // Act + Assess: 3 days on, the 7-day warning; 6 more, the 1-day warning; 1 more, EXPIRED
        const moved = await advance(3 * DAY + 60)
        expect(Object.keys(moved.sandboxes).sort()).toEqual(['finqware', 'worldline', 'yapily'])
        await expect
          .poll(() => mine().filter((webhook) => webhook.body.type === 'consent_expiry_warning').length, {
            timeout: 30_000,
          })
          .toBe(1)
        await advance(6 * DAY)
        await expect
          .poll(() => mine().filter((webhook) => webhook.body.type === 'consent_expiry_warning').length, {
            timeout: 30_000,
          })
          .toBe(2)
        await advance(DAY)
        await expect
          .poll(() => mine().some((webhook) => webhook.body.status === 'EXPIRED'), { timeout: 30_000 })
          .toBe(true)
        expect((await run.gql(STATUS, { id: created.id })).consent.status).toBe('EXPIRED')
      } finally {
        expect(await run.stop()).toBe(0)
        await receiver.close()
      }
    },
  )

  it('says Java is needed and exits with code 3 when there is no java on the PATH', async () => {
    // A PATH with node and nothing else (node's own directory may hold java too, e.g. /usr/bin).
    const bin = await mkdtemp(join(tmpdir(), 'no-java-'))
    await symlink(process.execPath, join(bin, 'node'))
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'local/main.ts', '--in-memory'], {
      env: { ...process.env, PATH: bin },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(result.status).toBe(3)
    expect(result.stderr).toMatch(/DynamoDB Local needs Java 17 or newer/)
  })
})
