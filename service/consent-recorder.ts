// The one write path for changes to an existing consent: fold what a provider said into it (the transition guard),
// write the next version with its history event and outbox message in one transaction (re-reading and re-applying on
// a lost race), keep the provider-issued secret sealed beside it, and follow up what a change implies (supersession).
import {
  newConsentEvent,
  type Consent,
  type ConsentEventKind,
  type EventSource,
  type Timestamp,
} from '../domain/consent.ts'
import { nextCheckAt, nextDeadline } from '../domain/lifecycle.ts'
import { ConcurrentModificationError, ConsentNotFoundError } from '../domain/errors.ts'
import { notificationFor } from '../domain/notification.ts'
import { applyObservation } from '../domain/observation.ts'
import { isTerminal } from '../domain/status.ts'
import type {
  ProviderAdapter,
  ProviderCallContext,
  ProviderConsentRef,
  ProviderRegistry,
  ProviderSnapshot,
} from '../providers/adapter.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import type { ConsentSecretRepository } from '../store/consent-secret-repository.ts'
import type { LifecycleSettings } from './config.ts'
import type { SecretBox } from '../crypto/secret-box.ts'
import type { Logger } from '../runtime/logging.ts'

export interface ConsentRecorderDependencies {
  readonly consents: ConsentRepository
  readonly secrets: ConsentSecretRepository
  /** Absent when no configured provider issues secrets. */
  readonly secretBox: SecretBox | null
  readonly providers: ProviderRegistry
  readonly clock: () => Date
  readonly newId: () => string
  readonly logger: Logger
  readonly lifecycle: Pick<LifecycleSettings, 'warningOffsetsDays' | 'recheck'>
}

const MAX_WRITE_ATTEMPTS = 4

/** A change that is not (only) a new state: a deadline the sweep reached, recorded as its own kind of event. */
export interface KindedChange {
  readonly consent: Consent
  readonly kind: ConsentEventKind
  readonly deadline: Timestamp
}

/**
 * The consent with its schedule brought up to date: its next deadline, and its next re-check counted from `now` (a
 * write means we just learned its state).
 */
export function scheduled(
  consent: Consent,
  now: Date,
  lifecycle: Pick<LifecycleSettings, 'warningOffsetsDays' | 'recheck'>,
): Consent {
  return {
    ...consent,
    nextDeadline: nextDeadline(consent, lifecycle),
    nextCheckAt: nextCheckAt(consent, now, lifecycle.recheck[consent.provider]),
  }
}

/** How provider-driven changes name their initiator in the history. */
export const providerInitiator = (adapter: ProviderAdapter) => `provider:${adapter.provider.toLowerCase()}`

/**
 * The user reference the consent was created with at its provider: the stored, tenant-scoped one, or the partner's
 * user id for a consent created before references existed (the provider knows it by that).
 */
export const providerUserRefOf = (consent: Pick<Consent, 'providerUserRef' | 'userId'>): string =>
  consent.providerUserRef ?? consent.userId

/** The secret is bound to its consent: a ciphertext moved to another consent does not open. */
const secretContext = (consent: Pick<Consent, 'tenantId' | 'id'>) => `consent-secret:${consent.tenantId}:${consent.id}`

export class ConsentRecorder {
  constructor(private readonly deps: ConsentRecorderDependencies) {}

  /** How `adapter` finds the consent, with its secret opened when the provider needs one. */
  async refFor(consent: Consent, adapter: ProviderAdapter): Promise<ProviderConsentRef> {
    const ref = {
      providerConsentId: consent.providerConsentId,
      userRef: providerUserRefOf(consent),
      institutionId: consent.institution.id,
    }
    if (!adapter.capabilities.usesConsentSecret) return ref
    return { ...ref, secret: await this.#openSecret(consent) }
  }

  async #openSecret(consent: Consent): Promise<string | null> {
    const sealed = await this.deps.secrets.get(consent.tenantId, consent.id)
    if (!sealed || !this.deps.secretBox) return null
    return this.deps.secretBox.open(sealed, secretContext(consent))
  }

