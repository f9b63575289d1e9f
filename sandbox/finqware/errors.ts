// Finqware's error catalogue (the error codes of its Data API pages) and its error body `{ error_id, request_id, code, message }`.
import { randomUUID } from 'node:crypto'

export type FinqwareErrorCode =
  | 'bad_request'
  | 'validation_error'
  | 'invalid_input'
  | 'method_selection_error'
  | 'method_input_validation_error'
  | 'consent_not_active'
  | 'link_expired'
  | 'unauthorized'
  | 'not_found'
  | 'consent_not_found'
  | 'internal_server_error'

export interface FinqwareErrorBody {
  error_id: string
  request_id: string
  code: string
  message: string
}

/** An API call the sandbox refuses; the API wrapper renders it as the error body with `status`. */
export class FinqwareApiError extends Error {
  override readonly name = 'FinqwareApiError'
  constructor(
    readonly status: number,
    readonly code: FinqwareErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export const badRequest = (message: string) => new FinqwareApiError(400, 'bad_request', message)
export const validationError = (message: string) => new FinqwareApiError(400, 'validation_error', message)
export const methodSelectionError = (message: string) => new FinqwareApiError(400, 'method_selection_error', message)
export const consentNotActive = (message: string) => new FinqwareApiError(400, 'consent_not_active', message)
export const linkExpired = (message: string) => new FinqwareApiError(400, 'link_expired', message)
export const unauthorized = (message: string) => new FinqwareApiError(401, 'unauthorized', message)
export const consentNotFound = (consentId: string) =>
  new FinqwareApiError(404, 'consent_not_found', `consent ${consentId} was not found`)

/** Every error gets a fresh `error_id`; `request_id` is the call's (echoed `x-request-id` or generated). */
export function errorBody(requestId: string, code: string, message: string): FinqwareErrorBody {
  return { error_id: randomUUID(), request_id: requestId, code, message }
}
