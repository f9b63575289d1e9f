// e2e: web frontends on their tenant's registered origins (`npm run admin -- set-origins`). A preflight (no
// credentials, so no tenant) is answered for an origin some tenant registered or the operator configured; the request
// itself, once authenticated, only for the caller's own tenant's origins (403 ORIGIN_NOT_ALLOWED otherwise, with no
// CORS header), so tenant B's page cannot use tenant A's token. Never credentials mode, never a reflected origin;
// callers without Origin (servers) are unaffected; the token endpoint is not for browsers. Checked with fetch for the
// headers, and in Chromium for what a page can actually read.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTenantAdmin } from '../../composition/tenant-admin.ts'
import { launchBrowser } from '../support/browser.ts'
import {
  basicHeader,
  documentIdOf,
  partnerToken,
  registerDocuments,
  signedToken,
  userClaims,
  userToken,
} from '../support/credentials.ts'
import { startStack, type Stack } from '../support/stack.ts'

const OPERATOR_ORIGIN = 'https://console.gateway.example'
const A_ORIGIN = 'https://app.alpha.example'
const B_ORIGIN = 'https://app.bravo.example'
const FOREIGN_ORIGIN = 'https://evil.example'
/** How long the gateway caches tenants' origins in this test (30 s by default). */
const ORIGINS_TTL_MS = 300

const PROVIDERS = 'query Providers { providers { provider } }'

let stack: Stack
let tokenA: string
/** Pages of tenant A's and tenant B's web frontends, and of nobody's, each on its own origin. */
let pages: { a: Server; b: Server; nobody: Server }
let browser: Browser | undefined

const originOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`

async function pageServer(): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end('<!doctype html><title>partner app</title><p>app</p>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

async function setOrigins(tenantId: string, origins: readonly string[]): Promise<void> {
  await createTenantAdmin(stack.table.db, stack.table.tableName).setOrigins({ tenantId, origins }, 'test-suite')
}

beforeAll(async () => {
  stack = await startStack({ corsAllowedOrigins: [OPERATOR_ORIGIN], webOrigins: { ttlMs: ORIGINS_TTL_MS } })
  pages = { a: await pageServer(), b: await pageServer(), nobody: await pageServer() }
  await setOrigins(stack.tenantA.tenantId, [A_ORIGIN, originOf(pages.a)])
  await setOrigins(stack.tenantB.tenantId, [B_ORIGIN, originOf(pages.b)])
  await registerDocuments(stack, stack.tenantA.tenantId, [PROVIDERS])
  tokenA = await userToken(stack, stack.tenantA, { userId: 'user-1' })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  for (const server of Object.values(pages ?? {})) server.close()
  await stack?.close()
})

const preflight = (origin: string, url = stack.graphqlUrl) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  })

/** The app's call: tenant A's registered query by its id, from `origin` (none: a server), with `authorization`. */
async function call(origin: string | null, authorization: string | null, accept = 'application/graphql-response+json') {
  const response = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept,
      ...(origin === null ? {} : { origin }),
      ...(authorization === null ? {} : { authorization }),
    },
    body: JSON.stringify({ documentId: documentIdOf(PROVIDERS) }),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text.startsWith('{') ? JSON.parse(text) : text }
}

describe('the preflight', () => {
  it("is answered for every tenant's registered origins and the operator's, never with credentials", async () => {
    for (const origin of [A_ORIGIN, B_ORIGIN, OPERATOR_ORIGIN]) {
      const answer = await preflight(origin)
      expect(answer.status, origin).toBe(204)
      expect(answer.headers.get('access-control-allow-origin'), origin).toBe(origin)
      expect(answer.headers.get('access-control-allow-credentials'), origin).toBeNull()
      expect(answer.headers.get('access-control-allow-methods')?.split(/,\s*/)).toEqual(['GET', 'POST'])
      expect(answer.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/)).toEqual(
        expect.arrayContaining(['authorization', 'content-type', 'accept']),
      )
      expect(answer.headers.get('vary')).toMatch(/origin/i)
    }
  })

  it('grants nothing to an origin nobody registered, nor to one that only looks like a registered one', async () => {
    for (const origin of [FOREIGN_ORIGIN, `${A_ORIGIN}.evil.example`, 'http://app.alpha.example', 'null']) {
      const answer = await preflight(origin)
      expect(answer.headers.get('access-control-allow-origin'), origin).toBeNull()
      expect(answer.headers.get('access-control-allow-headers'), origin).toBeNull()
      expect(answer.headers.get('vary')).toMatch(/origin/i)
    }
  })

  it('is not answered for the token endpoint: a browser never holds client secrets', async () => {
    const answer = await preflight(A_ORIGIN, stack.tokenUrl)
    expect(answer.headers.get('access-control-allow-origin')).toBeNull()
    const token = await fetch(stack.tokenUrl, {
      method: 'POST',
      headers: {
        origin: A_ORIGIN,
        authorization: basicHeader(stack.tenantA),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    })
    expect(token.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('the request', () => {
  it("is served to the caller's own tenant's origin (and the operator's), readable by the page", async () => {
    for (const origin of [A_ORIGIN, OPERATOR_ORIGIN]) {
      const answer = await call(origin, `Bearer ${tokenA}`)
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)
      expect(answer.body.data.providers.length).toBeGreaterThan(0)
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin)
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull()
      expect(answer.headers.get('access-control-expose-headers')).toMatch(/x-request-id/i)
      expect(answer.headers.get('vary')).toMatch(/origin/i)
    }
  })

  it("is refused 403 ORIGIN_NOT_ALLOWED, unreadable, from another tenant's origin or nobody's, whatever the credential", async () => {
    const credentials = {
      'user token': `Bearer ${tokenA}`,
      'partner bearer': `Bearer ${await partnerToken(stack, stack.tenantA)}`,
      basic: basicHeader(stack.tenantA),
    }
    for (const origin of [B_ORIGIN, FOREIGN_ORIGIN]) {
      for (const [kind, authorization] of Object.entries(credentials)) {
        for (const accept of ['application/graphql-response+json', 'text/event-stream']) {
          const answer = await call(origin, authorization, accept)
          const what = `${kind} from ${origin} (${accept})`
          expect(answer.status, what).toBe(403)
          expect(answer.body.errors?.[0]?.extensions.code, what).toBe('ORIGIN_NOT_ALLOWED')
          expect(answer.body.data, what).toBeUndefined()
          expect(answer.headers.get('access-control-allow-origin'), what).toBeNull()
        }
      }
    }
  })

  it('leaves callers without Origin (servers, apps) as they were, and the page of /graphql itself', async () => {
    const server = await call(null, `Bearer ${tokenA}`)
    expect(server.status).toBe(200)
    expect(server.headers.get('access-control-allow-origin')).toBeNull()
    const sameOrigin = await call(new URL(stack.graphqlUrl).origin, basicHeader(stack.tenantA))
    expect(sameOrigin.status).toBe(200)
  })

  it('lets a registered page read why it was refused without a valid token (401), and nobody else', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = userClaims(stack, stack.tenantA, 'user-1')
    const broken = {
      none: null,
      forged: `Bearer ${tokenA.slice(0, -4)}AAAA`,
      expired: `Bearer ${await signedToken(stack, { ...claims, iat: now - 3_600, exp: now - 600 })}`,
    }
    for (const [kind, authorization] of Object.entries(broken)) {
      const own = await call(A_ORIGIN, authorization)
      expect([own.status, own.body.errors?.[0]?.extensions.code], kind).toEqual([401, 'UNAUTHORIZED'])
      expect(own.headers.get('access-control-allow-origin'), kind).toBe(A_ORIGIN)
      const foreign = await call(FOREIGN_ORIGIN, authorization)
      expect(foreign.status, kind).toBe(401)
      expect(foreign.headers.get('access-control-allow-origin'), kind).toBeNull()
    }
  })

  it('follows set-origins within the cache period: a new origin is served, a removed one refused', async () => {
    // Prepare
    const next = 'https://next.alpha.example'

    // Act
    await setOrigins(stack.tenantA.tenantId, [next, originOf(pages.a)])

    // Assess
    await vi.waitFor(
      async () => {
        expect((await preflight(next)).headers.get('access-control-allow-origin')).toBe(next)
        expect((await call(next, `Bearer ${tokenA}`)).status).toBe(200)
        expect((await call(A_ORIGIN, `Bearer ${tokenA}`)).status).toBe(403)
        expect((await preflight(A_ORIGIN)).headers.get('access-control-allow-origin')).toBeNull()
      },
      { timeout: 10_000, interval: 100 },
    )
    await setOrigins(stack.tenantA.tenantId, [A_ORIGIN, originOf(pages.a)])
  })
})

describe('in Chromium', () => {
  /** What a page on `server`'s origin reads when it calls the API with tenant A's user token. */
  async function readFrom(server: Server): Promise<string> {
    browser ??= await launchBrowser()
    const page = await browser.newPage()
    try {
      await page.goto(`${originOf(server)}/`)
      return await page.evaluate(
        async ({ url, token, documentId }) => {
          try {
            const response = await fetch(url, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ documentId }),
            })
            const body = (await response.json()) as { data?: { providers: { provider: string }[] } }
            return `${response.status} ${body.data?.providers.map((provider) => provider.provider).join(',')}`
          } catch (error) {
            return `failed: ${String(error)}`
          }
        },
        { url: stack.graphqlUrl, token: tokenA, documentId: documentIdOf(PROVIDERS) },
      )
    } finally {
      await page.close()
    }
  }

  it("lets tenant A's page call with tenant A's user token, and neither tenant B's page nor a stranger's", async () => {
    expect(await readFrom(pages.a)).toBe('200 FINQWARE,WORLDLINE,YAPILY')
    // Tenant B's page: the preflight passes (B registered it), the request is refused and unreadable.
    expect(await readFrom(pages.b)).toMatch(/^failed: TypeError: Failed to fetch/)
    // Nobody's page: the preflight already fails.
    expect(await readFrom(pages.nobody)).toMatch(/^failed: TypeError: Failed to fetch/)
  }, 60_000)
})