  /**
   * Seals and stores a provider-issued secret when it is new, changed, or sealed with a retired key. The call that
   * issued it may have opened an older secret than the one stored now (a webhook's read that began before the callback
   * recorded): where the provider merges secrets, the stored one is merged in rather than lost, and the write holds
   * only if the secret read is still the one stored; otherwise it is read, merged and written again.
   */
  async keepSecret(consent: Consent, secret: string | null | undefined): Promise<void> {
    if (!secret) return
    const box = this.deps.secretBox
    if (!box) throw new Error(`${consent.provider} issues consent secrets, but no token encryption key is configured`)
    const adapter = await this.deps.providers.get(consent.provider)
    for (let attempt = 1; ; attempt++) {
      const sealed = await this.deps.secrets.get(consent.tenantId, consent.id)
      const stored =
        sealed && (adapter.mergeSecrets || !box.isStale(sealed)) ? box.open(sealed, secretContext(consent)) : null
      const next =
        stored !== null && adapter.mergeSecrets
          ? adapter.mergeSecrets(consent.providerConsentId, stored, secret)
          : secret
      if (sealed && !box.isStale(sealed) && stored === next) return
      try {
        const kept = await this.deps.secrets.put(
          consent.tenantId,
          consent.id,
          box.seal(next, secretContext(consent)),
          this.deps.clock(),
          sealed,
        )
        // A concurrent deletion won: the provider no longer honours the secret and it must not come back.
        if (!kept) this.deps.logger.info('provider secret not kept: the consent was deleted', { consentId: consent.id })
        return
      } catch (error) {
        if (!(error instanceof ConcurrentModificationError) || attempt >= MAX_WRITE_ATTEMPTS) throw error
      }
    }
  }

  /** `consent` with its next deadline and re-check scheduled (for a consent written other than through `write`). */
  schedule(consent: Consent, now: Date): Consent {
    return scheduled(consent, now, this.deps.lifecycle)
  }

  /** Crypto-shredding: the consent is gone at its provider, so is its secret here. */
  forgetSecret(consent: Consent): Promise<void> {
    return this.deps.secrets.delete(consent.tenantId, consent.id)
  }

