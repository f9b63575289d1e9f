// The gateway's clock in local mode: real time plus an offset that the clock control moves forward, so deadlines
// (warnings, reconfirmation, expiry) can be reached in minutes. Kept beside the data, so a restart keeps the time.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export class OffsetClock {
  #offsetMs: number
  readonly #file: string | null

  private constructor(offsetMs: number, file: string | null) {
    this.#offsetMs = offsetMs
    this.#file = file
  }

  /** The clock kept in `file` (a fresh one when there is none yet); `null` keeps it in memory only. */
  static load(file: string | null): OffsetClock {
    if (file === null) return new OffsetClock(0, null)
    let offsetMs = 0
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { offsetMs?: unknown }
      if (typeof saved.offsetMs === 'number' && Number.isFinite(saved.offsetMs)) offsetMs = saved.offsetMs
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`${file} is not a clock file`, { cause: error })
    }
    return new OffsetClock(offsetMs, file)
  }

  readonly now = (): Date => new Date(Date.now() + this.#offsetMs)

  get offsetMs(): number {
    return this.#offsetMs
  }

  /** Moves the clock forward by `ms` (never back: what the jobs did at a later time stays done). */
  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the gateway clock only moves forward')
    this.#offsetMs += ms
    this.#save()
    return this.now()
  }

  #save(): void {
    if (this.#file === null) return
    mkdirSync(dirname(this.#file), { recursive: true })
    const temporary = `${this.#file}.${process.pid}.tmp`
    writeFileSync(temporary, `${JSON.stringify({ offsetMs: this.#offsetMs })}\n`)
    renameSync(temporary, this.#file)
  }
}
