// e2e: the partner web frontend of examples/web-connect, as `npm run example` starts it (onboarding through `npm run
// admin`, then the partner backend serving the page on its own origin), driven in Chromium: from page load through the
// sandbox bank's Approve to ACTIVE shown live, then revoked to REVOKED. The page holds only its user's token: the
// client secret never reaches it, and it sends registered documents by id, never their text.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient as createHttpClient } from 'graphql-http'
import type { Browser, BrowserContext, Page, Request as BrowserRequest } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { launchBrowser } from '../support/browser.ts'
import { execute, startStack, type Stack } from '../support/stack.ts'

const USER = 'web-connect-user'
const SCREENSHOTS = 'test-results/web-connect'
const MANIFEST = JSON.parse(readFileSync('examples/web-connect/trusted-documents.json', 'utf8')) as Record<
  string,
  string
>

let stack: Stack
let browser: Browser
let example: ChildProcess
let exampleUrl: string
let exampleOutput = ''
let onboarded: { tenantId: string; clientId: string; clientSecret: string }

beforeAll(async () => {
  const port = await freePort()
  exampleUrl = `http://127.0.0.1:${port}`
  // No static CORS list: the page's origin is allowed because the example registered it for its tenant (set-origins).
  stack = await startStack({
    // Long enough for the page to be back and listening before the bank's consent turns active.
    finqware: { activationDelayMs: 3000 },
  })
  const dataDir = await mkdtemp(join(tmpdir(), 'web-connect-'))
  // `npm run example`, pointed at this stack's gateway and table (as `npm run admin` takes TABLE_NAME).
  example = spawn(process.execPath, ['--import', 'tsx', 'examples/web-connect/main.ts', '--data-dir', dataDir], {
    env: {
      ...process.env,
      GATEWAY_URL: stack.graphqlUrl,
      TABLE_NAME: stack.table.tableName,
      DYNAMODB_ENDPOINT: stack.table.endpoint,
      EXAMPLE_PORT: String(port),
      EXAMPLE_USER_ID: USER,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  await new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      exampleOutput += chunk.toString()
      if (exampleOutput.includes('Connect your bank: open')) resolve()
    }
    example.stdout?.on('data', read)
    example.stderr?.on('data', read)
    example.once('exit', (code) => reject(new Error(`npm run example exited ${code}: ${exampleOutput}`)))
  })
  onboarded = JSON.parse(readFileSync(join(dataDir, 'web-connect.json'), 'utf8'))
  browser = await launchBrowser()
  mkdirSync(SCREENSHOTS, { recursive: true })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  if (example?.exitCode === null) {
    const exited = new Promise((resolve) => example.once('exit', resolve))
    example.kill('SIGTERM')
    await exited
  }
  await stack?.close()
})

/** Everything the page's browser sent and received, for the assertions on what it saw. */
interface Traffic {
  readonly requests: BrowserRequest[]
  /** Each answer's headers and body (an SSE stream's once it has ended). */
  readonly answers: Promise<string>[]
}

function record(context: BrowserContext): Traffic {
  const traffic: Traffic = { requests: [], answers: [] }
  context.on('request', (request) => traffic.requests.push(request))
  context.on('response', (response) => {
    traffic.answers.push(
      (async () => `${JSON.stringify(await response.allHeaders())}\n${await response.text().catch(() => '')}`)(),
    )
  })
  return traffic
}

const decodeJwt = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, any>

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true })

const liveStatuses = (page: Page) =>
  page.locator('#timeline li[data-source="live"]').evaluateAll((items) => items.map((item) => item.dataset.status))

