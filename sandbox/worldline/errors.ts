// Worldline's error bodies: `{ Code, Message, Details? }` on the API (its Open Banking specs' `Error` schema), OAuth's on
// the token endpoint.
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { sendJson } from '../shared/http.ts'

/**
 * The codes this sandbox answers with. Worldline documents numeric codes such as `123` (expired consent); the
 * others are the sandbox's own names [I]: the HTTP status as a string for transport-level refusals, upper snake case
 * for business rules.
 */
export type WorldlineErrorCode =
  | '400'
  | '401'
  | '404'
  | '413'
  | '500'
  /** Data call on a consent the bank has expired (worldline.md 2.4). */
  | '123'
  /** Unauthorized: no or an unknown access token (Open Banking PIS v3.6.0 error table). */
  | '021'
  /** Initiating party access token is expired (Open Banking PIS v3.6.0 error table). */
  | '017'
  /** The Aspsp is unknown (Open Banking PIS v3.6.0 error table). */
  | '104'
  | 'PERMISSIONS_INVALID'
  | 'VALID_UNTIL_INVALID'
  | 'NOTIFICATION_VERSION_FORBIDDEN'
  | 'NOTIFICATION_VERSION_REQUIRED'
  | 'CONSENT_UNKNOWN'
  | 'AUTHORISATION_NOT_ALLOWED'
  | 'CONSENT_INVALID'

/** The `Error` schema of Worldline's Open Banking specs (PIS v3.6.0, shared by AIS): capitalised names. */
export interface WorldlineErrorBody {
  Code: string
  Message: string
  Details?: string
}

/** An API call the sandbox refuses; the API wrapper renders it as the error body with `status`. */
export class WorldlineApiError extends Error {
  override readonly name = 'WorldlineApiError'
  constructor(
    readonly status: number,
    readonly code: WorldlineErrorCode,
    message: string,
    readonly details?: string,
  ) {
    super(message)
  }

  get body(): WorldlineErrorBody {
    return { Code: this.code, Message: this.message, ...(this.details !== undefined && { Details: this.details }) }
  }
}

export const badRequest = (message: string, details?: string) => new WorldlineApiError(400, '400', message, details)
export const unauthorized = (message: string) => new WorldlineApiError(401, '021', message)
/** Worldline answers an expired access token with 403, not 401 (Open Banking PIS v3.6.0 error table). */
export const accessTokenExpired = () => new WorldlineApiError(403, '017', 'Initiating party access token is expired')
export const aspspUnknown = (aspspId: unknown) =>
  new WorldlineApiError(404, '104', `The Aspsp is unknown: ${JSON.stringify(aspspId)}`)
export const consentUnknown = (consentId: string) =>
  new WorldlineApiError(404, 'CONSENT_UNKNOWN', `consent ${consentId} is unknown for this PSU`)
/** The message is Worldline's own (worldline.md 2.4); the 401 is not an authentication failure. */
export const consentExpired = () => new WorldlineApiError(401, '123', 'The PSU consent is expired')

/**
 * Token endpoint refusals, as Worldline's OAuth spec (v1.4.5) writes them: 401 with a numeric code (001 missing
 * mandatory header, 003 invalid signature, 007 Initiating Party not authorised, 101 unknown, 102 inactive). 400 and
 * 415 are the sandbox's own for a wrong grant or media type [I]: the spec lists only 401 and 500.
 */
export type TokenErrorCode = '001' | '003' | '007' | '101' | '102' | '158'

export class TokenError extends Error {
  override readonly name = 'TokenError'
  constructor(
    readonly status: 400 | 401 | 413 | 415,
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export const invalidClient = (code: '001' | '003' | '007' | '101' | '102', message: string) =>
  new TokenError(401, code, message)

/** The OAuth spec's `Error` extends its `MessageBody`: lowercase `code` / `message` plus the message's date and id. */
export function sendTokenError(
  response: ServerResponse,
  now: Date,
  status: number,
  code: string,
  message: string,
): void {
  sendJson(response, status, {
    code,
    message,
    MessageCreateDateTime: now.toISOString(),
    MessageId: randomUUID(),
  })
}
