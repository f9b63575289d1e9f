// e2e: which web pages may read the API's answers. A foreign origin gets no CORS headers (its scripts cannot read an
// answer, the GraphiQL page included; its authenticated requests are refused), a configured origin gets them without
// credentials mode, and the GraphiQL page carries the demo credentials only when asked for by our own loopback
// host:port (not through DNS rebinding). Tenants' own origins: web-origins.test.ts.
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../support/stack.ts'

const PARTNER_ORIGIN = 'https://app.partner.example'
const FOREIGN_ORIGIN = 'https://evil.example'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({ graphiql: true, corsAllowedOrigins: [PARTNER_ORIGIN] })
})
afterAll(async () => {
  await stack?.close()
})

const query = (origin: string) =>
  fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: {
      origin,
      authorization: stack.authorization(stack.tenantA),
      'content-type': 'application/json',
    },
    body: JSON.stringify({ query: '{ providers { provider } }' }),
  })

const preflight = (origin: string) =>
  fetch(stack.graphqlUrl, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  })

/** GET with a Host header of our choosing (fetch does not let a caller set Host), as a rebinding page's browser sends. */
function getPage(
  host: string,
  origin?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(stack.graphqlUrl)
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: { host, accept: 'text/html', ...(origin ? { origin } : {}) },
      },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
      },
    )
    outgoing.on('error', reject)
    outgoing.end()
  })
}

describe('CORS', () => {
  it('refuses a foreign origin (403 ORIGIN_NOT_ALLOWED) with no CORS headers, so its scripts cannot read the answer', async () => {
    const answer = await query(FOREIGN_ORIGIN)

    expect(answer.status).toBe(403)
    expect(((await answer.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(
      'ORIGIN_NOT_ALLOWED',
    )
    expect(answer.headers.get('access-control-allow-origin')).toBeNull()
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull()
  })

  it('answers a foreign preflight without allowing anything', async () => {
    const answer = await preflight(FOREIGN_ORIGIN)

    expect(answer.headers.get('access-control-allow-origin')).toBeNull()
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull()
    expect(answer.headers.get('access-control-allow-headers')).toBeNull()
  })

  it('lets a configured origin read answers, never in credentials mode', async () => {
    const answer = await query(PARTNER_ORIGIN)

    expect(answer.status).toBe(200)
    expect(answer.headers.get('access-control-allow-origin')).toBe(PARTNER_ORIGIN)
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull()
    expect(answer.headers.get('vary')).toMatch(/origin/i)
    expect(answer.headers.get('access-control-expose-headers')).toMatch(/x-request-id/i)
  })

  it("answers a configured origin's preflight with the methods and headers the API needs", async () => {
    const answer = await preflight(PARTNER_ORIGIN)

    expect(answer.status).toBe(204)
    expect(answer.headers.get('access-control-allow-origin')).toBe(PARTNER_ORIGIN)
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull()
    expect(answer.headers.get('access-control-allow-methods')?.split(/,\s*/)).toEqual(
      expect.arrayContaining(['GET', 'POST']),
    )
    expect(answer.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['authorization', 'content-type']),
    )
  })

  it('does not treat an origin that only starts like a configured one as configured', async () => {
    for (const origin of [`${PARTNER_ORIGIN}.evil.example`, 'http://app.partner.example', 'null']) {
      const answer = await query(origin)
      expect(answer.headers.get('access-control-allow-origin'), origin).toBeNull()
    }
  })
})

describe('the GraphiQL page', () => {
  const secret = () => stack.tenantA.clientSecret
  const demoAuthorization = () => stack.authorization(stack.tenantA).replace('Basic ', '')

  it('carries the demo credentials when asked for by our own loopback host:port', async () => {
    const { host } = new URL(stack.graphqlUrl)
    for (const name of [host, host.replace('127.0.0.1', 'localhost')]) {
      const page = await getPage(name)
      expect(page.status, name).toBe(200)
      expect(page.body.includes(demoAuthorization()), name).toBe(true)
    }
  })

  it('cannot be read by a page of another origin', async () => {
    const { host } = new URL(stack.graphqlUrl)
    const page = await getPage(host, FOREIGN_ORIGIN)

    expect(page.headers['access-control-allow-origin']).toBeUndefined()
    expect(page.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it('leaves the credentials out for any other Host (a DNS-rebinding page, another port, the LAN)', async () => {
    const { port } = new URL(stack.graphqlUrl)
    for (const host of [
      `evil.example:${port}`,
      'evil.example',
      `127.0.0.1:${Number(port) + 1}`,
      `192.168.1.20:${port}`,
    ]) {
      const page = await getPage(host)
      expect(page.status, host).toBe(200)
      expect(page.body.includes('GraphiQL'), host).toBe(true)
      expect(page.body.includes(demoAuthorization()), host).toBe(false)
      expect(page.body.includes(secret()), host).toBe(false)
    }
  })
})
