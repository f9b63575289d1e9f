// Whether the store answers, for /healthz (http/health.ts): one cheap probe at a time, its answer kept a few seconds,
// so however many ask, the store sees at most one probe per period and /healthz cannot be used to hammer it. The
// answer names the store's state and nothing else.
import { ServiceUnavailableError } from '../domain/errors.ts'

export type StoreState = 'ok' | 'unavailable'

export interface StoreHealthOptions {
  /**
   * How long one probe's answer is reused.
   * @default 5_000
   */
  readonly cacheMs?: number
  /**
   * A probe slower than this counts as unavailable (a hung connection must not hang /healthz).
   * @default 2_000
   */
  readonly timeoutMs?: number
  /** Told of a probe that failed for another reason than an outage (a missing table, say). */
  readonly onProbeError?: (error: unknown) => void
}

export class StoreHealth {
  #last: { state: StoreState; at: number } | null = null
  #running: Promise<StoreState> | null = null
  readonly #cacheMs: number
  readonly #timeoutMs: number

  constructor(
    private readonly probe: (signal: AbortSignal) => Promise<void>,
    private readonly options: StoreHealthOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.#cacheMs = options.cacheMs ?? 5_000
    this.#timeoutMs = options.timeoutMs ?? 2_000
  }

  /** Seconds a client should wait before asking again. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#cacheMs / 1000))
  }

  check(): Promise<StoreState> {
    if (this.#last && this.now() - this.#last.at < this.#cacheMs) return Promise.resolve(this.#last.state)
    this.#running ??= this.#probe().finally(() => (this.#running = null))
    return this.#running
  }

  async #probe(): Promise<StoreState> {
    const signal = AbortSignal.timeout(this.#timeoutMs)
    let state: StoreState = 'ok'
    try {
      await this.probe(signal)
    } catch (error) {
      state = 'unavailable'
      if (!(error instanceof ServiceUnavailableError) && !signal.aborted) {
        this.options.onProbeError?.(error)
      }
    }
    this.#last = { state, at: this.now() }
    return state
  }
}
