// What the Yapily sandbox keeps across a restart (its state file): consents, users, webhook registrations with their
// secrets, the bank toggle and the clock offset, so old consents still answer and our webhook still gets its events.
import { readState, UnreadableStateError } from '../shared/persistence.ts'
import type { YapilyConsent } from './consent.ts'
import type { YapilyUser } from './users.ts'
import type { WebhookRegistration } from './webhook-registry.ts'

export interface YapilySavedState {
  readonly version: 1
  readonly clockOffsetMs: number
  readonly consents: YapilyConsent[]
  /** The last creation sequence number given out. */
  readonly sequence: number
  readonly users: YapilyUser[]
  readonly webhooks: WebhookRegistration[]
  readonly deleteFails: boolean
}

/** The saved state, or undefined on a first start; a file of another shape stops the start. */
export function readYapilyState(path: string): YapilySavedState | undefined {
  const saved = readState(path) as Partial<YapilySavedState> | undefined
  if (saved === undefined) return undefined
  if (
    saved.version !== 1 ||
    !Array.isArray(saved.consents) ||
    !Array.isArray(saved.users) ||
    !Array.isArray(saved.webhooks)
  ) {
    throw new UnreadableStateError(`${path} is not a Yapily sandbox state (move it away to start afresh)`)
  }
  return {
    ...(saved as YapilySavedState),
    clockOffsetMs: saved.clockOffsetMs ?? 0,
    sequence: saved.sequence ?? 0,
    deleteFails: !!saved.deleteFails,
  }
}
