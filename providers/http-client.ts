// HTTP for provider adapters: a timeout on every attempt, bounded retries with jittered backoff for idempotent calls
// (and for any call the provider never received), and provider outages turned into PROVIDER_UNAVAILABLE.
import { ProviderRejectedError, ProviderUnavailableError } from '../domain/errors.ts'
import type { Provider } from '../domain/provider.ts'
import type { ProviderCallContext } from './adapter.ts'

export interface HttpClientOptions {
  /**
   * Per-attempt timeout.
   * @default 5_000
   */
  readonly timeoutMs?: number
  /**
   * Extra attempts after the first, for idempotent calls.
   * @default 2
   */
  readonly retries?: number
  /**
   * First backoff; doubles per attempt, with full jitter.
   * @default 100
   */
  readonly backoffBaseMs?: number
  /**
   * Longest wait between attempts, including a provider's Retry-After.
   * @default 2_000
   */
  readonly backoffMaxMs?: number
}

export interface ProviderRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  /** Safe to send twice. Non-idempotent calls are retried only when the provider cannot have received them. */
  readonly idempotent: boolean
  /** For logs: the operation, e.g. `consents.get`. Never the URL's query or the body (they may hold secrets). */
  readonly operation: string
}

export interface ProviderResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504])
/** Errors that prove the request never reached the provider: safe to retry anything. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause
  return typeof cause?.code === 'string' ? cause.code : undefined
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })

export class ProviderHttpClient {
  /** Provider clock minus ours, from the `Date` header of its last answer (second resolution). */
  #skewMs = 0
  readonly #timeoutMs: number
  readonly #retries: number
  readonly #backoffBaseMs: number
  readonly #backoffMaxMs: number

  constructor(
    private readonly provider: Provider,
    options: HttpClientOptions = {},
  ) {
    this.#timeoutMs = options.timeoutMs ?? 5_000
    this.#retries = options.retries ?? 2
    this.#backoffBaseMs = options.backoffBaseMs ?? 100
    this.#backoffMaxMs = options.backoffMaxMs ?? 2_000
  }

  /**
   * The provider's time as best known (from its answers' `Date` headers): for values it checks against its own
   * clock, such as a signed request date or a confirmation time that may not be in its future.
   */
  providerNow(): Date {
    return new Date(Date.now() + this.#skewMs)
  }

  #backoff(attempt: number, retryAfter: string | null): number {
    const seconds = retryAfter === null ? NaN : Number(retryAfter)
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, this.#backoffMaxMs)
    return Math.random() * Math.min(this.#backoffBaseMs * 2 ** attempt, this.#backoffMaxMs)
  }

  /**
   * Sends `request`; answers any 2xx-4xx response. Throws {@link ProviderUnavailableError} for timeouts, network
   * failures and 429/5xx once retries are spent.
   */
  async send(request: ProviderRequest, context: ProviderCallContext): Promise<ProviderResponse> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now()
      const signals = [AbortSignal.timeout(this.#timeoutMs), ...(context.signal ? [context.signal] : [])]
      let outcome: { response: ProviderResponse } | { error: unknown }
      try {
        const response = await fetch(request.url, {
          method: request.method,
          headers: { 'x-request-id': context.requestId, ...request.headers },
          ...(request.body !== undefined ? { body: request.body } : {}),
          signal: AbortSignal.any(signals),
          redirect: 'manual',
        })
        outcome = { response: { status: response.status, headers: response.headers, text: await response.text() } }
        const date = Date.parse(response.headers.get('date') ?? '')
        if (!Number.isNaN(date)) this.#skewMs = date - Date.now()
      } catch (error) {
        outcome = { error }
      }
      const elapsedMs = Math.round(performance.now() - started)
      const lastAttempt = attempt >= this.#retries || context.signal?.aborted === true

      if ('response' in outcome) {
        const { status, headers } = outcome.response
        context.logger.debug('provider call', {
          provider: this.provider,
          operation: request.operation,
          status,
          elapsedMs,
          attempt,
        })
        if (!RETRYABLE_STATUS.has(status)) return outcome.response
        if (!request.idempotent || lastAttempt) {
          throw new ProviderUnavailableError(
            this.provider,
            `${this.provider} answered ${status} to ${request.operation}`,
            {
              retryAfterSeconds: Number(headers.get('retry-after')) || undefined,
            },
          )
        }
        await sleep(this.#backoff(attempt, headers.get('retry-after')), context.signal)
        continue
      }

      const code = errorCode(outcome.error)
      const timedOut = (outcome.error as Error | undefined)?.name === 'TimeoutError'
      context.logger.warn('provider call failed', {
        provider: this.provider,
        operation: request.operation,
        code: code ?? (timedOut ? 'TIMEOUT' : 'NETWORK'),
        elapsedMs,
        attempt,
      })
      const safeToRetry = request.idempotent || (code !== undefined && NOT_SENT_CODES.has(code))
      if (!safeToRetry || lastAttempt) {
        throw new ProviderUnavailableError(
          this.provider,
          timedOut
            ? `${this.provider} did not answer ${request.operation} within ${this.#timeoutMs} ms`
            : `${this.provider} could not be reached for ${request.operation}`,
          { cause: outcome.error },
        )
      }
      await sleep(this.#backoff(attempt, null), context.signal)
    }
  }
}

/**
 * A provider's refusal as our error: the client is told our code and message, and the provider's own text (a
 * validation message, anything it chose to say) is logged here and nowhere shown.
 */
export function providerRefusal(
  provider: Provider,
  refusal: { readonly status: number; readonly code: string; readonly message: string; readonly operation: string },
  context: ProviderCallContext,
): ProviderRejectedError {
  context.logger.warn('provider refused the request', {
    provider,
    operation: refusal.operation,
    status: refusal.status,
    providerCode: refusal.code.slice(0, 200),
    providerMessage: refusal.message.slice(0, 1_000),
  })
  return new ProviderRejectedError(provider, refusal.code, refusal.message, refusal.status)
}
