// The sandbox's consents in memory: lookups (by id, token, page), status transitions with their notification, and the
// lazy expiry sweep.
import type { SandboxClock } from '../shared/clock.ts'
import type { BankPage, YapilyConsent } from './consent.ts'
import type { AuthorisationStatus } from './enums.ts'
import { hasPassed, isDueToExpire } from './lifetimes.ts'

export interface ConsentStoreOptions {
  clock: SandboxClock
  /** Called after every status change (creation is not one), with the change's time on the sandbox clock. */
  notify: (consent: YapilyConsent, occurredAt: Date) => void
}

export class ConsentStore {
  readonly #options: ConsentStoreOptions
  readonly #byId = new Map<string, YapilyConsent>()
  #sequence = 0

  constructor(options: ConsentStoreOptions) {
    this.#options = options
  }

  /** The next creation sequence number (ties in `createdAt` list newest first by it). */
  nextSequence(): number {
    this.#sequence += 1
    return this.#sequence
  }

  /** The last creation sequence number given out (a saved state keeps it). */
  get sequence(): number {
    return this.#sequence
  }

  /** Takes back the consents of a saved state, in their order, and its sequence. */
  load(consents: readonly YapilyConsent[], sequence: number): void {
    for (const consent of consents) this.#byId.set(consent.id, consent)
    this.#sequence = Math.max(sequence, ...consents.map((consent) => consent.sequence))
  }

  add(consent: YapilyConsent): void {
    this.#byId.set(consent.id, consent)
  }

  /** By id, seen from one application: another application's consent is as absent as an unknown one. */
  find(applicationId: string, consentId: string): YapilyConsent | undefined {
    const consent = this.#byId.get(consentId)
    return consent?.applicationId === applicationId ? consent : undefined
  }

  findAny(consentId: string): YapilyConsent | undefined {
    return this.#byId.get(consentId)
  }

  /** By `consentToken`, seen from one application. */
  findByToken(applicationId: string, consentToken: string): YapilyConsent | undefined {
    for (const consent of this.#byId.values()) {
      if (consent.consentToken === consentToken && consent.applicationId === applicationId) return consent
    }
    return undefined
  }

  findByPage(pageId: string): { consent: YapilyConsent; page: BankPage } | undefined {
    for (const consent of this.#byId.values()) {
      const page = consent.pages.find((candidate) => candidate.id === pageId)
      if (page) return { consent, page }
    }
    return undefined
  }

  /** In creation order. */
  all(): YapilyConsent[] {
    return [...this.#byId.values()]
  }

  /**
   * Sets the status and reports it. The same status again is no change and reports nothing, unless `force` (the
   * status control simulates an event, so it always reports).
   */
  transition(consent: YapilyConsent, status: AuthorisationStatus, options: { force?: boolean } = {}): void {
    if (consent.status === status && !options.force) return
    consent.status = status
    this.#options.notify(consent, this.#options.clock.now())
  }

  /**
   * Expires every `AUTHORIZED` consent past its `expiresAt`; run on requests, clock changes and a timer. A consent
   * awaiting re-authorisation keeps its status, but the status a denial restores becomes `EXPIRED`.
   */
  sweep(): void {
    const now = this.#options.clock.now()
    for (const consent of this.#byId.values()) {
      if (isDueToExpire(consent, now)) {
        this.transition(consent, 'EXPIRED')
      } else if (
        consent.status === 'AWAITING_RE_AUTHORIZATION' &&
        consent.statusBeforeReauthorisation === 'AUTHORIZED' &&
        hasPassed(consent.expiresAt, now)
      ) {
        consent.statusBeforeReauthorisation = 'EXPIRED'
      }
    }
  }

  clear(): void {
    this.#byId.clear()
    this.#sequence = 0
  }
}
