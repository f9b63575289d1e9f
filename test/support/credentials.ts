// Every kind of credential a caller can hold, minted the way a real client gets it (the token endpoint, the
// createUserToken mutation), and the broken ones an attacker would try (expired, altered, for another audience,
// unsigned, signed with the public key as an HMAC secret), for tests that run each root field under each of them; and
// the clients of an app, which send end users' tokens with registered documents only.
import { createClient as createHttpClient, type Client as HttpClient } from 'graphql-http'
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse'
import { SignJWT, type JWTPayload } from 'jose'
import { createHash, createPrivateKey } from 'node:crypto'
import { ulid } from 'ulid'
import { TOKEN_EXCHANGE_GRANT, USER_ID_TOKEN_TYPE } from '../../http/oauth.ts'
import { checkTrustedDocument } from '../../schema/trusted-documents.ts'
import { createTenantAdmin } from '../../composition/tenant-admin.ts'
import { AdminConcurrentChangeError } from '../../service/tenant-admin.ts'
import type { PrivateJwk } from '../../crypto/token-keys.ts'
import { execute, type Credentials, type Stack } from './stack.ts'

/** An answer of the token endpoint, with its status and headers. */
export interface TokenAnswer {
  readonly status: number
  readonly headers: Headers
  readonly body: Record<string, any>
}

export const basicHeader = (credentials: Pick<Credentials, 'clientId' | 'clientSecret'>) =>
  `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`

/** POSTs a form to the token endpoint; `authorization` null sends no header. */
export async function tokenRequest(
  stack: Pick<Stack, 'tokenUrl'>,
  form: Record<string, string>,
  authorization: string | null = null,
  url = stack.tokenUrl,
): Promise<TokenAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization === null ? {} : { authorization }),
    },
    body: new URLSearchParams(form).toString(),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} }
}

/** A partner's bearer token by client credentials: client_secret_basic, or client_secret_post. */
export async function partnerToken(
  stack: Pick<Stack, 'tokenUrl'>,
  credentials: Credentials,
  method: 'basic' | 'post' = 'basic',
): Promise<string> {
  const answer =
    method === 'basic'
      ? await tokenRequest(stack, { grant_type: 'client_credentials' }, basicHeader(credentials))
      : await tokenRequest(stack, {
          grant_type: 'client_credentials',
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
        })
  if (answer.status !== 200) throw new Error(`token endpoint answered ${answer.status}: ${JSON.stringify(answer.body)}`)
  return answer.body.access_token as string
}

export interface UserTokenOptions {
  readonly userId: string
  /** @default ['consents:read'] */
  readonly scopes?: readonly ('consents:read' | 'consents:write')[]
  readonly expiresInSeconds?: number
  /** Public consent ids. */
  readonly consentIds?: readonly string[]
  /** Token exchange at the token endpoint, or the createUserToken mutation (with the partner's Basic credentials). */
  readonly via?: 'exchange' | 'mutation'
}

/** An end user's token, minted by the partner (tenant `credentials`) as a partner backend does. */
export async function userToken(stack: Stack, credentials: Credentials, options: UserTokenOptions): Promise<string> {
  const scopes = options.scopes ?? ['consents:read']
  if ((options.via ?? 'exchange') === 'exchange') {
    const answer = await tokenRequest(
      stack,
      {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: options.userId,
        subject_token_type: USER_ID_TOKEN_TYPE,
        scope: scopes.join(' '),
        ...(options.expiresInSeconds === undefined ? {} : { expires_in: String(options.expiresInSeconds) }),
        ...(options.consentIds ? { consent_ids: options.consentIds.join(' ') } : {}),
      },
      basicHeader(credentials),
    )
    if (answer.status !== 200) {
      throw new Error(`token exchange answered ${answer.status}: ${JSON.stringify(answer.body)}`)
    }
    return answer.body.access_token as string
  }
  const result = await execute(stack.client(credentials), CREATE_USER_TOKEN, {
    userId: options.userId,
    scopes: scopes.map((scope) => (scope === 'consents:read' ? 'CONSENTS_READ' : 'CONSENTS_WRITE')),
    expiresInSeconds: options.expiresInSeconds ?? null,
    consentIds: options.consentIds ?? null,
  })
  const minted = result.data?.createUserToken
  if (minted?.__typename !== 'CreateUserTokenPayload') throw new Error(`createUserToken: ${JSON.stringify(result)}`)
  return minted.accessToken as string
}

export const CREATE_USER_TOKEN = `mutation ($userId: String!, $scopes: [UserTokenScope!]!, $expiresInSeconds: Int, $consentIds: [ID!]) {
  createUserToken(userId: $userId, scopes: $scopes, expiresInSeconds: $expiresInSeconds, consentIds: $consentIds) {
    __typename
    ... on CreateUserTokenPayload { accessToken tokenType expiresIn expiresAt scopes userId consentIds }
    ... on ValidationError { code issues { path message } }
  }
}`

