// Finqware's consent API over HTTP: every call is a POST with a JSON body carrying `client_id`, authenticated by an
// OAuth2 Bearer token (production) or by `client_secret` in the body (the internal mode Finqware calls test-only);
// error bodies become typed errors (the provider's code kept in `providerCode`, e.g. `consent_not_active`).
import { InstitutionNotFoundError, ProviderUnavailableError } from '../../domain/errors.ts'
import type * as z from '../../domain/zod.ts'
import type { ProviderCallContext } from '../adapter.ts'
import { ProviderHttpClient, providerRefusal, type ProviderResponse } from '../http-client.ts'
import type { FinqwareConfig } from './config.ts'
import {
  consentSchema,
  createResponseSchema,
  errorBodySchema,
  oauthErrorSchema,
  providersSchema,
  revokeResponseSchema,
  tokenSchema,
} from './mapping.ts'

export interface FinqwareCreateBody {
  readonly providerId: string
  readonly scope: readonly string[]
  readonly validityDays: number
  readonly expiresInSeconds: number
  readonly webhookUrl: string
  readonly redirectUrl: string
}

/** Token lifetime assumed when the token answer has no `expires_in` (renewal on 401 covers a shorter one). */
const DEFAULT_TOKEN_LIFETIME_SECONDS = 300

export class FinqwareClient {
  readonly #http: ProviderHttpClient
  readonly #base: string
  readonly #tokenUrl: string
  #token: { readonly value: string; readonly renewAt: number } | null = null
  #tokenRequest: Promise<string> | null = null

  constructor(private readonly config: FinqwareConfig) {
    this.#http = new ProviderHttpClient('FINQWARE', config.http)
    const host = config.baseUrl.replace(/\/$/, '')
    this.#base = `${host}${config.pathPrefix ?? '/v2'}`
    this.#tokenUrl = config.tokenUrl ?? `${host}/oauth2/token`
  }

