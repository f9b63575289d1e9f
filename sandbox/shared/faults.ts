// Fault injection for a sandbox's provider API: fail the next N calls with a chosen status and code, delay every call.

/** What an injected failure answers with; each sandbox renders it in its provider's error body. */
export interface InjectedFailure {
  status: number
  code: string
}

/** The injector's state, as the control API reports it. */
export interface FaultSettings extends InjectedFailure {
  failNext: number
  delayMs: number
}

/** A failure nobody described: the provider's generic server error. */
export const DEFAULT_FAILURE: InjectedFailure = { status: 500, code: 'internal_server_error' }

export class FaultInjector {
  #remaining = 0
  #failure: InjectedFailure = DEFAULT_FAILURE
  #delayMs = 0

  /** The next `count` API calls fail with `failure` (status 500 `internal_server_error` unless given). */
  failNext(count: number, failure: Partial<InjectedFailure> = {}): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`failNext needs a whole count >= 0, got ${count}`)
    this.#remaining = count
    this.#failure = { ...DEFAULT_FAILURE, ...failure }
  }

  /** Every API call waits `ms` before it is handled (failures included), to exercise client timeouts. */
  delay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delay needs ms >= 0, got ${ms}`)
    this.#delayMs = ms
  }

  get delayMs(): number {
    return this.#delayMs
  }

  /** Consumes one planned failure; the API router calls this once per call and answers with it when present. */
  takeFailure(): InjectedFailure | undefined {
    if (this.#remaining === 0) return undefined
    this.#remaining -= 1
    return { ...this.#failure }
  }

  /** Waits the configured delay; resolves at once when there is none. */
  async applyDelay(): Promise<void> {
    if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs))
  }

  settings(): FaultSettings {
    return { failNext: this.#remaining, ...this.#failure, delayMs: this.#delayMs }
  }

  reset(): void {
    this.#remaining = 0
    this.#failure = DEFAULT_FAILURE
    this.#delayMs = 0
  }
}
