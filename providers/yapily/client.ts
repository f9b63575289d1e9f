// Yapily's API over HTTP: HTTP Basic with the application key and secret, the `{meta, data}` envelope, both error
// envelopes as typed errors, and the `consent` header carrying a consent's token. The token is a secret: it is put
// in that header and nowhere else, and never logged (the HTTP client logs operations, not headers or bodies).
import {
  InstitutionNotFoundError,
  ProviderRejectedError,
  ProviderUnavailableError,
  UnsupportedByProviderError,
} from '../../domain/errors.ts'
import * as z from '../../domain/zod.ts'
import type { ProviderCallContext } from '../adapter.ts'
import { ProviderHttpClient, providerRefusal, type ProviderResponse } from '../http-client.ts'
import type { YapilyConfig } from './config.ts'
import { consentSchema, deleteSchema, errorSchema, institutionsSchema } from './mapping.ts'

export interface CreateAuthorisationCall {
  readonly applicationUserId: string
  readonly institutionId: string
  readonly callback: string
  readonly featureScope: readonly string[]
  readonly expiresAt: string | null
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export class YapilyClient {
  readonly #http: ProviderHttpClient
  readonly #base: string
  readonly #authorization: string

  constructor(config: YapilyConfig) {
    this.#http = new ProviderHttpClient('YAPILY', config.http)
    this.#base = config.baseUrl.replace(/\/$/, '')
    this.#authorization = `Basic ${Buffer.from(`${config.applicationKey}:${config.applicationSecret}`).toString('base64')}`
  }

  async #call<S extends z.ZodMiniType>(
    request: {
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
      path: string
      body?: unknown
      consentToken?: string | null
      expect: readonly number[]
      idempotent: boolean
      operation: string
    },
    schema: S,
    context: ProviderCallContext,
  ): Promise<z.infer<S>> {
    const response = await this.#http.send(
      {
        method: request.method,
        url: `${this.#base}${request.path}`,
        headers: {
          authorization: this.#authorization,
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(request.consentToken ? { consent: request.consentToken } : {}),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        idempotent: request.idempotent,
        operation: request.operation,
      },
      context,
    )
    if (!request.expect.includes(response.status)) throw toError(response, request.operation, context)
    // Most answers wrap the payload in {meta, data}; a few (token exchanges) do not (Yapily API 12.13.0).
    const json = parseJson(response.text) as { data?: unknown } | undefined
    const parsed = schema.safeParse(json && typeof json === 'object' && 'data' in json ? json.data : json)
    if (!parsed.success) {
      throw new ProviderUnavailableError('YAPILY', `Yapily answered ${request.operation} with an unexpected body`, {
        cause: parsed.error,
      })
    }
    return parsed.data
  }

  /** Yapily's time as best known, from the `Date` of its answers. */
  providerNow(): Date {
    return this.#http.providerNow()
  }

