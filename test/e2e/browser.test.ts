// e2e in a real browser (Chromium through playwright-core): the pages people meet. The user approves or denies on
// the sandbox's bank page and lands back on the partner's page, through the gateway, which tells the page which
// consent came back and how it stands; a developer runs a query in GraphiQL.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser } from '../support/browser.ts'
import { eventually, execute, startStack, type Stack } from '../support/stack.ts'

let stack: Stack
let browser: Browser
let partner: Server
let partnerUrl: string

beforeAll(async () => {
  stack = await startStack({ graphiql: true })
  browser = await launchBrowser()
  // The partner's own page, where the bank sends the user back.
  partner = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://partner')
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    // What the page was told, each value in its own element (escaped: it came in a URL)
    const shown = ['consent_id', 'status', 'status_reason']
      .map((name) => `<p id="${name}">${escapeHtml(url.searchParams.get(name) ?? '')}</p>`)
      .join('')
    response.end(`<!doctype html><title>Partner</title><h1>Welcome back</h1>${shown}`)
  })
  await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve))
  partnerUrl = `http://127.0.0.1:${(partner.address() as AddressInfo).port}/done`
})

afterAll(async () => {
  await browser?.close()
  partner?.closeAllConnections()
  partner?.close()
  await stack?.close()
})

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

async function createConsent(): Promise<{ id: string; authorizationUrl: string }> {
  const result = await execute(
    stack.client(stack.tenantA),
    `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { ... on CreateConsentPayload { consent { id authorizationUrl } } } }`,
    {
      input: {
        provider: 'FINQWARE',
        institutionId: 'bt_ro',
        userId: 'browser-user',
        region: 'EEA',
        redirectUrl: partnerUrl,
      },
    },
  )
  return result.data?.createConsent.consent
}

const statusOf = async (id: string) =>
  (
    await execute(stack.client(stack.tenantA), `query ($id: ID!) { consent(id: $id) { ... on Consent { status } } }`, {
      id,
    })
  ).data?.consent.status as string

async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext()
  try {
    return await fn(await context.newPage())
  } finally {
    await context.close()
  }
}

describe('the bank page in a browser', () => {
  it('approves: the user clicks Approve, lands on the partner page, and the consent turns ACTIVE', async () => {
    const consent = await createConsent()
    await withPage(async (page) => {
      // Act
      await page.goto(consent.authorizationUrl)
      await expect.poll(() => page.locator('h1').innerText()).toContain('Banca Transilvania')
      await page.getByRole('button', { name: 'Approve' }).click()
      // Assess: back at the partner, told which consent came back and how it stands
      await page.waitForURL(`${partnerUrl}?**`)
      expect(await page.locator('h1').innerText()).toBe('Welcome back')
      expect(await page.locator('#consent_id').innerText()).toBe(consent.id)
      expect(['AUTHORIZED', 'ACTIVE']).toContain(await page.locator('#status').innerText())
    })
    await eventually(async () => (await statusOf(consent.id)) === 'ACTIVE')
  })

  it('denies: the user clicks Deny, the partner page hears FAILED for USER_DENIED, and the consent is FAILED', async () => {
    const consent = await createConsent()
    await withPage(async (page) => {
      await page.goto(consent.authorizationUrl)
      await page.getByRole('button', { name: 'Deny' }).click()
      await page.waitForURL(`${partnerUrl}?**`)
      expect(await page.locator('#consent_id').innerText()).toBe(consent.id)
      expect(await page.locator('#status').innerText()).toBe('FAILED')
      expect(await page.locator('#status_reason').innerText()).toBe('USER_DENIED')
    })
    await eventually(async () => (await statusOf(consent.id)) === 'FAILED')
  })
})

describe('GraphiQL in a browser', () => {
  it('loads without the internet and runs a query with the pre-filled credentials', async () => {
    await withPage(async (page) => {
      const query = '{ providers { provider name } }'
      await page.goto(`${stack.graphqlUrl}?query=${encodeURIComponent(query)}`)
      await page.getByRole('button', { name: /execute query/i }).click()
      // The result pane is an editor: it renders spaces as no-break spaces. Compare the JSON it shows.
      const shown = async () => {
        try {
          return JSON.parse((await page.locator('.result-window').innerText()).replace(/\u00a0/g, ' ')) as unknown
        } catch {
          return null
        }
      }
      await expect.poll(shown, { timeout: 15_000 }).toMatchObject({
        data: {
          providers: [
            { provider: 'FINQWARE', name: 'Finqware' },
            { provider: 'WORLDLINE', name: 'Worldline' },
            { provider: 'YAPILY', name: 'Yapily' },
          ],
        },
      })
    })
  }, 60_000)
})
