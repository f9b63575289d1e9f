// Access tokens the sandbox issued, expiring on the sandbox clock, plus the optional static never-expiring one.
import { randomBytes } from 'node:crypto'
import type { SandboxClock } from '../shared/clock.ts'

export interface IssuedToken {
  accessToken: string
  expiresInSeconds: number
}

/** What a presented bearer token is worth. */
export type TokenCheck = 'valid' | 'expired' | 'unknown'

export class TokenStore {
  readonly #clock: SandboxClock
  readonly #ttlSeconds: number
  readonly #staticToken: string | null
  /** Token -> expiry time on the sandbox clock (ms). */
  readonly #expiries = new Map<string, number>()

  constructor(options: { clock: SandboxClock; ttlSeconds: number; staticToken: string | null }) {
    this.#clock = options.clock
    this.#ttlSeconds = options.ttlSeconds
    this.#staticToken = options.staticToken
  }

  issue(): IssuedToken {
    const now = this.#clock.now().getTime()
    // Tokens long expired are forgotten, so the map stays small however long the sandbox runs.
    for (const [token, expiresAt] of this.#expiries)
      if (expiresAt + 24 * 3600 * 1000 < now) this.#expiries.delete(token)
    const accessToken = randomBytes(24).toString('base64url')
    this.#expiries.set(accessToken, now + this.#ttlSeconds * 1000)
    return { accessToken, expiresInSeconds: this.#ttlSeconds }
  }

  /** The issued tokens and their expiries, for a saved state. */
  saved(): [string, number][] {
    return [...this.#expiries]
  }

  /** Takes back the tokens of a saved state. */
  load(tokens: readonly [string, number][]): void {
    for (const [token, expiresAt] of tokens) this.#expiries.set(token, expiresAt)
  }

  check(token: string): TokenCheck {
    if (this.#staticToken !== null && token === this.#staticToken) return 'valid'
    const expiresAt = this.#expiries.get(token)
    if (expiresAt === undefined) return 'unknown'
    return this.#clock.now().getTime() < expiresAt ? 'valid' : 'expired'
  }
}
