// The one HTTP application: every route the gateway serves, declared once, served by @hono/node-server under
// `npm start` (local/http-server.ts) and by the Lambda adapter on AWS (functions/lambda-http.ts). Routes the caller
// gives no handler for (GraphQL in the function that serves providers and browsers, the OAuth endpoints before they
// are wired, local mode's controls on Lambda) are simply not found.
//
//   ANY  /graphql                              GraphQL (CORS per tenant, 411/413 before it runs)
//   POST /webhooks/<provider>[/...]            provider notifications (Worldline posts below its path)
//   GET  /callbacks/<provider>/<signed link>   the user's browser back from the provider
//   POST /oauth/token                          OAuth 2.0 token endpoint
//   GET  /.well-known/jwks.json                token signing keys
//   GET  /healthz                              the store's health
//   ...  extra routes                          local mode's controls and pages
//
// A known path asked with another method answers 405 with Allow; an unknown path 404; both as JSON problems.
import { Hono } from 'hono'
import type { GraphQLServer } from '../schema/server.ts'
import type { Gateway } from '../composition/gateway.ts'
import { GRAPHQL_PATH, HEALTH_PATH, JWKS_PATH, OAUTH_TOKEN_PATH } from '../service/public-paths.ts'
import { declaredLengthAtMost } from './body-limit.ts'
import { authorisationCallbacks, type CallbackServices } from './callbacks.ts'
import { cors } from './cors.ts'
import type { HttpApp, HttpEnv, RequestHandler } from './env.ts'
import { graphqlRoute } from './graphql.ts'
import type { FastPath } from '../schema/fast-path.ts'
import { health } from './health.ts'
import { errorAnswer, graphqlProblem, methodNotAllowed, notFound, oauthProblem } from './problems.ts'
import { requestScope } from './request-scope.ts'
import { providerNotifications, type NotificationServices } from './webhooks.ts'

export interface HttpAppDeps {
  /** The use cases behind the provider, browser and operator routes. */
  readonly gateway: NotificationServices & CallbackServices & Pick<Gateway, 'storeHealth' | 'webOrigins'>
  /** The GraphQL server (schema/server.ts) served at /graphql. */
  readonly graphql?: GraphQLServer
  /** `graphql`'s fast path (schema/fast-path.ts `fastPathOf(graphql)`); without it yoga answers every request. */
  readonly fastPath?: FastPath | null
  /** `POST /oauth/token`. */
  readonly oauthToken?: RequestHandler
  /** `GET /.well-known/jwks.json`. */
  readonly jwks?: RequestHandler
  /** Routes of the composition root's own, mounted as they are: local mode's controls and pages, never on Lambda. */
  readonly extraRoutes?: HttpApp
}

export interface HttpAppOptions {
  /**
   * Web origins (`https://console.example`) whose pages may call GraphQL with any tenant's credentials, besides each
   * tenant's own registered origins: named exactly, never in credentials mode. Every other origin gets no CORS header.
   * @default [] (tenants' registered origins only)
   */
  readonly corsAllowedOrigins?: readonly string[]
  /**
   * Largest GraphQL request body, in bytes.
   * @default 65_536
   */
  readonly maxGraphQLBodyBytes?: number
  /**
   * Largest provider notification body, in bytes (Worldline and Yapily batch several events in one).
   * @default 262_144
   */
  readonly maxNotificationBytes?: number
  /**
   * Largest token request body, in bytes (a form of a few fields; a token exchange carries one JWT).
   * @default 16_384
   */
  readonly maxTokenRequestBytes?: number
  /**
   * Answer the common GraphQL request through the fast path the host hands in (`HttpAppDeps.fastPath`); off only to
   * compare answers with and without it.
   * @default true
   */
  readonly graphqlFastPath?: boolean
}

type Limits = Required<Omit<HttpAppOptions, 'corsAllowedOrigins' | 'graphqlFastPath'>>

export const HTTP_APP_DEFAULTS: Limits = {
  maxGraphQLBodyBytes: 65_536,
  maxNotificationBytes: 262_144,
  maxTokenRequestBytes: 16_384,
}

/** `/webhooks/<provider>` and anything below it (`*` also matches nothing). */
const NOTIFICATIONS = '/webhooks/:provider{[a-z]+}/*'
/** `/callbacks/<provider>/<signed link>`: the link is base64url and dots, as service/callback-links.ts makes it. */
const CALLBACKS = '/callbacks/:provider{[a-z]+}/:token{[A-Za-z0-9_.-]{1,256}}'

export function createHttpApp(deps: HttpAppDeps, options: HttpAppOptions = {}): HttpApp {
  const limits: Limits = { ...HTTP_APP_DEFAULTS, ...definedOnly(options) }
  const app = new Hono<HttpEnv>()
  app.use(requestScope())
  app.notFound(notFound)
  app.onError(errorAnswer(deps.gateway.logger))

  if (deps.graphql) {
    const max = limits.maxGraphQLBodyBytes
    app.use(
      GRAPHQL_PATH,
      cors({ configured: options.corsAllowedOrigins ?? [], registered: deps.gateway.webOrigins }),
      declaredLengthAtMost(max, {
        lengthRequired: (c) => graphqlProblem(c, 411, 'BAD_REQUEST', 'Content-Length required'),
        tooLarge: (c) => graphqlProblem(c, 413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${max} bytes`),
      }),
    )
    app.all(
      GRAPHQL_PATH,
      graphqlRoute(deps.graphql, { fastPath: options.graphqlFastPath === false ? null : (deps.fastPath ?? null) }),
    )
  }

  const notifications = providerNotifications(deps.gateway, limits.maxNotificationBytes)
  app.post(NOTIFICATIONS, notifications.receive)
  app.all(NOTIFICATIONS, notifications.otherMethod)

  const callbacks = authorisationCallbacks(deps.gateway)
  app.get(CALLBACKS, callbacks.complete)
  app.all(CALLBACKS, callbacks.otherMethod)

  const { oauthToken, jwks } = deps
  if (oauthToken) {
    app.use(
      OAUTH_TOKEN_PATH,
      declaredLengthAtMost(limits.maxTokenRequestBytes, {
        lengthRequired: (c) => oauthProblem(c, 411, 'Content-Length required'),
        tooLarge: (c) => oauthProblem(c, 413, `Request body exceeds ${limits.maxTokenRequestBytes} bytes`),
      }),
    )
    app.post(OAUTH_TOKEN_PATH, (c) => oauthToken(c.req.raw, { clientAddress: c.env?.clientAddress }))
    app.all(OAUTH_TOKEN_PATH, (c) => oauthProblem(c, 405, 'The token endpoint takes POST', { allow: 'POST' }))
  }
  if (jwks) {
    app.get(JWKS_PATH, (c) => jwks(c.req.raw))
    app.all(JWKS_PATH, methodNotAllowed('GET', 'HEAD'))
  }

  app.get(HEALTH_PATH, health(deps.gateway.storeHealth))
  app.all(HEALTH_PATH, methodNotAllowed('GET', 'HEAD'))

  if (deps.extraRoutes) app.route('/', deps.extraRoutes)
  return app
}

/** The options given, without the keys present but undefined (they would hide the defaults). */
function definedOnly(options: HttpAppOptions): Partial<Limits> {
  const limits: { -readonly [Key in keyof Limits]?: number } = {}
  for (const key of Object.keys(HTTP_APP_DEFAULTS) as (keyof Limits)[]) {
    const value = options[key]
    if (value !== undefined) limits[key] = value
  }
  return limits
}
