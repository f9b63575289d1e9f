// e2e: `npm start` as a user runs it: a child process that prints credentials, serves the whole flow with them, and
// stops everything (the JVM included) on SIGTERM; and a clear message with exit code 3 when Java is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { decideAtBank, eventually } from '../support/stack.ts'

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

      // GraphiQL is served, pre-filled with the demo credentials
      const graphiql = await fetch(graphqlUrl, { headers: { accept: 'text/html' } })
      expect(graphiql.status).toBe(200)
      expect(await graphiql.text()).toContain('GraphiQL')

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
