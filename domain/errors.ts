// The error catalogue: stable codes in numbered ranges, each with an HTTP status, whether a retry can help, and a
// docs anchor (docs/errors.md#<code in lower case>). Errors carry what the caller needs to recover; consent ids
// inside them are internal ids, messages show the public `consent_...` id.
import { encodePublicId } from './ids.ts'
import type { DataScope, Provider } from './provider.ts'
import type { ConsentStatus } from './status.ts'

interface CatalogueEntry {
  /** Stable number: 1xxx input, 2xxx consent state, 3xxx access, 4xxx providers, 5xxx ours. */
  readonly number: number
  readonly httpStatus: number
  readonly retryable: boolean
  readonly summary: string
}

export const ERROR_CATALOGUE = {
  VALIDATION_ERROR: {
    number: 1000,
    httpStatus: 400,
    retryable: false,
    summary: 'The input breaks a rule; nothing was changed. `issues` names each field.',
  },
  INVALID_CURSOR: {
    number: 1001,
    httpStatus: 400,
    retryable: false,
    summary: 'The cursor is malformed, forged, or belongs to another query.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    number: 1002,
    httpStatus: 409,
    retryable: false,
    summary: 'The idempotency key was already used with different input.',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    number: 1003,
    httpStatus: 409,
    retryable: true,
    summary: 'A request with this idempotency key is still running; retry shortly.',
  },
  UNSUPPORTED_SCOPE: {
    number: 1004,
    httpStatus: 422,
    retryable: false,
    summary: 'The provider cannot grant this combination of scopes; `supportedScopes` lists what it can.',
  },
  INSTITUTION_NOT_FOUND: {
    number: 1005,
    httpStatus: 404,
    retryable: false,
    summary: 'The provider has no institution with this id.',
  },
  PAYLOAD_TOO_LARGE: {
    number: 1006,
    httpStatus: 413,
    retryable: false,
    summary: 'The request body is larger than the server accepts.',
  },
  BAD_REQUEST: {
    number: 1007,
    httpStatus: 400,
    retryable: false,
    summary: 'The HTTP request is malformed (body, content type or method).',
  },
  GRAPHQL_PARSE_FAILED: {
    number: 1100,
    httpStatus: 400,
    retryable: false,
    summary: 'The GraphQL document does not parse.',
  },
  GRAPHQL_VALIDATION_FAILED: {
    number: 1101,
    httpStatus: 400,
    retryable: false,
    summary: 'The GraphQL document is not valid against the schema, or exceeds a limit (depth, aliases, tokens, cost).',
  },
  PERSISTED_QUERY_NOT_IN_LIST: {
    number: 1102,
    httpStatus: 400,
    retryable: false,
    summary: "No document is registered under this documentId or APQ hash for the caller's tenant.",
  },
  CONSENT_NOT_FOUND: {
    number: 2000,
    httpStatus: 404,
    retryable: false,
    summary: "No consent with this id is visible to the caller (another tenant's id answers the same).",
  },
  CONSENT_NOT_ACTIVE: {
    number: 2001,
    httpStatus: 409,
    retryable: false,
    summary: 'The operation needs a live consent; `status` says where this one is.',
  },
  CONCURRENT_MODIFICATION: {
    number: 2003,
    httpStatus: 409,
    retryable: true,
    summary: 'The consent (or the webhook settings) changed while this request ran; retry.',
  },
  CONSENT_EVENT_NOT_FOUND: {
    number: 2004,
    httpStatus: 404,
    retryable: false,
    summary: "No consent event with this id is visible to the caller (another tenant's id answers the same).",
  },
  UNAUTHORIZED: { number: 3000, httpStatus: 401, retryable: false, summary: 'Missing or wrong credentials.' },
  FORBIDDEN: {
    number: 3001,
    httpStatus: 403,
    retryable: false,
    summary: 'The credentials are valid but may not do this.',
  },
  RATE_LIMITED: {
    number: 3002,
    httpStatus: 429,
    retryable: true,
    summary: 'Too many requests; retry after `retryAfterSeconds`.',
  },
  PERSISTED_QUERY_ONLY: {
    number: 3003,
    httpStatus: 403,
    retryable: false,
    summary: "An end user's token runs registered documents only: send a documentId or APQ hash, not a query.",
  },
  ORIGIN_NOT_ALLOWED: {
    number: 3004,
    httpStatus: 403,
    retryable: false,
    summary: "The page's origin is not one of the caller's tenant's registered web origins.",
  },
  PROVIDER_UNAVAILABLE: {
    number: 4000,
    httpStatus: 503,
    retryable: true,
    summary: 'The provider did not answer in time or answered with a server error; nothing was changed.',
  },
  PROVIDER_REJECTED: {
    number: 4001,
    httpStatus: 502,
    retryable: false,
    summary: 'The provider refused the request; `providerCode` holds its reason.',
  },
  UNSUPPORTED_BY_PROVIDER: {
    number: 4002,
    httpStatus: 422,
    retryable: false,
    summary: 'This provider does not offer the operation; see `Provider.capabilities`.',
  },
  INTERNAL_SERVER_ERROR: {
    number: 5000,
    httpStatus: 500,
    retryable: true,
    summary: 'An unexpected error; quote `errorId` when reporting it.',
  },
  SERVICE_UNAVAILABLE: {
    number: 5001,
    httpStatus: 503,
    retryable: true,
    summary: "The gateway's store is unavailable for a moment; retry after `retryAfterSeconds`.",
  },
} as const satisfies Record<string, CatalogueEntry>