  listInstitutions(context: ProviderCallContext) {
    return this.#call(
      { method: 'GET', path: '/institutions', expect: [200], idempotent: true, operation: 'institutions.list' },
      institutionsSchema,
      context,
    )
  }

  /** Not idempotent: retried only when Yapily cannot have received it. A 404 is the institution we named. */
  async createAuthorisation(call: CreateAuthorisationCall, context: ProviderCallContext) {
    try {
      return await this.#create(call, context)
    } catch (error) {
      if (error instanceof ProviderRejectedError && error.providerHttpStatus === 404) {
        throw new InstitutionNotFoundError('YAPILY', call.institutionId)
      }
      throw error
    }
  }

  #create(call: CreateAuthorisationCall, context: ProviderCallContext) {
    return this.#call(
      {
        method: 'POST',
        path: '/account-auth-requests',
        body: {
          applicationUserId: call.applicationUserId,
          institutionId: call.institutionId,
          callback: call.callback,
          accountRequest: { featureScope: call.featureScope, ...(call.expiresAt ? { expiresAt: call.expiresAt } : {}) },
        },
        expect: [201, 200],
        idempotent: false,
        operation: 'account-auth-requests.create',
      },
      consentSchema,
      context,
    )
  }

  getConsent(consentId: string, context: ProviderCallContext) {
    return this.#call(
      {
        method: 'GET',
        path: `/consents/${encodeURIComponent(consentId)}`,
        expect: [200],
        idempotent: true,
        operation: 'consents.get',
      },
      consentSchema,
      context,
    )
  }

  /** This user's consents at this institution, with their tokens (`GET /consents`, filtered). */
  listConsents(applicationUserId: string, institutionId: string, context: ProviderCallContext) {
    const query = new URLSearchParams({
      'filter[applicationUserId]': applicationUserId,
      'filter[institution]': institutionId,
    })
    return this.#call(
      {
        method: 'GET',
        path: `/consents?${query.toString()}`,
        expect: [200],
        idempotent: true,
        operation: 'consents.list',
      },
      z.array(consentSchema),
      context,
    )
  }

  /** Re-authorisation: same id and token, a new authorisation URL (Yapily API 12.13.0). */
  reauthorise(consentToken: string, context: ProviderCallContext) {
    return this.#call(
      {
        method: 'PATCH',
        path: '/account-auth-requests',
        consentToken,
        expect: [201, 200],
        idempotent: false,
        operation: 'account-auth-requests.reauthorise',
      },
      consentSchema,
      context,
    )
  }

  /** UK reconfirmation; Yapily refuses a future or non-increasing `lastConfirmedAt` (new error envelope). */
  extend(consentId: string, lastConfirmedAt: string, context: ProviderCallContext) {
    return this.#call(
      {
        method: 'POST',
        path: `/consents/${encodeURIComponent(consentId)}/extend`,
        body: { lastConfirmedAt },
        expect: [200],
        // Extending to the same time twice is refused (not later than the last): safe to retry only as a no-op.
        idempotent: false,
        operation: 'consents.extend',
      },
      consentSchema,
      context,
    )
  }

  /** `forceDelete=true` (Yapily's default): gone at Yapily even when the bank cannot be told. */
  deleteConsent(consentId: string, context: ProviderCallContext) {
    return this.#call(
      {
        method: 'DELETE',
        path: `/consents/${encodeURIComponent(consentId)}?forceDelete=true`,
        expect: [200],
        idempotent: true,
        operation: 'consents.delete',
      },
      deleteSchema,
      context,
    )
  }

  /**
   * A data call as evidence: Yapily may keep saying AUTHORIZED after the user revoked access at the bank, while data
   * calls answer 403 (Yapily, "Financial data consents").
   */
  async probeAccounts(consentToken: string, context: ProviderCallContext): Promise<'usable' | 'forbidden' | 'other'> {
    const response = await this.#http.send(
      {
        method: 'GET',
        url: `${this.#base}/accounts`,
        headers: { authorization: this.#authorization, accept: 'application/json', consent: consentToken },
        idempotent: true,
        operation: 'accounts.list',
      },
      context,
    )
    if (response.status === 200) return 'usable'
    return response.status === 403 ? 'forbidden' : 'other'
  }
}

/** Either error envelope -> a typed error, keeping Yapily's status or issue code. */
function toError(response: ProviderResponse, operation: string, context: ProviderCallContext): Error {
  const parsed = errorSchema.safeParse(parseJson(response.text))
  const error = parsed.success ? parsed.data.error : null
  const issue = error?.issues?.[0]
  const code = String(issue?.code ?? error?.status ?? `http_${response.status}`)
  const message = issue?.message ?? error?.message ?? 'no error body'
  if (response.status === 424) return new UnsupportedByProviderError('YAPILY', `${operation} at this institution`)
  return providerRefusal('YAPILY', { status: response.status, code, message, operation }, context)
}