describe('the web-connect example in Chromium', () => {
  it('connects a bank from page load to ACTIVE shown live, then revokes it to REVOKED', async () => {
    const context = await browser.newContext()
    const traffic = record(context)
    const page = await context.newPage()
    try {
      // Load: the backend gave the page a token for its user; providers and banks come from the gateway.
      await page.goto(`${exampleUrl}/`)
      await expect.poll(() => page.locator('#user-id').innerText()).toBe(USER)
      // The providers, or the error the page shows instead (a refused document or origin names itself here).
      const providersOrError = () =>
        page.evaluate(
          () => document.getElementById('error')?.textContent || document.querySelectorAll('#provider option').length,
        )
      await expect.poll(providersOrError).toBe(3)
      await page.locator('#provider').selectOption('FINQWARE')
      await page.locator('#bank').selectOption('bt_ro')
      await shot(page, '1-choose-bank.png')

      // To the bank, and approve.
      await page.getByRole('button', { name: 'Connect' }).click()
      await page.waitForURL((url) => url.origin === stack.finqware.url)
      await expect.poll(() => page.locator('h1').innerText()).toContain('Banca Transilvania')
      await shot(page, '2-bank-page.png')
      await page.getByRole('button', { name: 'Approve' }).click()

      // Back on the page: the redirect's status first, then the consent's changes as they happen, up to ACTIVE.
      await page.waitForURL((url) => url.origin === exampleUrl && url.searchParams.has('consent_id'))
      const consentId = new URL(page.url()).searchParams.get('consent_id') ?? ''
      await expect.poll(() => page.locator('#status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ACTIVE')
      const live = await liveStatuses(page)
      expect(live.at(-1)).toBe('ACTIVE')
      // It arrived while the page listened: the stream showed the consent before it was active.
      expect(live.length).toBeGreaterThan(1)
      expect(await page.locator('#revoke').isEnabled()).toBe(true)
      await shot(page, '3-active-live.png')

      // Revoke: the answer says REVOKED, the stream says it too and ends.
      await page.getByRole('button', { name: 'Revoke access' }).click()
      await expect.poll(() => page.locator('#status').getAttribute('data-status')).toBe('REVOKED')
      await expect.poll(() => liveStatuses(page)).toContain('REVOKED')
      await expect.poll(() => page.locator('#live').innerText()).toContain('ended')
      expect(await page.locator('#revoke').isEnabled()).toBe(false)
      await shot(page, '4-revoked.png')

      // The gateway agrees, and says the end user acted, through the example's client.
      const partner = createHttpClient({
        url: stack.graphqlUrl,
        headers: {
          authorization: `Basic ${Buffer.from(`${onboarded.clientId}:${onboarded.clientSecret}`).toString('base64')}`,
        },
      })
      const { data } = await execute(
        partner,
        `query ($id: ID!) { consent(id: $id) { ... on Consent { status userId events { edges { node { to actor { kind userId clientId } } } } } } }`,
        { id: consentId },
      )
      expect(data?.consent.status).toBe('REVOKED')
      expect(data?.consent.userId).toBe(USER)
      const revokedBy = data?.consent.events.edges.find((edge: any) => edge.node.to === 'REVOKED')?.node.actor
      expect(revokedBy).toEqual({ kind: 'END_USER', userId: USER, clientId: onboarded.clientId })

      // What the page sent the gateway: registered documents by id, never their text, with its user's token only.
      const toGateway = traffic.requests.filter((r) => r.url().startsWith(stack.graphqlUrl) && r.method() !== 'OPTIONS')
      const sent = toGateway.map((r) => JSON.parse(r.postData() ?? '{}') as Record<string, unknown>)
      expect(sent.length).toBeGreaterThanOrEqual(4)
      for (const body of sent) {
        expect(Object.keys(body).sort()).toEqual(['documentId', 'variables'])
        expect(Object.keys(MANIFEST)).toContain(body.documentId)
      }
      expect(new Set(sent.map((body) => body.documentId))).toEqual(new Set(Object.keys(MANIFEST)))
      for (const request of toGateway) {
        const [scheme, token] = (request.headers().authorization ?? '').split(' ')
        expect(scheme).toBe('Bearer')
        const claims = decodeJwt(token ?? '')
        expect({ sub: claims.sub, act: claims.act?.sub }).toEqual({ sub: USER, act: onboarded.clientId })
      }
      expect(traffic.requests.filter((r) => new URL(r.url()).pathname === '/oauth/token')).toEqual([])

      // Nothing the browser sent or received holds the client secret; its script holds no document text.
      await context.close()
      const seen = [
        ...traffic.requests.map((r) => `${r.url()}\n${JSON.stringify(r.headers())}\n${r.postData() ?? ''}`),
        ...(await Promise.all(traffic.answers)),
      ].join('\n')
      expect(seen).toContain(consentId)
      expect(seen).not.toContain(onboarded.clientSecret)
      expect(seen).not.toContain(Buffer.from(`${onboarded.clientId}:${onboarded.clientSecret}`).toString('base64'))
      const script = await (await fetch(`${exampleUrl}/app.js`)).text()
      for (const document of Object.values(MANIFEST)) {
        expect(script).not.toContain(document.split('\n')[0])
      }
      expect(script).toContain(Object.keys(MANIFEST)[0])
    } finally {
      await context.close()
    }
  }, 90_000)

  it("mints a user token for its own page only: another site's script, or a request without an origin, gets 403", async () => {
    const own = await fetch(`${exampleUrl}/session/token`, { method: 'POST', headers: { origin: exampleUrl } })
    expect(own.status).toBe(200)
    expect(own.headers.get('cache-control')).toBe('no-store')
    const session = (await own.json()) as { accessToken: string; userId: string }
    expect(decodeJwt(session.accessToken)).toMatchObject({ sub: USER, scope: 'consents:read consents:write' })
    const others: Record<string, string>[] = [{ origin: 'http://127.0.0.1:1' }, { origin: 'https://evil.example' }, {}]
    for (const headers of others) {
      const refused = await fetch(`${exampleUrl}/session/token`, { method: 'POST', headers })
      expect(refused.status, JSON.stringify(headers)).toBe(403)
      expect(await refused.text()).not.toContain('eyJ')
    }
  })
})