  get #bearer(): boolean {
    return (this.config.authMode ?? 'oauth2') === 'oauth2'
  }

  /** A valid access token: the cached one, or one fetched once for all concurrent callers. */
  #accessToken(context: ProviderCallContext): Promise<string> {
    if (this.#token && this.#token.renewAt > Date.now()) return Promise.resolve(this.#token.value)
    this.#tokenRequest ??= this.#requestToken(context).finally(() => (this.#tokenRequest = null))
    return this.#tokenRequest
  }

  async #requestToken(context: ProviderCallContext): Promise<string> {
    // RFC 6749 §2.3.1: id and secret form-urlencoded, then joined for HTTP Basic.
    const basic = Buffer.from(
      `${encodeURIComponent(this.config.clientId)}:${encodeURIComponent(this.config.clientSecret)}`,
    ).toString('base64')
    const response = await this.#http.send(
      {
        method: 'POST',
        url: this.#tokenUrl,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${basic}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        // Asking twice only mints two tokens.
        idempotent: true,
        operation: 'token',
      },
      context,
    )
    if (response.status !== 200) throw toError(response, {}, 'token', context)
    const token = tokenSchema.safeParse(parseJson(response.text))
    if (!token.success) {
      throw new ProviderUnavailableError('FINQWARE', 'Finqware answered the token request with an unexpected body', {
        cause: token.error,
      })
    }
    const lifetimeMs = (token.data.expires_in ?? DEFAULT_TOKEN_LIFETIME_SECONDS) * 1000
    const marginMs = Math.min((this.config.tokenRenewalMarginSeconds ?? 60) * 1000, lifetimeMs / 2)
    this.#token = { value: token.data.access_token, renewAt: Date.now() + lifetimeMs - marginMs }
    return this.#token.value
  }

  /**
   * Sends one call. In bearer mode a 401 drops the token, fetches a new one and sends the call once more: our cache
   * cannot know a token Finqware expired or revoked early. Safe for create too, since a 401 created nothing.
   */
  async #send(
    path: string,
    body: Record<string, unknown>,
    operation: string,
    idempotent: boolean,
    context: ProviderCallContext,
  ): Promise<ProviderResponse> {
    for (let attempt = 0; ; attempt++) {
      // Bearer mode: the token in the header, no secret in the body; internal mode: the secret in the body.
      const token = this.#bearer ? await this.#accessToken(context) : null
      const response = await this.#http.send(
        {
          method: 'POST',
          url: `${this.#base}${path}`,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(token !== null && { authorization: `Bearer ${token}` }),
          },
          body: JSON.stringify({
            client_id: this.config.clientId,
            ...(token === null && { client_secret: this.config.clientSecret }),
            ...body,
          }),
          idempotent,
          operation,
        },
        context,
      )
      if (token === null || response.status !== 401 || attempt >= 1) return response
      // Only the token that was refused: a concurrent caller may already have replaced it with a good one.
      if (this.#token?.value === token) this.#token = null
    }
  }

  async #post<S extends z.ZodMiniType>(
    path: string,
    body: Record<string, unknown>,
    schema: S,
    operation: string,
    idempotent: boolean,
    context: ProviderCallContext,
  ): Promise<{ body: z.infer<S>; providerNow: Date }> {
    const response = await this.#send(path, body, operation, idempotent, context)
    if (response.status < 200 || response.status >= 300) throw toError(response, body, operation, context)
    const parsed = schema.safeParse(parseJson(response.text))
    if (!parsed.success) {
      throw new ProviderUnavailableError('FINQWARE', `Finqware answered ${operation} with an unexpected body`, {
        cause: parsed.error,
      })
    }
    const date = Date.parse(response.headers.get('date') ?? '')
    return { body: parsed.data, providerNow: Number.isNaN(date) ? new Date() : new Date(date) }
  }

  /** Not idempotent at Finqware: retried only when the request cannot have arrived. */
  createConsent(input: FinqwareCreateBody, context: ProviderCallContext) {
    return this.#post(
      '/ais/consents/create',
      {
        ais_method: { provider_id: input.providerId },
        consent: { scope: input.scope, consent_validity_days: input.validityDays },
        options: {
          type: 'link',
          expires_in: input.expiresInSeconds,
          webhook_url: input.webhookUrl,
          redirect_url: input.redirectUrl,
        },
      },
      createResponseSchema,
      'consents.create',
      false,
      context,
    )
  }

  getConsent(consentId: string, context: ProviderCallContext) {
    return this.#post('/ais/consents/get', { consent_id: consentId }, consentSchema, 'consents.get', true, context)
  }

  /** Idempotent at Finqware: a repeat revoke answers 200 (its Revoke Consent page). */
  revokeConsent(consentId: string, context: ProviderCallContext) {
    return this.#post(
      '/ais/consents/revoke',
      { consent_id: consentId },
      revokeResponseSchema,
      'consents.revoke',
      true,
      context,
    )
  }

  listProviders(context: ProviderCallContext) {
    return this.#post('/providers/list', {}, providersSchema, 'providers.list', true, context)
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Finqware error body -> typed error; `request` is what we sent, to name what the provider refused. */
function toError(
  response: ProviderResponse,
  request: Record<string, unknown>,
  operation: string,
  context: ProviderCallContext,
): Error {
  const json = parseJson(response.text)
  const parsed = errorBodySchema.safeParse(json)
  // The token endpoint may answer as OAuth2 does (`error`, `error_description`, RFC 6749 §5.2) rather than with
  // Finqware's own body: which one is not published.
  const oauth = parsed.success ? null : oauthErrorSchema.safeParse(json)
  const code = parsed.success ? parsed.data.code : oauth?.success ? oauth.data.error : `http_${response.status}`
  const message =
    (parsed.success ? parsed.data.message : oauth?.success ? oauth.data.error_description : null) ?? 'no error body'
  const institutionId = (request.ais_method as { provider_id?: unknown } | undefined)?.provider_id
  if (code === 'method_selection_error' && typeof institutionId === 'string') {
    // No AIS method matched our provider filter: the institution is not available to this client.
    return new InstitutionNotFoundError('FINQWARE', institutionId)
  }
  return providerRefusal('FINQWARE', { status: response.status, code, message, operation }, context)
}
