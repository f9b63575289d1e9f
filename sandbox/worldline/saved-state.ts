// What the Worldline sandbox keeps across a restart (its state file): consents, the bank toggles, the access tokens it
// issued and the clock offset, so old consents still answer.
import { readState, UnreadableStateError } from '../shared/persistence.ts'
import type { WorldlineConsent } from './consent.ts'

export interface WorldlineSavedState {
  readonly version: 1
  readonly clockOffsetMs: number
  readonly consents: WorldlineConsent[]
  readonly deleteFails: boolean
  /** Issued access tokens and when each expires (ms on the sandbox clock). */
  readonly tokens: [string, number][]
}

/** The saved state, or undefined on a first start; a file of another shape stops the start. */
export function readWorldlineState(path: string): WorldlineSavedState | undefined {
  const saved = readState(path) as Partial<WorldlineSavedState> | undefined
  if (saved === undefined) return undefined
  if (saved.version !== 1 || !Array.isArray(saved.consents) || !Array.isArray(saved.tokens)) {
    throw new UnreadableStateError(`${path} is not a Worldline sandbox state (move it away to start afresh)`)
  }
  return {
    ...(saved as WorldlineSavedState),
    clockOffsetMs: saved.clockOffsetMs ?? 0,
    deleteFails: !!saved.deleteFails,
  }
}
