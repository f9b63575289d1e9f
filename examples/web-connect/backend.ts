// The partner's backend: it alone holds the API client's secret. It gets a partner bearer token by client credentials
// (renewed before it lapses), mints a short-lived token for its logged-in end user with createUserToken, hands only
// that to the page (POST /session/token), and serves the page, on its own origin. "Logged in" is a fixed demo user
// here: a real backend takes the user from its own session.
import { readFile } from 'node:fs/promises'
import { serve } from '@hono/node-server'
import { build } from 'esbuild'
import { print } from 'graphql'
import { Hono } from 'hono'
import type { ResultOf } from './graphql.ts'
import { CreateUserToken } from './operations.ts'

export interface BackendOptions {
  /** The gateway's GraphQL endpoint (`http://127.0.0.1:4000/graphql` under npm start). */
  readonly graphqlUrl: string
  /** The gateway's token endpoint. @default graphqlUrl's origin + /oauth/token */
  readonly tokenUrl?: string
  readonly clientId: string
  readonly clientSecret: string
  /** The logged-in user: the partner's own reference for its end user. */
  readonly userId: string
  /** @default 4100 */
  readonly port?: number
  /** How long a user token lives (the gateway allows 3600 at most). @default 900 */
  readonly userTokenSeconds?: number
}

export interface Backend {
  /** The page's origin, `http://127.0.0.1:<port>`. */
  readonly url: string
  close(): Promise<void>
}

const PAGE_DIR = new URL('./page/', import.meta.url)
/** A partner token is renewed this long before it lapses (a token that lapses in flight is a failed request). */
const RENEW_BEFORE_SECONDS = 60

interface TokenAnswer {
  access_token?: string
  expires_in?: number
  error?: string
  error_description?: string
}

/** The partner's own bearer token (client credentials, RFC 6749 §4.4): one at a time, renewed before it lapses. */
function partnerToken(tokenUrl: string, clientId: string, clientSecret: string) {
  let current: { token: string; renewAt: number } | null = null
  let pending: Promise<string> | null = null
  const request = async (): Promise<string> => {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    const answer = (await response.json().catch(() => ({}))) as TokenAnswer
    if (!response.ok || !answer.access_token || !answer.expires_in) {
      throw new Error(
        `The gateway gave no partner token: ${answer.error ?? response.status} ${answer.error_description ?? ''}`,
      )
    }
    const lifetime = Math.max(answer.expires_in - RENEW_BEFORE_SECONDS, answer.expires_in / 2)
    current = { token: answer.access_token, renewAt: Date.now() + lifetime * 1000 }
    return current.token
  }
  return {
    get(): Promise<string> {
      if (current && Date.now() < current.renewAt) return Promise.resolve(current.token)
      pending ??= request().finally(() => (pending = null))
      return pending
    },
    /** The gateway refused it (its keys changed, the client was disabled): the next call asks anew. */
    forget(): void {
      current = null
    },
  }
}

type UserToken = Extract<ResultOf<typeof CreateUserToken>['createUserToken'], { __typename: 'CreateUserTokenPayload' }>

export async function startBackend(options: BackendOptions): Promise<Backend> {
  const gatewayOrigin = new URL(options.graphqlUrl).origin
  const partner = partnerToken(
    options.tokenUrl ?? `${gatewayOrigin}/oauth/token`,
    options.clientId,
    options.clientSecret,
  )
  const createUserToken = print(CreateUserToken)

  async function mintUserToken(retry = true): Promise<UserToken> {
    const response = await fetch(options.graphqlUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${await partner.get()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        query: createUserToken,
        variables: {
          userId: options.userId,
          scopes: ['CONSENTS_READ', 'CONSENTS_WRITE'],
          expiresInSeconds: options.userTokenSeconds ?? 900,
        },
      }),
    })
    if (response.status === 401 && retry) {
      partner.forget()
      return mintUserToken(false)
    }
    const result = (await response.json()) as {
      data?: ResultOf<typeof CreateUserToken>
      errors?: { message: string }[]
    }
    const minted = result.data?.createUserToken
    if (minted?.__typename !== 'CreateUserTokenPayload') {
      throw new Error(
        `The gateway minted no user token: ${result.errors?.[0]?.message ?? minted?.message ?? response.status}`,
      )
    }
    return minted
  }

  // The page's script, compiled from page/app.ts once at start (the documents are imported for their types only, so
  // the bundle carries their ids, not their text).
  const bundle = await build({
    entryPoints: [new URL('app.ts', PAGE_DIR).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const script = bundle.outputFiles[0]?.text ?? ''
  const [html, styles] = await Promise.all([
    readFile(new URL('index.html', PAGE_DIR), 'utf8'),
    readFile(new URL('styles.css', PAGE_DIR), 'utf8'),
  ])

  const port = options.port ?? 4100
  const selfOrigin = `http://127.0.0.1:${port}`
  const app = new Hono()
  app.use(async (c, next) => {
    await next()
    c.header('x-content-type-options', 'nosniff')
    c.header('referrer-policy', 'no-referrer')
  })
  app.get('/', (c) => {
    // The page may talk to us and to the gateway, and run our script only.
    c.header(
      'content-security-policy',
      `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ${gatewayOrigin}; ` +
        `base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    )
    return c.html(html)
  })
  app.get('/app.js', (c) => c.body(script, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
  app.get('/styles.css', (c) => c.body(styles, 200, { 'content-type': 'text/css; charset=utf-8' }))
  // No icon: an empty answer rather than a 404 in the console.
  app.get('/favicon.ico', (c) => c.body(null, 204))
  app.post('/session/token', async (c) => {
    // Our own page only: another site's script must not obtain our user's token (a real backend also checks the
    // session cookie here).
    if (c.req.header('origin') !== selfOrigin) return c.json({ error: 'forbidden' }, 403)
    try {
      const token = await mintUserToken()
      c.header('cache-control', 'no-store')
      return c.json({
        accessToken: token.accessToken,
        expiresAt: token.expiresAt,
        userId: options.userId,
        graphqlUrl: options.graphqlUrl,
      })
    } catch (error) {
      console.error(`web-connect: ${(error as Error).message}`)
      return c.json({ error: 'no_token' }, 502)
    }
  })

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(started))
    started.once('error', reject)
  })
  return {
    url: selfOrigin,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
