// The sandbox's consents in memory: lookups, status transitions with their side effects (supersession,
// notifications), the lazy expiry sweep, and bank-side expiry.
import { randomUUID } from 'node:crypto'
import type { SandboxClock } from '../shared/clock.ts'
import { findAspsp } from './aspsps.ts'
import type { ConsentStatus, HolderAuthorisation, WorldlineConsent } from './consent.ts'
import { insideNotificationWindow, isDueToExpire } from './deadlines.ts'

export interface ConsentStoreOptions {
  clock: SandboxClock
  /** Worldline polls the bank (and notifies) only this long after initiation. */
  notificationWindowMs: number
  /**
   * Called for a status change of a consent that has a notification target, while Worldline still polls it
   * (inside the window). Creation is not a change: no notification for `Open`.
   */
  notify: (consent: WorldlineConsent, changedAt: Date) => void
}

/** What `bank-expiry` did: Worldline learnt it (status `Expired`), or the status still hides it. */
export type BankExpiryOutcome = 'learnt' | 'hidden'

export class ConsentStore {
  readonly #options: ConsentStoreOptions
  readonly #byId = new Map<string, WorldlineConsent>()

  constructor(options: ConsentStoreOptions) {
    this.#options = options
  }

  /** Takes back the consents of a saved state, in their order. */
  load(consents: readonly WorldlineConsent[]): void {
    for (const consent of consents) this.#byId.set(consent.consentId, consent)
  }

  add(consent: WorldlineConsent): void {
    this.#byId.set(consent.consentId, consent)
  }

  /** By id, seen from one PSU: another PSU's consent is as absent as an unknown one. */
  find(psuId: string, consentId: string): WorldlineConsent | undefined {
    const consent = this.#byId.get(consentId)
    return consent?.psuId === psuId ? consent : undefined
  }

  findAny(consentId: string): WorldlineConsent | undefined {
    return this.#byId.get(consentId)
  }

  /** The consent and holder authorisation behind a bank page id. */
  findByPage(pageId: string): { consent: WorldlineConsent; authorisation: HolderAuthorisation } | undefined {
    for (const consent of this.#byId.values()) {
      const authorisation = consent.authorisations.find((candidate) => candidate.pageId === pageId)
      if (authorisation) return { consent, authorisation }
    }
    return undefined
  }

  /** In creation order. */
  all(): WorldlineConsent[] {
    return [...this.#byId.values()]
  }

  /** Whether Worldline still polls the bank for this consent (its notification window is open). */
  polled(consent: WorldlineConsent, now = this.#options.clock.now()): boolean {
    return insideNotificationWindow(consent.createdAt, now, this.#options.notificationWindowMs)
  }

  /** Sets the status, applies what entering it implies, reports it, then supersedes older authorised consents. */
  transition(consent: WorldlineConsent, status: ConsentStatus): void {
    const now = this.#options.clock.now()
    consent.status = status
    if (status === 'Authorised') {
      consent.authorisedAt = now
      consent.holdersDone = consent.holdersRequired
      consent.accounts ??= (findAspsp(consent.aspspId)?.accounts ?? []).map((account) => ({
        AccountId: randomUUID(),
        Iban: account.iban,
        Currency: account.currency,
        Name: account.name,
      }))
    }
    if (status === 'PartiallyAuthorised') {
      // A forced PartiallyAuthorised still needs a holder left to authorise.
      consent.holdersRequired = Math.max(consent.holdersRequired, 2)
      consent.holdersDone = Math.min(Math.max(consent.holdersDone, 1), consent.holdersRequired - 1)
    }
    this.#report(consent, now)
    if (status === 'Authorised') this.#supersedeOthers(consent)
  }

  /** Expires every authorised consent past the end of its `ValidUntilDate`; run on requests, clock changes, a timer. */
  sweep(): void {
    const now = this.#options.clock.now()
    for (const consent of this.#byId.values()) {
      if (isDueToExpire(consent, now)) this.transition(consent, 'Expired')
    }
  }

  /**
   * The bank expires the consent. Inside the polling window Worldline learns it (status `Expired`, notified);
   * after it, Worldline no longer polls, so its status keeps saying what it said (docs/providers.md, Worldline evidence: Notifications), while
   * data calls answer 401 code 123 either way.
   */
  expireAtBank(consent: WorldlineConsent): BankExpiryOutcome {
    consent.bankExpired = true
    if (!this.polled(consent)) return 'hidden'
    this.transition(consent, 'Expired')
    return 'learnt'
  }

  clear(): void {
    this.#byId.clear()
  }

  #report(consent: WorldlineConsent, now: Date): void {
    if (consent.notification && this.polled(consent, now)) this.#options.notify(consent, now)
  }

  /** One active consent per PSU and bank (docs/providers.md, Worldline evidence: Statuses): every other authorised one becomes Inactive. */
  #supersedeOthers(newest: WorldlineConsent): void {
    for (const other of this.#byId.values()) {
      if (other === newest || other.status !== 'Authorised') continue
      if (other.psuId === newest.psuId && other.aspspId === newest.aspspId) this.transition(other, 'Inactive')
    }
  }
}
