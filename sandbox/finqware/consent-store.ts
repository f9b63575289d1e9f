// The sandbox's consents in memory: lookups, status transitions with their side effects, and the deadline sweep.
import { randomUUID } from 'node:crypto'
import type { SandboxClock } from '../shared/clock.ts'
import { findBank } from './catalogue.ts'
import { PENDING_FLOW_ORDER, type ConsentStatus, type FinqwareConsent } from './consent.ts'
import { dueStatus } from './deadlines.ts'
import type { ValidityEndStatus } from './options.ts'

const DAY_MS = 24 * 3600 * 1000
/** Node timers may fire a hair before Date.now() reaches the deadline; the margin avoids a wasted sweep. */
const TIMER_MARGIN_MS = 5

export interface ConsentStoreOptions {
  clock: SandboxClock
  activationDelayMs: number
  validityEndStatus: ValidityEndStatus
  /** Called after every status change, creation excluded (the sandbox sends webhooks only for changes). */
  onStatusChange: (consent: FinqwareConsent) => void
}

export class ConsentStore {
  readonly #options: ConsentStoreOptions
  readonly #byId = new Map<string, FinqwareConsent>()
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(options: ConsentStoreOptions) {
    this.#options = options
  }

  /** Takes back the consents of a saved state; an activation still due is woken as if it had never stopped. */
  load(consents: readonly FinqwareConsent[]): void {
    const now = this.#options.clock.now().getTime()
    for (const consent of consents) {
      // A redirect being processed when the sandbox stopped was never finished: it may be sent again.
      if (consent.directSca?.redirect === 'in_progress') consent.directSca.redirect = 'not_received'
      this.#byId.set(consent.consentId, consent)
      if (consent.activationDueAt) this.#wakeAfter(Math.max(0, consent.activationDueAt.getTime() - now))
    }
  }

  add(consent: FinqwareConsent): void {
    this.#byId.set(consent.consentId, consent)
  }

  /** By id, seen from one API client: another client's consent is as absent as an unknown one. */
  find(consentId: string, clientId: string): FinqwareConsent | undefined {
    const consent = this.#byId.get(consentId)
    return consent?.clientId === clientId ? consent : undefined
  }

  findAny(consentId: string): FinqwareConsent | undefined {
    return this.#byId.get(consentId)
  }

  findByWebId(webId: string): FinqwareConsent | undefined {
    for (const consent of this.#byId.values()) if (consent.webId === webId) return consent
    return undefined
  }

  findByState(state: string): FinqwareConsent | undefined {
    for (const consent of this.#byId.values()) if (consent.directSca?.state === state) return consent
    return undefined
  }

  all(): FinqwareConsent[] {
    return [...this.#byId.values()]
  }

  /** Sets the status, applies what entering it implies, and reports the change. */
  transition(consent: FinqwareConsent, status: ConsentStatus): void {
    const now = this.#options.clock.now()
    consent.status = status
    consent.activationDueAt = null
    if (status === 'authorized' || status === 'active') {
      consent.authorizedUntil ??= new Date(now.getTime() + consent.consentValidityDays * DAY_MS)
    }
    if (status === 'authorized') {
      consent.activationDueAt = new Date(now.getTime() + this.#options.activationDelayMs)
      this.#wakeAfter(this.#options.activationDelayMs)
    }
    if (status === 'active') this.#completeFirstJob(consent, now)
    this.#options.onStatusChange(consent)
  }

  /** Walks a pending consent forward through the flow up to `target`, one reported transition per step. */
  walkFlow(consent: FinqwareConsent, steps: readonly ConsentStatus[]): void {
    for (const step of steps) {
      const at = PENDING_FLOW_ORDER.indexOf(consent.status)
      const next = PENDING_FLOW_ORDER.indexOf(step)
      if (at >= 0 && next > at) this.transition(consent, step)
    }
  }

  /** Applies every passed deadline; run on each request, each clock change and on a timer. */
  sweep(): void {
    const { clock, validityEndStatus } = this.#options
    for (const consent of this.#byId.values()) {
      // Bounded: each step leaves the statuses the rule came from, so at most three steps per consent.
      for (let step = 0; step < 3; step += 1) {
        const next = dueStatus(consent, clock.now(), validityEndStatus)
        if (next === null) break
        this.transition(consent, next)
      }
    }
  }

  clear(): void {
    this.#byId.clear()
    this.#cancelTimers()
  }

  dispose(): void {
    this.#cancelTimers()
  }

  /** The simulated first data job: fills `accounts` and `latest_completed_job` from the chosen bank. */
  #completeFirstJob(consent: FinqwareConsent, now: Date): void {
    const bank = findBank(consent.providerId)
    consent.accounts ??= (bank?.accounts ?? []).map((account) => ({ account_id: randomUUID(), ...account }))
    consent.latestCompletedJob ??= { job_id: randomUUID(), status: 'job_completed', completed_at: now.toISOString() }
  }

  #wakeAfter(ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.sweep()
    }, ms + TIMER_MARGIN_MS)
    this.#timers.add(timer)
  }

  #cancelTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }
}