export const REVOKE_USER_TOKENS = `mutation ($userId: String!) {
  revokeUserTokens(userId: $userId) { __typename ... on RevokeUserTokensPayload { userId revokedBefore } ... on Error { code } }
}`

/** Revokes every token of a user, as its partner does. */
export async function revokeUserTokens(stack: Stack, credentials: Credentials, userId: string): Promise<void> {
  const result = await execute(stack.client(credentials), REVOKE_USER_TOKENS, { userId })
  if (result.data?.revokeUserTokens?.__typename !== 'RevokeUserTokensPayload') {
    throw new Error(`revokeUserTokens: ${JSON.stringify(result)}`)
  }
}

/** A graphql-http client sending `Authorization: Bearer <token>` (or any header given). */
export const bearerClient = (stack: Pick<Stack, 'graphqlUrl'>, token: string, url = stack.graphqlUrl): HttpClient =>
  createHttpClient({ url, headers: { authorization: `Bearer ${token}` } })

/** A graphql-sse client (distinct connections) sending the bearer token. */
export const bearerSse = (stack: Pick<Stack, 'graphqlUrl'>, token: string): SseClient =>
  createSseClient({
    url: stack.graphqlUrl,
    singleConnection: false,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  })

/** The claims the gateway itself puts in an end user's token, for forging look-alikes. */
export function userClaims(stack: Stack, credentials: Credentials, userId: string): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: stack.gateway.tokens.issuer,
    aud: stack.gateway.tokens.audience,
    sub: userId,
    client_id: credentials.clientId,
    act: { sub: credentials.clientId },
    tenant: credentials.tenantId,
    scope: 'consents:read consents:write',
    iat: now,
    exp: now + 900,
    jti: ulid(),
  }
}

/**
 * A token signed ES256 with one of the gateway's own keys (or `key`), with whatever claims and header: what the
 * gateway would accept but for the claim a test changed (expired, another audience, another issuer, another typ).
 */
