// What the Finqware sandbox keeps across a restart (its state file): consents, the clock offset and the signing keys,
// so old consents still answer and notifications signed before the restart still verify.
import { readState, UnreadableStateError } from '../shared/persistence.ts'
import type { FinqwareConsent } from './consent.ts'
import type { SavedKeyRing } from './signing-keys.ts'

export interface FinqwareSavedState {
  readonly version: 1
  readonly clockOffsetMs: number
  readonly keys: SavedKeyRing
  readonly consents: FinqwareConsent[]
}

/** The saved state, or undefined on a first start; a file of another shape stops the start. */
export function readFinqwareState(path: string): FinqwareSavedState | undefined {
  const saved = readState(path) as Partial<FinqwareSavedState> | undefined
  if (saved === undefined) return undefined
  if (saved.version !== 1 || !Array.isArray(saved.consents) || typeof saved.clockOffsetMs !== 'number' || !saved.keys) {
    throw new UnreadableStateError(`${path} is not a Finqware sandbox state (move it away to start afresh)`)
  }
  return saved as FinqwareSavedState
}
