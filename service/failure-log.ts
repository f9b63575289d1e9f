// Failures that come in floods (the store down, a storm of failed logins) as one log line per kind per interval, with a
// count, instead of one line and one stack per occurrence. The first occurrence after a quiet interval is logged at
// once, so a lone failure is not delayed; the rest are counted into one line when the interval ends.
import { ServiceUnavailableError } from '../domain/errors.ts'
import type { Logger } from '../runtime/logging.ts'

export interface FailureLogOptions {
  /**
   * At most one line per kind this often.
   * @default 10_000
   */
  readonly intervalMs?: number
  /**
   * Distinct values counted per tallied field between two lines (client ids, addresses); further ones are counted
   * under `(others)`, so a flood of made-up values cannot grow memory or a line without bound.
   * @default 20
   */
  readonly maxTallied?: number
}

export interface Failure {
  readonly message: string
  /** @default 'warn' */
  readonly level?: 'warn' | 'error'
  /** Fields of the line, the same for every occurrence of the kind. */
  readonly fields?: Readonly<Record<string, unknown>>
  /** Values counted per field over the interval, e.g. `{ clientIds: 'client-a', sources: '192.0.2.1' }`. */
  readonly tally?: Readonly<Record<string, string>>
}

interface KindState {
  message: string
  level: 'warn' | 'error'
  fields: Readonly<Record<string, unknown>>
  count: number
  tallies: Map<string, Map<string, number>>
  timer: NodeJS.Timeout | null
}

const OTHERS = '(others)'

export class FailureLog {
  readonly #kinds = new Map<string, KindState>()
  readonly #intervalMs: number
  readonly #maxTallied: number

  constructor(
    private readonly logger: Logger,
    options: FailureLogOptions = {},
  ) {
    this.#intervalMs = options.intervalMs ?? 10_000
    this.#maxTallied = options.maxTallied ?? 20
  }

  /** Counts one failure of `kind`: logged now if the kind was quiet, else in the line that ends the interval. */
  record(kind: string, failure: Failure): void {
    const quiet = !this.#kinds.has(kind)
    const state: KindState = this.#kinds.get(kind) ?? {
      message: failure.message,
      level: failure.level ?? 'warn',
      fields: failure.fields ?? {},
      count: 0,
      tallies: new Map(),
      timer: null,
    }
    this.#kinds.set(kind, state)
    state.count += 1
    for (const [field, value] of Object.entries(failure.tally ?? {})) {
      const counts = state.tallies.get(field) ?? new Map<string, number>()
      state.tallies.set(field, counts)
      const key = counts.has(value) || counts.size < this.#maxTallied ? value : OTHERS
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    if (quiet) {
      this.#write(state)
      this.#arm(kind, state)
    }
  }

  /** Writes every count held back (at shutdown, or in tests); the intervals go on. */
  flush(): void {
    for (const state of this.#kinds.values()) if (state.count > 0) this.#write(state)
  }

  #arm(kind: string, state: KindState): void {
    state.timer = setTimeout(() => {
      if (state.count === 0) {
        // A whole interval without one: the kind is quiet again.
        this.#kinds.delete(kind)
        return
      }
      this.#write(state)
      this.#arm(kind, state)
    }, this.#intervalMs)
    state.timer.unref()
  }

  #write(state: KindState): void {
    const tallies = Object.fromEntries(
      [...state.tallies].map(([field, counts]) => [
        field,
        Object.fromEntries([...counts].sort(([, a], [, b]) => b - a)),
      ]),
    )
    this.logger[state.level](state.message, {
      ...state.fields,
      count: state.count,
      intervalSeconds: this.#intervalMs / 1000,
      ...tallies,
    })
    state.count = 0
    state.tallies = new Map()
  }
}

const causedByStoreOutage = (value: unknown): boolean => {
  for (let error = value, depth = 0; error instanceof Error && depth < 5; error = error.cause, depth++) {
    if (error instanceof ServiceUnavailableError) return true
  }
  return false
}

/**
 * `logger` without the lines whose `error` is the store being unavailable: those are counted by the failure log's
 * "store unavailable" line (the gateway listens to the store client), so a job, a poll or a route failing for that
 * reason adds nothing but noise, once per request or tick.
 */
export function withoutStoreOutageLines(logger: Logger): Logger {
  const unlessOutage =
    (write: Logger['warn']): Logger['warn'] =>
    (message, extra) => {
      if (!causedByStoreOutage(extra?.error)) write(message, extra)
    }
  return {
    debug: (message, extra) => logger.debug(message, extra),
    info: (message, extra) => logger.info(message, extra),
    warn: unlessOutage((message, extra) => logger.warn(message, extra)),
    error: unlessOutage((message, extra) => logger.error(message, extra)),
  }
}
