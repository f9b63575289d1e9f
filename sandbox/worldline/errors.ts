// Worldline's error bodies: `{ Code, Message, Details? }` on the API (its Open Banking specs' `Error` schema), OAuth's on
// the token endpoint.
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { sendJson } from '../shared/http.ts'

/**
 * The codes this sandbox answers with: only codes of the error table in Worldline's Open Banking specs (Open Banking
 * Payment Initiation Service v3.6.0, whose headers, token and error model the AIS service shares), each with the HTTP
 * status the table gives it. Where the table has no code for a refusal, the nearest one is chosen; docs/providers.md
 * (Worldline, "Errors") says which and why.
 */
export type WorldlineErrorCode =
  /** 400 Bad client request. */
  | '001'
  /** 400 The message does not comply the schema definition. */
  | '002'
  /** 400 The PSU consent is not valid. */
  | '122'
  /** 400 A conditional field is missing. */
  | '133'
  /** 401 The PSU consent is expired. */
  | '123'
  /** 401 Unauthorized: no or an unknown access token. */
  | '021'
  /** 403 Initiating party access token is expired. */
  | '017'
  /** 404 The Aspsp is unknown. */
  | '104'
  /** 404 Resource could not be found. */
  | '110'
  /** 500 An internal error occurred. */
  | '004'

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

/** 400 001: a request Worldline would refuse that breaks no schema (a rule, a combination, a date in the past). */
export const badRequest = (message: string, details?: string) => new WorldlineApiError(400, '001', message, details)
/** 400 002: a header or body that is not what the message's schema says (missing, malformed, of the wrong type). */
export const schemaViolation = (message: string, details?: string) =>
  new WorldlineApiError(400, '002', message, details)
/** 400 133: a field required only in combination with another is missing. */
export const conditionalFieldMissing = (message: string) => new WorldlineApiError(400, '133', message)
export const unauthorized = (message: string) => new WorldlineApiError(401, '021', message)
/** Worldline answers an expired access token with 403, not 401 (Open Banking PIS v3.6.0 error table). */
export const accessTokenExpired = () => new WorldlineApiError(403, '017', 'Initiating party access token is expired')
export const aspspUnknown = (aspspId: unknown) =>
  new WorldlineApiError(404, '104', `The Aspsp is unknown: ${JSON.stringify(aspspId)}`)
/**
 * 404 110 "Resource could not be found": the consent in the path. The table's 136 "Consent could not be found" is
 * listed under 400, for a consent named in a body; which one Worldline answers for a path is our guess.
 */
export const consentUnknown = (consentId: string) =>
  new WorldlineApiError(404, '110', `consent ${consentId} is unknown for this PSU`)
/** 400 122 "The PSU consent is not valid": a data call with no usable consent. */
export const consentNotValid = (aspspId: string) =>
  new WorldlineApiError(400, '122', `The PSU consent is not valid: none usable at ASPSP ${aspspId}`)
/** 404 110 for a path no route serves. */
export const noRoute = (route: string) => new WorldlineApiError(404, '110', `Resource could not be found: ${route}`)
/** 500 004 "An internal error occurred". */
export const internalError = () => new WorldlineApiError(500, '004', 'An internal error occurred')
/** 401 123 with the table's message: the 401 is the consent's expiry, not an authentication failure. */
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