  /**
   * Folds a provider snapshot into the consent and writes the change, keeps any secret it carries, then follows up
   * what the change implies at this provider: linking a superseded consent to its successor, or re-reading the
   * consents a new one replaced.
   */
  async record(
    current: Consent,
    snapshot: ProviderSnapshot,
    source: EventSource,
    initiator: string,
    context: ProviderCallContext,
  ): Promise<Consent> {
    if (snapshot.providerConsentId !== current.providerConsentId) {
      // An answer about another consent (perhaps another tenant's, all tenants share one provider account) must not
      // move this one, nor hand it that consent's secret.
      this.deps.logger.warn('provider answer names another consent; ignored', {
        consentId: current.id,
        provider: current.provider,
        expected: current.providerConsentId,
        named: snapshot.providerConsentId,
      })
      return current
    }
    await this.keepSecret(current, snapshot.secret)
    const recorded = await this.write(
      current,
      (consent, now) => {
        const outcome = applyObservation(consent, snapshot, now)
        if (outcome.kind === 'stale') {
          this.deps.logger.info('stale provider status ignored', {
            consentId: consent.id,
            current: outcome.from,
            reported: outcome.to,
            providerStatus: snapshot.providerStatus,
          })
        }
        return outcome.kind === 'changed' ? outcome.consent : null
      },
      source,
      initiator,
    )
    if (recorded.status !== current.status) {
      // Follow-ups never fail what triggered them: the change is recorded; a later read or job catches up.
      await this.#followUp(recorded, source, initiator, context).catch((error: unknown) =>
        this.deps.logger.warn('follow-up of a status change failed', { consentId: recorded.id, error }),
      )
    }
    return recorded
  }

  /**
   * Writes `change(consent)` as the next version, with its history event and outbox message, in one transaction. On a
   * concurrent write it re-reads and re-applies, so the later writer never clobbers. `change` returns null when there
   * is nothing to write.
   */
  async write(
    current: Consent,
    change: (consent: Consent, now: Date) => Consent | KindedChange | null,
    source: EventSource,
    initiator: string,
  ): Promise<Consent> {
    let consent = current
    for (let attempt = 1; ; attempt++) {
      const now = this.deps.clock()
      const result = change(consent, now)
      if (!result) return consent
      const kinded = 'kind' in result ? result : null
      const changed = kinded ? kinded.consent : (result as Consent)
      const next: Consent = scheduled(
        { ...changed, updatedAt: now.toISOString(), version: consent.version + 1 },
        now,
        this.deps.lifecycle,
      )
      const event = newConsentEvent(next, consent.status, {
        id: this.deps.newId(),
        source,
        initiator,
        ...(kinded ? { kind: kinded.kind, deadline: kinded.deadline } : {}),
      })
      try {
        await this.deps.consents.update(next, consent.version, event, notificationFor(event, next))
        this.deps.logger.info('consent changed', {
          consentId: next.id,
          from: consent.status,
          to: next.status,
          providerStatus: next.providerStatus,
          source,
          version: next.version,
        })
        return next
      } catch (error) {
        if (!(error instanceof ConcurrentModificationError) || attempt >= MAX_WRITE_ATTEMPTS) throw error
        const latest = await this.deps.consents.get(consent.tenantId, consent.id, { consistent: true })
        if (!latest) throw new ConsentNotFoundError(consent.id)
        consent = latest
      }
    }
  }

  async #followUp(consent: Consent, source: EventSource, initiator: string, context: ProviderCallContext) {
    if (consent.status === 'SUPERSEDED') await this.#linkSuccessor(consent, source, initiator)
    if (consent.status === 'ACTIVE') {
      const adapter = await this.deps.providers.get(consent.provider)
      if (adapter.capabilities.supersedesOlderConsents) await this.#refreshReplaced(consent, adapter, context)
    }
  }

  /**
   * The consents of the same user at the same bank and provider, newest first: where a successor or a replaced consent
   * is looked for. Only ever the same tenant's (the user index is per tenant), and only those the provider knows by
   * the same user reference: a consent created under an earlier reference key is another user to the provider, so
   * the provider cannot have replaced it with this one, nor this one with it.
   */
  async #siblings(consent: Consent): Promise<Consent[]> {
    const page = await this.deps.consents.list(
      consent.tenantId,
      { userId: consent.userId, provider: consent.provider, institutionId: consent.institution.id },
      20,
      null,
    )
    const userRef = providerUserRefOf(consent)
    return page.consents.filter(
      (sibling) =>
        sibling.id !== consent.id && sibling.tenantId === consent.tenantId && providerUserRefOf(sibling) === userRef,
    )
  }

  /**
   * A superseded consent points to the newer consent that replaced it, and that one back, when the newer one is ours:
   * the newest later consent of the same user, bank and provider that is still live.
   */
  async #linkSuccessor(superseded: Consent, source: EventSource, initiator: string): Promise<void> {
    if (superseded.supersededBy) return
    const successor = (await this.#siblings(superseded)).find(
      (sibling) => sibling.id > superseded.id && !isTerminal(sibling.status),
    )
    if (!successor) return
    await this.write(
      superseded,
      (c) => (c.supersededBy ? null : { ...c, supersededBy: successor.id }),
      source,
      initiator,
    )
    await this.write(successor, (c) => (c.supersedes ? null : { ...c, supersedes: superseded.id }), source, initiator)
  }

  /**
   * At a provider where authorising a consent ends the user's older consents at the same bank, re-read those now:
   * the provider may not tell us (Worldline stops notifying a few days after a consent's initiation).
   */
  async #refreshReplaced(activated: Consent, adapter: ProviderAdapter, context: ProviderCallContext): Promise<void> {
    for (const older of await this.#siblings(activated)) {
      if (older.id > activated.id || isTerminal(older.status)) continue
      const snapshot = await adapter.fetch(await this.refFor(older, adapter), context)
      await this.record(older, snapshot, 'PROVIDER_POLL', providerInitiator(adapter), context)
    }
  }
}
