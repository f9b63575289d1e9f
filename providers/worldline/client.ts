// Worldline's XS2A routing service over HTTP: an OAuth2 client-credentials token (form-encoded request signed with our
// key; cached until it expires), `X-Request-ID` and `MessageCreateDateTime` on every AIS call, and error bodies as
// typed errors. Worldline answers an expired access token with 403 code 017 (the error table of its Open Banking
// specs); a 401 whose body carries code 123 is the consent's expiry, not our token's: it is never answered by renewing
// the token.
import { randomUUID } from 'node:crypto'
import { InstitutionNotFoundError, ProviderUnavailableError } from '../../domain/errors.ts'
import type * as z from '../../domain/zod.ts'
import type { ProviderCallContext } from '../adapter.ts'
import { ProviderHttpClient, providerRefusal, type ProviderResponse } from '../http-client.ts'
import type { WorldlineConfig } from './config.ts'
import {
  authorisationSchema,
  createResponseSchema,
  directorySchema,
  errorSchema,
  statusSchema,
  tokenSchema,
} from './mapping.ts'
import { signatureAuthorization } from './token-signature.ts'

const SERVICES = '/xs2a/routingservice/services'
const AIS = `${SERVICES}/ob/ais/v3`
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Worldline's code for "The PSU consent is expired" (401). */
export const CONSENT_EXPIRED_CODE = '123'
/** Worldline's code for "Initiating party access token is expired" (403). */
export const ACCESS_TOKEN_EXPIRED_CODE = '017'
/** Worldline's code for "The Aspsp is unknown" (404). */
export const ASPSP_UNKNOWN_CODE = '104'

export type AccountsProbe = 'usable' | 'expired' | 'unusable'

export interface CreateConsentCall {
  readonly psuId: string
  readonly aspspId: string
  readonly permissions: readonly string[]
  readonly validUntilDate: string
  readonly returnUrl: string
  /** Form A (docs/providers.md, Worldline evidence: Consents): a URL ending in /v3; Worldline appends /notification/status. */
  readonly notificationUrl: string
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const errorCodeOf = (response: ProviderResponse): string | null => {
  const parsed = errorSchema.safeParse(parseJson(response.text))
  return parsed.success ? parsed.data.code : null
}

/** Whether Worldline refused our access token (rather than the call): only then is a new token worth asking for. */
function tokenRefused(response: ProviderResponse): boolean {
  if (response.status === 403) return errorCodeOf(response) === ACCESS_TOKEN_EXPIRED_CODE
  return response.status === 401 && errorCodeOf(response) !== CONSENT_EXPIRED_CODE
}

/** How far our idea of Worldline's clock may have been off before a refused token request is signed again. */
const TOKEN_DATE_TOLERANCE_MS = 60_000

export class WorldlineClient {
  readonly #http: ProviderHttpClient
  readonly #base: string
  #token: { readonly value: string; readonly renewAt: number } | null = null
  #tokenRequest: Promise<string> | null = null
  /**
   * Worldline's time as best known: it checks the signed `Date` of token requests against its clock, and a
   * `ValidUntilDate` is a date on its calendar.
   */
  providerNow(): Date {
    return this.#http.providerNow()
  }

  constructor(private readonly config: WorldlineConfig) {
    this.#http = new ProviderHttpClient('WORLDLINE', config.http)
    this.#base = config.baseUrl.replace(/\/$/, '')
  }

  /** A valid access token: the cached one, or one fetched once for all concurrent callers. */
  #accessToken(context: ProviderCallContext): Promise<string> {
    if (this.#token && this.#token.renewAt > Date.now()) return Promise.resolve(this.#token.value)
    this.#tokenRequest ??= this.#requestToken(context).finally(() => (this.#tokenRequest = null))
    return this.#tokenRequest
  }

  /**
   * Worldline refuses a token request dated more than a few minutes from its clock. Its answer's Date header teaches
   * us that clock, so a request refused while our idea of it was off (no answer yet from a clock that moved: a
   * sandbox restarted with its clock advanced) is signed once more with the time just learnt.
   */
  async #requestToken(context: ProviderCallContext): Promise<string> {
    const assumed = this.providerNow().getTime()
    const response = await this.#signedTokenRequest(context)
    const learntMs = Math.abs(this.providerNow().getTime() - assumed)
    const retry = response.status !== 200 && learntMs > TOKEN_DATE_TOLERANCE_MS
    return this.#acceptToken(retry ? await this.#signedTokenRequest(context) : response, context)
  }

