// Store failures that say "the store is unavailable", recognised once, here, and turned into the domain's
// ServiceUnavailableError: connections refused, reset or timed out, DynamoDB throttling, and errors on DynamoDB's side.
// A middleware on the client does it after the SDK's own retries, so every repository, job and probe gets the same
// typed error, and whoever watches the client (the gateway's aggregated log) hears of each one.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { ServiceUnavailableError, type StoreFailureReason } from '../domain/errors.ts'

/** How long a client is told to wait, per reason: throttling clears fast, an outage does not. */
const RETRY_AFTER_SECONDS: Record<StoreFailureReason, number> = {
  connection_refused: 5,
  connection_reset: 2,
  timeout: 5,
  throttled: 1,
  store_error: 2,
  network_error: 5,
}

const SOCKET_CODES: Readonly<Record<string, StoreFailureReason>> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  ECONNABORTED: 'connection_reset',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  EHOSTUNREACH: 'network_error',
  ENETUNREACH: 'network_error',
  ENETDOWN: 'network_error',
  ENOTFOUND: 'network_error',
  EAI_AGAIN: 'network_error',
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'Throttling',
  'TooManyRequestsException',
])
const THROTTLING_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded'])
const SERVICE_SIDE = new Set([
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
])
const TIMEOUTS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'])

type ErrorLike = {
  name?: unknown
  code?: unknown
  errors?: unknown
  cause?: unknown
  $metadata?: { httpStatusCode?: number }
  CancellationReasons?: { Code?: string }[]
}

function socketReason(error: ErrorLike, depth = 0): StoreFailureReason | null {
  if (depth > 3) return null
  const byCode = typeof error.code === 'string' ? SOCKET_CODES[error.code] : undefined
  if (byCode) return byCode
  // Node reports a failed connection to every address of a host as one AggregateError.
  if (Array.isArray(error.errors)) {
    for (const inner of error.errors) {
      const reason = inner && typeof inner === 'object' ? socketReason(inner as ErrorLike, depth + 1) : null
      if (reason) return reason
    }
  }
  return error.cause && typeof error.cause === 'object' ? socketReason(error.cause, depth + 1) : null
}

/** Why the store was unavailable, or null when `error` is something else (a condition failed, a bad request...). */
export function storeFailureReason(error: unknown): StoreFailureReason | null {
  if (!error || typeof error !== 'object') return null
  if (error instanceof ServiceUnavailableError) return error.reason
  const e = error as ErrorLike
  const name = typeof e.name === 'string' ? e.name : ''
  if (THROTTLING.has(name)) return 'throttled'
  if (name === 'TransactionCanceledException') {
    const codes = (e.CancellationReasons ?? []).map((reason) => reason.Code).filter((code) => code && code !== 'None')
    return codes.length > 0 && codes.every((code) => THROTTLING_REASONS.has(code ?? '')) ? 'throttled' : null
  }
  if (SERVICE_SIDE.has(name)) return 'store_error'
  if (TIMEOUTS.has(name)) return 'timeout'
  const socket = socketReason(e)
  if (socket) return socket
  const status = e.$metadata?.httpStatusCode
  return typeof status === 'number' && status >= 500 ? 'store_error' : null
}

/** `error` as a ServiceUnavailableError when it says the store is unavailable; null otherwise. */
export function asServiceUnavailable(error: unknown): ServiceUnavailableError | null {
  if (error instanceof ServiceUnavailableError) return error
  const reason = storeFailureReason(error)
  return reason ? new ServiceUnavailableError(reason, RETRY_AFTER_SECONDS[reason], { cause: error }) : null
}

type AnyClient = DynamoDBClient | DynamoDBDocumentClient
type Stack = AnyClient['middlewareStack']
export type StoreUnavailableListener = (error: ServiceUnavailableError) => void

const MIDDLEWARE = 'consentGatewayStoreUnavailable'
const listeners = new WeakMap<Stack, Set<StoreUnavailableListener>>()

/**
 * Makes the client throw ServiceUnavailableError for every failure that means the store is unavailable (once per
 * command, after the SDK's retries). A document client shares its client's middleware, so either may be given; a
 * second call changes nothing.
 */
export function classifyStoreFailures(client: AnyClient): void {
  const stack = client.middlewareStack
  if (listeners.has(stack)) return
  const heard = new Set<StoreUnavailableListener>()
  listeners.set(stack, heard)
  stack.add(
    (next) => async (args) => {
      try {
        return await next(args)
      } catch (error) {
        const unavailable = asServiceUnavailable(error)
        if (!unavailable) throw error
        for (const listener of heard) {
          try {
            listener(unavailable)
          } catch {
            // A listener's failure must not replace the store's.
          }
        }
        throw unavailable
      }
    },
    // Outermost: it sees the final outcome, after retries and the document client's (un)marshalling.
    { step: 'initialize', priority: 'high', name: MIDDLEWARE },
  )
}

/** Calls `listener` with every ServiceUnavailableError the client throws; returns how to stop. */
export function onStoreUnavailable(client: AnyClient, listener: StoreUnavailableListener): () => void {
  classifyStoreFailures(client)
  const heard = listeners.get(client.middlewareStack)
  heard?.add(listener)
  return () => heard?.delete(listener)
}