export type ErrorCode = keyof typeof ERROR_CATALOGUE
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[]

/** Base of every error the gateway raises on purpose. Unexpected errors are masked as INTERNAL_SERVER_ERROR. */
export abstract class ConsentGatewayError extends Error {
  abstract readonly code: ErrorCode
  get httpStatus(): number {
    return ERROR_CATALOGUE[this.code].httpStatus
  }
  get retryable(): boolean {
    return ERROR_CATALOGUE[this.code].retryable
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending input field, e.g. `input.validityDays`. */
  readonly path: string
  readonly message: string
}

export class ValidationError extends ConsentGatewayError {
  readonly code = 'VALIDATION_ERROR'
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ') || 'Invalid input')
  }
  static of(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }])
  }
}

export class InvalidCursorError extends ConsentGatewayError {
  readonly code = 'INVALID_CURSOR'
  constructor(readonly reason: string) {
    super(`Invalid cursor: ${reason}`)
  }
}

export class IdempotencyKeyReusedError extends ConsentGatewayError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED'
  constructor(readonly idempotencyKey: string) {
    super(`Idempotency key "${idempotencyKey}" was already used with different input`)
  }
}

export class IdempotencyInProgressError extends ConsentGatewayError {
  readonly code = 'IDEMPOTENCY_IN_PROGRESS'
  constructor(readonly idempotencyKey: string) {
    super(`A request with idempotency key "${idempotencyKey}" is still in progress; retry shortly`)
  }
}

export class UnsupportedScopeError extends ConsentGatewayError {
  readonly code = 'UNSUPPORTED_SCOPE'
  constructor(
    readonly provider: Provider,
    readonly requested: readonly DataScope[],
    readonly supportedScopes: readonly (readonly DataScope[])[],
  ) {
    super(
      `${provider} cannot grant scope [${requested.join(', ')}]; supported: ${supportedScopes.map((s) => `[${s.join(', ')}]`).join(' or ')}`,
    )
  }
}

export class InstitutionNotFoundError extends ConsentGatewayError {
  readonly code = 'INSTITUTION_NOT_FOUND'
  constructor(
    readonly provider: Provider,
    readonly institutionId: string,
  ) {
    super(`${provider} has no institution "${institutionId}"`)
  }
}

export class ConsentNotFoundError extends ConsentGatewayError {
  readonly code = 'CONSENT_NOT_FOUND'
  constructor(readonly consentId: string) {
    super(`Consent "${encodePublicId('Consent', consentId)}" not found`)
  }
}

export class ConsentEventNotFoundError extends ConsentGatewayError {
  readonly code = 'CONSENT_EVENT_NOT_FOUND'
  constructor(readonly eventId: string) {
    super(`Consent event "${encodePublicId('ConsentEvent', eventId)}" not found`)
  }
}

export class ConsentNotActiveError extends ConsentGatewayError {
  readonly code = 'CONSENT_NOT_ACTIVE'
  constructor(
    readonly consentId: string,
    readonly status: ConsentStatus,
    operation: string,
  ) {
    super(`Cannot ${operation} consent "${encodePublicId('Consent', consentId)}": it is ${status}`)
  }
}

