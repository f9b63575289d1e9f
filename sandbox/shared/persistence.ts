// A sandbox's state in one JSON file (npm start keeps them under .data/sandboxes/), so a restart finds the consents,
// keys and registrations it left, as a real provider would. Dates survive the round trip; writes are atomic.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** The file holds something this sandbox cannot read: it names the file, so the user can move it away. */
export class UnreadableStateError extends Error {
  override readonly name = 'UnreadableStateError'
}

/** JSON keeps a Date as a string; these markers bring it back as a Date. */
function encodeDates(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key]
  return raw instanceof Date ? { $date: raw.toISOString() } : value
}

function decodeDates(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const date = (value as { $date?: unknown }).$date
    if (typeof date === 'string' && Object.keys(value).length === 1) return new Date(date)
  }
  return value
}

export const serializeState = (state: unknown): string => `${JSON.stringify(state, encodeDates, 1)}\n`

/** Reads a saved state: undefined when there is none yet (a first start). */
export function readState(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    return JSON.parse(text, decodeDates) as unknown
  } catch (cause) {
    throw new UnreadableStateError(`${path} is not a sandbox state (move it away to start afresh)`, { cause })
  }
}

/**
 * Keeps a sandbox's state on disk: `changed()` after anything that may have changed it (a request answered, the clock
 * moved), and a write follows within `delayMs`; a timer also writes what changed on its own (deadlines passing).
 * Nothing is written while the state is what was last written.
 */
export class StateFile {
  readonly #path: string
  readonly #snapshot: () => unknown
  readonly #delayMs: number
  readonly #poll: NodeJS.Timeout
  #written: string | undefined
  #pending: NodeJS.Timeout | undefined

  constructor(path: string, snapshot: () => unknown, options: { delayMs?: number; pollMs?: number } = {}) {
    this.#path = path
    this.#snapshot = snapshot
    this.#delayMs = options.delayMs ?? 20
    this.#poll = setInterval(() => this.flush(), options.pollMs ?? 1_000)
    this.#poll.unref()
  }

  changed(): void {
    if (this.#pending) return
    this.#pending = setTimeout(() => this.flush(), this.#delayMs)
    this.#pending.unref()
  }

  /** Writes the state now if it differs from what was written last (temporary file, then rename: never half a file). */
  flush(): void {
    clearTimeout(this.#pending)
    this.#pending = undefined
    const text = serializeState(this.#snapshot())
    if (text === this.#written) return
    mkdirSync(dirname(this.#path), { recursive: true })
    const temporary = `${this.#path}.${process.pid}.tmp`
    writeFileSync(temporary, text, { mode: 0o600 })
    renameSync(temporary, this.#path)
    this.#written = text
  }

  /** The last write, then no more. */
  close(): void {
    clearInterval(this.#poll)
    this.flush()
  }
}