export async function signedToken(
  stack: Pick<Stack, 'signingKeys'>,
  claims: JWTPayload,
  header: { typ?: string; kid?: string } = {},
  key: PrivateJwk = stack.signingKeys[0] as PrivateJwk,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: header.typ ?? 'at+jwt', kid: header.kid ?? key.kid })
    .sign(createPrivateKey({ key: { ...key }, format: 'jwk' }))
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** The same token with one character of its signature changed. */
export function tamperedSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.')
  const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`
  return `${header}.${payload}.${flipped}`
}

/** The same signature over claims changed (another user): the signature no longer matches. */
export function tamperedClaims(token: string, change: Record<string, unknown>): string {
  const [header, payload = '', signature] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
  return `${header}.${base64url({ ...claims, ...change })}.${signature}`
}

/** An unsigned token (`alg: none`) with the claims the gateway would sign. */
export const unsignedToken = (claims: JWTPayload, kid: string): string =>
  `${base64url({ alg: 'none', typ: 'at+jwt', kid })}.${base64url(claims)}.`

/**
 * A token "signed" HS256 with the gateway's published public key as the HMAC secret: the classic algorithm
 * confusion attack on verifiers that pick the algorithm from the token.
 */
export async function hmacWithPublicKey(stack: Stack, claims: JWTPayload): Promise<string> {
  const jwks = (await (await fetch(stack.jwksUrl)).json()) as { keys: Record<string, string>[] }
  const published = jwks.keys[0] ?? {}
  const secret = new TextEncoder().encode(JSON.stringify(published))
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: published.kid }).sign(secret)
}

/** Disables (or enables again) an API client in the table, as an operator would. */
export async function setClientDisabled(stack: Stack, clientId: string, disabled: boolean): Promise<void> {
  const record = await stack.gateway.access.getApiClient(clientId)
  if (!record) throw new Error(`no client ${clientId}`)
  await stack.gateway.access.putApiClient({ ...record, disabled })
}

/** Every kind of credential the access matrix runs each root field under. */
export const CREDENTIAL_KINDS = [
  'basic',
  'partnerBearer',
  'userRead',
  'userWrite',
  'expired',
  'tamperedSignature',
  'wrongAudience',
  'revokedUser',
  'disabledClientBasic',
  'disabledClientBearer',
] as const
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number]

/**
 * An `Authorization` header of every kind for tenant `credentials`, the user tokens for `userId`: the partner's
 * Basic and bearer; the user's read-only and read-write tokens; an expired user token and one with an altered
 * signature or another audience; a token of a user whose tokens were revoked since (`revoked-<userId>`); and the
 * Basic credentials and the bearer token (minted before) of a client of the tenant that is now disabled.
 */
export async function everyCredential(
  stack: Stack,
  credentials: Credentials,
  userId: string,
): Promise<Record<CredentialKind, string>> {
  const now = Math.floor(Date.now() / 1000)
  const claims = userClaims(stack, credentials, userId)
  const revokedUser = `revoked-${userId}`
  const revoked = await userToken(stack, credentials, { userId: revokedUser })
  await revokeUserTokens(stack, credentials, revokedUser)
  const disabled = {
    tenantId: credentials.tenantId,
    clientId: `${credentials.clientId}-off`.slice(0, 64),
    clientSecret: `${credentials.clientSecret}-off`,
  }
  const { provisionApiClient } = await import('../../service/tenants.ts')
  await provisionApiClient(stack.gateway.access, { ...disabled, tenantName: 'disabled client' }, new Date())
  // Issued straight by the gateway's AccessTokens rather than at the token endpoint: a secret verified there stays
  // trusted for the credential cache period (60 s), and the disabled client's Basic must fail at once.
  const disabledBearer = await stack.gateway.tokens.issueForClient({
    kind: 'API_CLIENT',
    credential: 'BASIC',
    tenantId: disabled.tenantId,
    clientId: disabled.clientId,
    revalidate: async () => null,
  })
  await setClientDisabled(stack, disabled.clientId, true)
  const bearer = (token: string) => `Bearer ${token}`
  return {
    basic: basicHeader(credentials),
    partnerBearer: bearer(await partnerToken(stack, credentials)),
    userRead: bearer(await userToken(stack, credentials, { userId })),
    userWrite: bearer(await userToken(stack, credentials, { userId, scopes: ['consents:read', 'consents:write'] })),
    expired: bearer(await signedToken(stack, { ...claims, iat: now - 3_600, exp: now - 600 })),
    tamperedSignature: bearer(tamperedSignature(await userToken(stack, credentials, { userId }))),
    wrongAudience: bearer(await signedToken(stack, { ...claims, aud: 'https://another-api.example/graphql' })),
    revokedUser: bearer(revoked),
    disabledClientBasic: basicHeader(disabled),
    disabledClientBearer: bearer(disabledBearer.accessToken),
  }
}

/** `sha256:<hex>` of a document: the id a trusted-documents manifest (and GraphQL over HTTP's documentId) names it by. */
export const documentIdOf = (document: string): string =>
  `sha256:${createHash('sha256').update(document, 'utf8').digest('hex')}`

/**
 * Registers documents for a tenant as `npm run admin -- register-documents` does (the same use case, checked against
 * the schema), each under `sha256:<hex>` unless the manifest is given with ids of its own.
 */
export async function registerDocuments(
  stack: Pick<Stack, 'table'>,
  tenantId: string,
  documents: readonly string[] | Record<string, string>,
): Promise<void> {
  const manifest = Array.isArray(documents)
    ? Object.fromEntries(documents.map((document) => [documentIdOf(document), document]))
    : documents
  const admin = createTenantAdmin(stack.table.db, stack.table.tableName, { checkDocument: checkTrustedDocument })
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.registerDocuments({ tenantId, manifest: JSON.stringify(manifest) }, 'test-suite')
      return
    } catch (error) {
      // Two tests registering the same document at once: the second's write fails, and the next try finds it.
      if (!(error instanceof AdminConcurrentChangeError) || attempt > 3) throw error
    }
  }
}

/** Documents registered already (table, tenant, id), so each is registered once. */
const REGISTERED = new Set<string>()

/** The tenant an access token was minted for (its `tenant` claim), read without verifying it. */
const tenantOfToken = (token: string): string => {
  const payload = token.split('.')[1] ?? ''
  return String((JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { tenant?: unknown }).tenant)
}

/**
 * A fetch that sends what a client hands it as an app built with trusted documents does: the operation by its
 * `documentId`, never its text, the document registered for the token's tenant first (what the partner's build does
 * with the manifest).
 */
function trustedFetch(stack: Pick<Stack, 'table'>, token: string): typeof fetch {
  const tenantId = tenantOfToken(token)
  return async (input, init) => {
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : null
    if (!body || typeof body.query !== 'string') return fetch(input, init)
    const { query, ...rest } = body
    const registered = `${stack.table.tableName}#${tenantId}#${documentIdOf(query)}`
    if (!REGISTERED.has(registered)) {
      await registerDocuments(stack, tenantId, [query])
      REGISTERED.add(registered)
    }
    return fetch(input, { ...init, body: JSON.stringify({ ...rest, documentId: documentIdOf(query) }) })
  }
}

/** An app's graphql-http client with an end user's token: every operation sent by its registered documentId. */
export const appClient = (stack: Pick<Stack, 'graphqlUrl' | 'table'>, token: string, url = stack.graphqlUrl) =>
  createHttpClient({ url, headers: { authorization: `Bearer ${token}` }, fetchFn: trustedFetch(stack, token) })

/** An app's graphql-sse client (distinct connections) with an end user's token, by registered documentId. */
export const appSse = (stack: Pick<Stack, 'graphqlUrl' | 'table'>, token: string): SseClient =>
  createSseClient({
    url: stack.graphqlUrl,
    singleConnection: false,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    fetchFn: trustedFetch(stack, token),
  })
