// `npm run example`: the web-connect example beside a running `npm start`. Onboarding first, as the gateway's operator
// does it with `npm run admin` (a tenant and an API client once, kept in <data-dir>/web-connect.json; then the page's
// origin and its trusted documents, every start), then the partner backend with those credentials, serving the page.
// With EXAMPLE_CLIENT_ID and EXAMPLE_CLIENT_SECRET set it uses that client and leaves onboarding to you.
import { spawn } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startBackend } from './backend.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const MANIFEST = fileURLToPath(new URL('trusted-documents.json', import.meta.url))

const { values: args } = parseArgs({ options: { 'data-dir': { type: 'string', default: '.data' } } })
const dataDir = args['data-dir'] ?? '.data'
/** The page's port. @default 4100 */
const port = Number(process.env.EXAMPLE_PORT ?? 4100)
/** The demo session's user. @default 'demo-user' */
const userId = process.env.EXAMPLE_USER_ID ?? 'demo-user'
const origin = `http://127.0.0.1:${port}`

interface Onboarded {
  readonly tenantId: string
  readonly clientId: string
  readonly clientSecret: string
}

/** The gateway of the `npm start` running here (its runtime file), or GATEWAY_URL. */
function gatewayUrl(): string {
  if (process.env.GATEWAY_URL) return process.env.GATEWAY_URL
  const file = join(dataDir, 'runtime.json')
  let runtime: { pid?: number; graphqlUrl?: string }
  try {
    runtime = JSON.parse(readFileSync(file, 'utf8')) as typeof runtime
  } catch {
    throw new Error(`npm start is not running here (no ${file}): start it first, or set GATEWAY_URL`)
  }
  try {
    process.kill(runtime.pid ?? -1, 0)
  } catch {
    throw new Error(`npm start is not running: ${file} is left from pid ${runtime.pid}; start npm start again`)
  }
  if (!runtime.graphqlUrl) throw new Error(`${file} names no graphqlUrl: restart npm start`)
  return runtime.graphqlUrl
}

/** `npm run admin -- <args> --json`, as the operator runs it; its JSON answer, or its one-line message thrown. */
function admin(...adminArgs: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/admin.ts', ...adminArgs, '--json', '--data-dir', dataDir, '--actor', 'npm run example'],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as unknown)
      else reject(new Error(err.trim() || `npm run admin -- ${adminArgs[0]} exited ${code}`))
    })
  })
}

/** Whether the gateway still knows these credentials (an in-memory npm start forgets them when it stops). */
async function accepted(tokenUrl: string, client: Onboarded): Promise<boolean> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }),
  })
  await response.arrayBuffer()
  return response.ok
}

async function onboard(tokenUrl: string): Promise<Onboarded> {
  const stateFile = join(dataDir, 'web-connect.json')
  let onboarded: Onboarded | null = null
  try {
    onboarded = JSON.parse(readFileSync(stateFile, 'utf8')) as Onboarded
  } catch {
    // First run here.
  }
  if (!onboarded || !(await accepted(tokenUrl, onboarded))) {
    const tenant = (await admin('create-tenant', '--name', 'Web connect example')) as { tenantId: string }
    const client = (await admin('create-client', '--tenant', tenant.tenantId, '--name', 'web-connect backend')) as {
      clientId: string
      clientSecret: string
    }
    onboarded = { tenantId: tenant.tenantId, clientId: client.clientId, clientSecret: client.clientSecret }
    // The secret is shown once: kept where the backend's deployment would keep it, readable by us only.
    writeFileSync(stateFile, `${JSON.stringify(onboarded, null, 2)}\n`, { mode: 0o600 })
    chmodSync(stateFile, 0o600)
    console.log(`Onboarded tenant ${onboarded.tenantId} with API client ${onboarded.clientId} (${stateFile})`)
  }
  await admin('set-origins', '--tenant', onboarded.tenantId, origin)
  const documents = (await admin('register-documents', '--tenant', onboarded.tenantId, MANIFEST)) as {
    registered: string[]
  }
  console.log(`Origin ${origin} set; trusted documents registered (${documents.registered.length} new)`)
  return onboarded
}

async function main(): Promise<void> {
  const graphqlUrl = gatewayUrl()
  const tokenUrl = `${new URL(graphqlUrl).origin}/oauth/token`
  const given = process.env.EXAMPLE_CLIENT_ID && process.env.EXAMPLE_CLIENT_SECRET
  const client = given
    ? { clientId: process.env.EXAMPLE_CLIENT_ID ?? '', clientSecret: process.env.EXAMPLE_CLIENT_SECRET ?? '' }
    : await onboard(tokenUrl)
  const backend = await startBackend({ graphqlUrl, tokenUrl, ...client, userId, port })
  console.log(`\nConnect your bank: open ${backend.url}/ (signed in as ${userId}; gateway ${graphqlUrl})\n`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void backend.close().then(() => process.exit(0)))
  }
}

main().catch((error: unknown) => {
  console.error(`web-connect: ${(error as Error).message}`)
  process.exit(1)
})