export class ConcurrentModificationError extends ConsentGatewayError {
  readonly code = 'CONCURRENT_MODIFICATION'
  /** `consentId` null: something of the tenant's other than a consent (its webhook settings) kept changing. */
  constructor(
    readonly consentId: string | null,
    what = consentId === null ? 'The settings' : `Consent "${encodePublicId('Consent', consentId)}"`,
  ) {
    super(`${what} changed while this request ran; retry`)
  }
}

export class UnauthorizedError extends ConsentGatewayError {
  readonly code = 'UNAUTHORIZED'
  constructor(message = 'Missing or invalid credentials') {
    super(message)
  }
}

/**
 * A bearer token that does not hold: expired, revoked, altered, signed by a key we do not know, or minted for another
 * audience or issuer. UNAUTHORIZED like any bad credential; answered with a `Bearer error="invalid_token"` challenge
 * (RFC 6750) instead of the Basic one.
 */
export class InvalidTokenError extends UnauthorizedError {
  constructor(message = 'The access token is invalid') {
    super(message)
  }
}

export class ForbiddenError extends ConsentGatewayError {
  readonly code = 'FORBIDDEN'
}

/** A browser page called from an origin the caller's tenant has not registered (CORS is per tenant). */
export class OriginNotAllowedError extends ConsentGatewayError {
  readonly code = 'ORIGIN_NOT_ALLOWED'
  constructor(readonly origin: string) {
    super(`Pages on ${JSON.stringify(origin.slice(0, 100))} may not call this API with these credentials`)
  }
}

export class RateLimitedError extends ConsentGatewayError {
  readonly code = 'RATE_LIMITED'
  constructor(
    readonly retryAfterSeconds: number,
    /** Header fields the refusal carries besides Retry-After (the tenant's RateLimit fields). */
    readonly responseHeaders: Readonly<Record<string, string>> = {},
  ) {
    super(`Too many requests; retry after ${retryAfterSeconds} s`)
  }
}

/** What kept the store from answering, for logs and metrics (never shown to clients). */
export type StoreFailureReason =
  'connection_refused' | 'connection_reset' | 'timeout' | 'throttled' | 'store_error' | 'network_error'

/**
 * The store (DynamoDB) could not answer: unreachable, too slow, throttling, or failing on its side. The message is
 * the same whatever happened, so nothing internal reaches a client; `reason` and `cause` are for the logs.
 */
export class ServiceUnavailableError extends ConsentGatewayError {
  readonly code = 'SERVICE_UNAVAILABLE'
  constructor(
    readonly reason: StoreFailureReason,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`The service is temporarily unavailable; retry after ${retryAfterSeconds} s`, { cause: options?.cause })
  }
}

export class ProviderUnavailableError extends ConsentGatewayError {
  readonly code = 'PROVIDER_UNAVAILABLE'
  constructor(
    readonly provider: Provider,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, { cause: options?.cause })
    this.retryAfterSeconds = options?.retryAfterSeconds ?? null
  }
  readonly retryAfterSeconds: number | null
}

/** What a provider's error code may look like to be shown: a short machine code, never free text. */
const PROVIDER_CODE = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * The provider refused a request. The client sees our message and the provider's machine code (`providerCode`, or
 * `http_<status>` when it sent none that looks like one); `providerMessage`, the provider's own words, is for the log
 * only: it is never part of `message`.
 */
export class ProviderRejectedError extends ConsentGatewayError {
  readonly code = 'PROVIDER_REJECTED'
  readonly providerCode: string
  constructor(
    readonly provider: Provider,
    providerCode: string,
    readonly providerMessage: string,
    readonly providerHttpStatus: number,
  ) {
    const shown = PROVIDER_CODE.test(providerCode) ? providerCode : `http_${providerHttpStatus}`
    super(`${provider} refused the request (HTTP ${providerHttpStatus}, ${shown})`)
    this.providerCode = shown
  }
}

export class UnsupportedByProviderError extends ConsentGatewayError {
  readonly code = 'UNSUPPORTED_BY_PROVIDER'
  constructor(
    readonly provider: Provider,
    readonly operation: string,
  ) {
    super(`${provider} does not support ${operation}`)
  }
}

export const isConsentGatewayError = (error: unknown): error is ConsentGatewayError =>
  error instanceof ConsentGatewayError