  #signedTokenRequest(context: ProviderCallContext): Promise<ProviderResponse> {
    const signed = {
      app: 'AIS',
      client: this.config.clientId,
      // The Initiating Party id and sub id (OAuth spec v1.4.5: "IP=433, subId=5 -> 433:5"), never a random value.
      id: this.config.initiatingPartySubId
        ? `${this.config.initiatingPartyId}:${this.config.initiatingPartySubId}`
        : this.config.initiatingPartyId,
      // The token operation of the OAuth spec v1.4.5 asks for ISO 8601 ("2020-09-25T08:15:00.856Z"); its signature
      // example shows another form, so docs/providers.md (Worldline) records the choice.
      date: this.providerNow().toISOString(),
    }
    return this.#http.send(
      {
        method: 'POST',
        url: `${this.#base}${SERVICES}/authorize/token`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          App: signed.app,
          Client: signed.client,
          Id: signed.id,
          Date: signed.date,
          authorization: signatureAuthorization(signed, this.config.keyId, this.config.privateKeyPem),
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        // Asking twice only mints two tokens.
        idempotent: true,
        operation: 'token',
      },
      context,
    )
  }

  #acceptToken(response: ProviderResponse, context: ProviderCallContext): string {
    if (response.status !== 200) {
      // Worldline's OAuth spec (v1.4.5): 401 with code 001/003/007/101/102 in its `Error` body, not OAuth's `error`.
      const body = errorSchema.safeParse(parseJson(response.text))
      throw providerRefusal(
        'WORLDLINE',
        {
          status: response.status,
          code: body.success ? body.data.code : `http_${response.status}`,
          message: (body.success ? body.data.message : null) ?? 'token request refused',
          operation: 'token',
        },
        context,
      )
    }
    const token = tokenSchema.safeParse(parseJson(response.text))
    if (!token.success)
      throw new ProviderUnavailableError('WORLDLINE', 'Worldline answered the token request with an unexpected body')
    const lifetimeMs = (token.data.expires_in ?? 3_600) * 1000
    const marginMs = Math.min((this.config.tokenRenewalMarginSeconds ?? 60) * 1000, lifetimeMs / 2)
    this.#token = { value: token.data.access_token, renewAt: Date.now() + lifetimeMs - marginMs }
    return this.#token.value
  }

  /**
   * One AIS call. A 403 with code 017 (the access token expired at Worldline before our cache thought) or a 401 renews
   * the token and retries once, unless the 401's body says code 123 (the consent expired): that response is returned
   * as it is for the caller to read as evidence.
   */
  async #send(
    request: { method: 'GET' | 'POST' | 'DELETE'; path: string; body?: unknown; headers?: Record<string, string> },
    operation: string,
    idempotent: boolean,
    context: ProviderCallContext,
  ): Promise<ProviderResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#accessToken(context)
      const response = await this.#http.send(
        {
          method: request.method,
          url: `${this.#base}${request.path}`,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            // Worldline wants a UUID; our request id is one unless a client chose its own.
            'x-request-id': UUID.test(context.requestId) ? context.requestId : randomUUID(),
            MessageCreateDateTime: new Date().toISOString(),
            ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...request.headers,
          },
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          idempotent,
          operation,
        },
        context,
      )
      if (!tokenRefused(response)) return response
      this.#token = null
      if (attempt >= 1) return response
    }
  }

  async #json<S extends z.ZodMiniType>(response: ProviderResponse, schema: S, operation: string): Promise<z.infer<S>> {
    const parsed = schema.safeParse(parseJson(response.text))
    if (!parsed.success) {
      throw new ProviderUnavailableError('WORLDLINE', `Worldline answered ${operation} with an unexpected body`, {
        cause: parsed.error,
      })
    }
    return parsed.data
  }

  /** Not idempotent: retried only when Worldline cannot have received it. */
  async createConsent(call: CreateConsentCall, context: ProviderCallContext) {
    const response = await this.#send(
      {
        method: 'POST',
        path: `${AIS}/psus/${encodeURIComponent(call.psuId)}/consents`,
        body: {
          AspspId: call.aspspId,
          Permissions: call.permissions,
          ValidUntilDate: call.validUntilDate,
          RecurringIndicator: true,
        },
        headers: {
          InitiatingPartyNotificationUrl: call.notificationUrl,
          InitiatingPartyReturnUrl: call.returnUrl,
        },
      },
      'consents.create',
      false,
      context,
    )
    if (response.status !== 201 && response.status !== 200)
      throw toError(response, 'consents.create', context, { aspspId: call.aspspId })
    return this.#json(response, createResponseSchema, 'consents.create')
  }

  async getStatus(psuId: string, consentId: string, context: ProviderCallContext) {
    const response = await this.#send(
      {
        method: 'GET',
        path: `${AIS}/psus/${encodeURIComponent(psuId)}/consents/${encodeURIComponent(consentId)}/status`,
      },
      'consents.status',
      true,
      context,
    )
    if (response.status !== 200) throw toError(response, 'consents.status', context)
    return this.#json(response, statusSchema, 'consents.status')
  }

  /**
   * Starts the next account holder's authorisation (multi-level SCA). The sandbox answers a repeat while one is
   * pending with that same authorisation, so calling it on every read is safe there; at Worldline this is [I].
   */
  async startAuthorisation(psuId: string, consentId: string, context: ProviderCallContext) {
    const response = await this.#send(
      {
        method: 'POST',
        path: `${AIS}/psus/${encodeURIComponent(psuId)}/consents/${encodeURIComponent(consentId)}/authorisations`,
        body: {},
      },
      'consents.authorisations.start',
      false,
      context,
    )
    if (response.status !== 201 && response.status !== 200)
      throw toError(response, 'consents.authorisations.start', context)
    return this.#json(response, authorisationSchema, 'consents.authorisations.start')
  }

  /** DELETE is idempotent at Worldline: a second one changes nothing. */
  async deleteConsent(psuId: string, consentId: string, context: ProviderCallContext): Promise<void> {
    const response = await this.#send(
      { method: 'DELETE', path: `${AIS}/psus/${encodeURIComponent(psuId)}/consents/${encodeURIComponent(consentId)}` },
      'consents.delete',
      true,
      context,
    )
    if (response.status < 200 || response.status >= 300) throw toError(response, 'consents.delete', context)
  }

  /**
   * A data call as evidence: Worldline keeps saying `Authorised` once it stops polling the bank (a few days after
   * initiation), but the accounts call answers 401 with code 123 once the bank has expired the consent.
   */
  async probeAccounts(psuId: string, aspspId: string, context: ProviderCallContext): Promise<AccountsProbe> {
    const response = await this.#send(
      {
        method: 'GET',
        path: `${AIS}/psus/${encodeURIComponent(psuId)}/aspsps/${encodeURIComponent(aspspId)}/accounts`,
      },
      'accounts.list',
      true,
      context,
    )
    if (response.status === 200) return 'usable'
    if (response.status === 401 && errorCodeOf(response) === CONSENT_EXPIRED_CODE) return 'expired'
    return 'unusable'
  }

  async listAspsps(context: ProviderCallContext) {
    const response = await this.#send(
      { method: 'GET', path: `${SERVICES}/directory/v3/aspsps?allDetails=true`, headers: { Service: 'AIS' } },
      'directory.aspsps',
      true,
      context,
    )
    if (response.status !== 200) throw toError(response, 'directory.aspsps', context)
    return this.#json(response, directorySchema, 'directory.aspsps')
  }
}

/** Worldline error body -> typed error. */
function toError(
  response: ProviderResponse,
  operation: string,
  context: ProviderCallContext,
  request: { aspspId?: string } = {},
): Error {
  const parsed = errorSchema.safeParse(parseJson(response.text))
  const code = parsed.success ? parsed.data.code : `http_${response.status}`
  const message = (parsed.success ? parsed.data.message : null) ?? 'no error body'
  if (response.status === 404 && code === ASPSP_UNKNOWN_CODE && request.aspspId)
    return new InstitutionNotFoundError('WORLDLINE', request.aspspId)
  return providerRefusal('WORLDLINE', { status: response.status, code, message, operation }, context)
}
