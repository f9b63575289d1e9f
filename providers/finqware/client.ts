// Finqware's consent API over HTTP: every call is a POST with client credentials in the JSON body (finqware.md 1.1);
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
  providersSchema,
  revokeResponseSchema,
} from './mapping.ts'

export interface FinqwareCreateBody {
  readonly providerId: string
  readonly scope: readonly string[]
  readonly validityDays: number
  readonly expiresInSeconds: number
  readonly webhookUrl: string
  readonly redirectUrl: string
}

export class FinqwareClient {
  readonly #http: ProviderHttpClient
  readonly #base: string

  constructor(private readonly config: FinqwareConfig) {
    this.#http = new ProviderHttpClient('FINQWARE', config.http)
    this.#base = `${config.baseUrl.replace(/\/$/, '')}${config.pathPrefix ?? '/v2'}`
  }

  async #post<S extends z.ZodMiniType>(
    path: string,
    body: Record<string, unknown>,
    schema: S,
    operation: string,
    idempotent: boolean,
    context: ProviderCallContext,
  ): Promise<{ body: z.infer<S>; providerNow: Date }> {
    const response = await this.#http.send(
      {
        method: 'POST',
        url: `${this.#base}${path}`,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ client_id: this.config.clientId, client_secret: this.config.clientSecret, ...body }),
        idempotent,
        operation,
      },
      context,
    )
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

  /** Idempotent at Finqware: a repeat revoke answers 200 (finqware.md 1.2). */
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
  const parsed = errorBodySchema.safeParse(parseJson(response.text))
  const code = parsed.success ? parsed.data.code : `http_${response.status}`
  const message = (parsed.success ? parsed.data.message : null) ?? 'no error body'
  const institutionId = (request.ais_method as { provider_id?: unknown } | undefined)?.provider_id
  if (code === 'method_selection_error' && typeof institutionId === 'string') {
    // No AIS method matched our provider filter: the institution is not available to this client.
    return new InstitutionNotFoundError('FINQWARE', institutionId)
  }
  return providerRefusal('FINQWARE', { status: response.status, code, message, operation }, context)
}
