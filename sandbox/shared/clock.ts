// The sandbox's notion of "now": real time plus an offset that tests move forward to reach deadlines without waiting.

/** Called after every clock change with the new time, so a sandbox can sweep its deadlines synchronously. */
export type ClockListener = (now: Date) => void

export class SandboxClock {
  #offsetMs = 0
  readonly #listeners = new Set<ClockListener>()

  /** Real time plus the offset; keeps ticking after `advance` or `set`. */
  now(): Date {
    return new Date(Date.now() + this.#offsetMs)
  }

  /** The offset from real time, in milliseconds (0 after a reset). */
  get offsetMs(): number {
    return this.#offsetMs
  }

  /** Moves the clock by `ms` (negative goes back, which deadline sweeps tolerate but never undo). */
  advance(ms: number): Date {
    if (!Number.isFinite(ms)) throw new RangeError(`clock advance must be a finite number of ms, got ${ms}`)
    this.#offsetMs += ms
    return this.#changed()
  }

  /** Jumps to `date`; the clock then ticks on from there. */
  set(date: Date): Date {
    const target = date.getTime()
    if (Number.isNaN(target)) throw new RangeError('clock set needs a valid date')
    this.#offsetMs = target - Date.now()
    return this.#changed()
  }

  /** Back to real time. */
  reset(): Date {
    this.#offsetMs = 0
    return this.#changed()
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: ClockListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #changed(): Date {
    const now = this.now()
    for (const listener of this.#listeners) listener(now)
    return now
  }
}

/**
 * Runs `sweep` (a sandbox applying its deadlines) every `intervalMs` of real time and at once whenever the clock is
 * moved, so `POST /__sandbox/clock` has queued what the move made due before it answers. Returns the stop function.
 */
export function sweepOnClock(clock: SandboxClock, sweep: () => void, intervalMs: number): () => void {
  const stopWatching = clock.onChange(() => sweep())
  const timer = setInterval(sweep, intervalMs)
  timer.unref()
  return () => {
    clearInterval(timer)
    stopWatching()
  }
}
