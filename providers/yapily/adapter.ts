// The Yapily adapter: redirect-flow consents with a callback to us that brings the consent token, reads with data-call
// evidence (a 403 is a lapsed UK reconfirmation past `reconfirmBy`, otherwise a revocation at the bank),
// re-authorisation in place, UK reconfirmation, deletion, and signed webhooks where configured.
import { PROVIDER_CAPABILITIES } from '../../domain/capabilities.ts'
import { ProviderRejectedError, UnsupportedByProviderError, UnsupportedScopeError } from '../../domain/errors.ts'
import { CONSENT_POLICY } from '../../domain/policy.ts'
import { regionOfCountry, sameScope } from '../../domain/provider.ts'
import type {
  CallbackResult,
  CreateConsentRequest,
  InboundNotification,
  InstitutionInfo,
  ProviderAdapter,
  ProviderCallContext,
  ProviderConsentRef,
  ProviderEvent,
  ProviderRemoval,
  ProviderSnapshot,
} from '../adapter.ts'
import { YapilyClient } from './client.ts'
import type { YapilyConfig } from './config.ts'
import {
  combineSnapshots,
  decodeConsentSet,
  encodeConsentSet,
  mergeConsentSets,
  type HeldConsent,
} from './consent-set.ts'
import { ACCOUNT_AUTHORISATION_FEATURES, featureScopeOf, SCOPE_SETS, snapshotFromConsent } from './mapping.ts'
import { verifyYapilyNotification } from './notifications.ts'

export class YapilyAdapter implements ProviderAdapter {
  readonly provider = 'YAPILY' as const
  readonly displayName = 'Yapily'
  readonly capabilities

  readonly #client: YapilyClient
  #institutions: { at: number; list: Promise<InstitutionInfo[]> } | null = null

  constructor(private readonly config: YapilyConfig) {
    this.#client = new YapilyClient(config)
    this.capabilities = {
      ...PROVIDER_CAPABILITIES.YAPILY,
      // Private beta, and signed by a scheme Yapily does not document: only with a configured secret.
      webhooks: Boolean(config.webhookSecret),
      scopes: SCOPE_SETS,
    }
  }

  listInstitutions(context: ProviderCallContext): Promise<InstitutionInfo[]> {
    const maxAge = this.config.institutionsCacheMs ?? 3_600_000
    if (this.#institutions && Date.now() - this.#institutions.at < maxAge) return this.#institutions.list
    const list = this.#client.listInstitutions(context).then((institutions) =>
      institutions.flatMap((institution) => {
        // Only institutions that can take an account authorisation request; an institution is placed by the first of
        // its countries in the UK or the EEA, wherever that country stands in its list.
        if (!institution.features?.some((feature) => ACCOUNT_AUTHORISATION_FEATURES.has(feature))) return []
        const placed = (institution.countries ?? [])
          .map((entry) => ({ country: entry.countryCode2 ?? '', region: regionOfCountry(entry.countryCode2) }))
          .find((entry) => entry.region !== null)
        return placed?.region
          ? [
              {
                id: institution.id,
                name: institution.name ?? institution.fullName ?? institution.id,
                country: placed.country.toUpperCase(),
                region: placed.region,
              },
            ]
          : []
      }),
    )
    this.#institutions = { at: Date.now(), list }
    list.catch(() => (this.#institutions = null))
    return list
  }

  async create(request: CreateConsentRequest, context: ProviderCallContext): Promise<ProviderSnapshot> {
    if (!SCOPE_SETS.some((set) => sameScope(set, request.scope))) {
      throw new UnsupportedScopeError('YAPILY', request.scope, SCOPE_SETS)
    }
    // A hard `expiresAt` opts out of Yapily's re-authorisable long-lived consent (Yapily API 12.13.0): ask for one only
    // when the partner wants less than the regional maximum.
    const wantsShorter = request.validityDays < CONSENT_POLICY.maxValidityDays[request.region]
    const body = await this.#client.createAuthorisation(
      {
        applicationUserId: request.userRef,
        institutionId: request.institution.id,
        callback: request.callbackUrl,
        featureScope: featureScopeOf(request.scope),
        expiresAt: wantsShorter ? new Date(Date.now() + request.validityDays * 86_400_000).toISOString() : null,
      },
      context,
    )
    // Yapily documents no deadline for the bank link; its FAQ treats a consent still waiting after minutes as
    // abandoned, which is for the partner to judge.
    return { ...snapshotFromConsent(body), linkExpiresAt: null }
  }

  /**
   * The consent as Yapily records it, plus evidence where its label may lag: for an AUTHORIZED consent one data call
   * is made. A 403 there is one of two things (docs/providers.md, Yapily): past `reconfirmBy` (Yapily's clock), a UK
   * reconfirmation that lapsed, which extend fixes, so the consent stays ACTIVE and its passed `reconfirmBy` tells the
   * partner to reconfirm; before it, the user revoked access at the bank. A consent held as several Yapily consents
   * (one per account) reads as the least healthy of them; the tokens a callback brought join the set here.
   */
  async fetch(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot> {
    const [own = { id: ref.providerConsentId, token: null }, ...held] = decodeConsentSet(
      ref.providerConsentId,
      ref.secret,
    )
    const first = await this.#read(own, context)
    const ownToken = first.secret ?? own.token
    const others = ref.callbackSecrets?.length ? await this.#adopt(ref, ownToken, held, context) : held
    if (others.length === 0) return first
    const rest = await Promise.all(others.map((consent) => this.#read(consent, context)))
    return this.#combine({ ...own, token: ownToken }, first, others, rest)
  }

  async #read(consent: HeldConsent, context: ProviderCallContext): Promise<ProviderSnapshot> {
    const snapshot = snapshotFromConsent(await this.#client.getConsent(consent.id, context))
    const token = snapshot.secret ?? consent.token
    if (snapshot.status === 'ACTIVE' && token) {
      const probe = await this.#client.probeAccounts(token, context)
      if (probe === 'forbidden' && !this.#reconfirmationLapsed(snapshot)) {
        return { ...snapshot, status: 'REVOKED', reason: 'REVOKED_AT_BANK' }
      }
    }
    return snapshot
  }

  #reconfirmationLapsed(snapshot: ProviderSnapshot): boolean {
    const reconfirmBy = snapshot.reconfirmBy ? Date.parse(snapshot.reconfirmBy) : Number.NaN
    return reconfirmBy <= this.#client.providerNow().getTime()
  }

  /**
   * The further consents a callback's tokens name, taken only while the consent is held as one (the callback of its
   * first authorisation) and only where Yapily lists the token among this user's consents at this bank: a token it
   * does not hold there (forged, replayed from elsewhere) is dropped and logged, never trusted.
   */
  async #adopt(
    ref: ProviderConsentRef,
    ownToken: string | null,
    held: readonly HeldConsent[],
    context: ProviderCallContext,
  ): Promise<HeldConsent[]> {
    const brought = [...new Set(ref.callbackSecrets)].filter((token) => token !== ownToken)
    if (brought.length === 0 || held.length > 0) return [...held]
    const listed = await this.#client.listConsents(ref.userRef, ref.institutionId, context)
    const adopted: HeldConsent[] = []
    for (const token of brought) {
      const found = listed.find((consent) => consent.consentToken === token && consent.id !== ref.providerConsentId)
      if (found) adopted.push({ id: found.id, token })
      else
        context.logger.warn('callback token not held by Yapily for this user and bank; ignored', {
          ref: ref.providerConsentId,
        })
    }
    return adopted
  }

  #combine(
    own: HeldConsent,
    first: ProviderSnapshot,
    others: readonly HeldConsent[],
    rest: readonly ProviderSnapshot[],
  ): ProviderSnapshot {
    const set = [own, ...others.map((consent, index) => ({ ...consent, token: rest[index]?.secret ?? consent.token }))]
    return combineSnapshots(first, rest, encodeConsentSet(set))
  }

  /** Yapily has no revoke other than deleting the consent. */
  async revoke(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot> {
    return (await this.remove(ref, context)).snapshot
  }

  /** Deletes every Yapily consent the consent is held as; FAILED when any deletion failed. */
  async remove(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderRemoval> {
    const [own = { id: ref.providerConsentId, token: null }, ...others] = decodeConsentSet(
      ref.providerConsentId,
      ref.secret,
    )
    const first = await this.#removeOne(own, context)
    if (others.length === 0) return first
    const rest: ProviderRemoval[] = []
    for (const consent of others) rest.push(await this.#removeOne(consent, context))
    const removals = [first, ...rest]
    const atInstitution = removals.map((removal) => removal.deletedAtInstitution)
    return {
      snapshot: this.#combine(
        own,
        first.snapshot,
        others,
        rest.map((removal) => removal.snapshot),
      ),
      deleteStatus: removals.some((removal) => removal.deleteStatus === 'FAILED') ? 'FAILED' : 'SUCCESS',
      deletedAtInstitution: atInstitution.includes(false)
        ? false
        : atInstitution.every((value) => value === true)
          ? true
          : null,
    }
  }

  async #removeOne(held: HeldConsent, context: ProviderCallContext): Promise<ProviderRemoval> {
    const deletion = await this.#client.deleteConsent(held.id, context)
    const deleteStatus = deletion.deleteStatus === 'FAILED' ? 'FAILED' : 'SUCCESS'
    let consent: Awaited<ReturnType<YapilyClient['getConsent']>> | null = null
    try {
      consent = await this.#client.getConsent(held.id, context)
    } catch (error) {
      // A deleted consent may be gone from Yapily's reads altogether (not published): the delete answer is then all we
      // know.
      if (!(error instanceof ProviderRejectedError && error.providerHttpStatus === 404)) throw error
    }
    const snapshot: ProviderSnapshot = consent
      ? snapshotFromConsent(consent)
      : deleteStatus === 'SUCCESS'
        ? {
            providerConsentId: held.id,
            providerStatus: 'REVOKED',
            status: 'REVOKED',
            reason: 'REVOKED_BY_TPP',
          }
        : await this.#read(held, context)
    return { snapshot, deleteStatus, deletedAtInstitution: consent?.isDeletedByInstitution ?? null }
  }

  /**
   * Same consent id and token; the new `authorisationUrl` takes the user through SCA again. Not for a consent held as
   * one Yapily consent per account: each would need its own bank visit, and a consent shows one link.
   */
  async reauthorize(ref: ProviderConsentRef, context: ProviderCallContext): Promise<ProviderSnapshot> {
    const held = decodeConsentSet(ref.providerConsentId, ref.secret)
    if (held.length > 1) {
      throw new UnsupportedByProviderError('YAPILY', 're-authorisation of a consent held as one consent per account')
    }
    const token = held[0]?.token
    if (!token) {
      throw new ProviderRejectedError(
        'YAPILY',
        'no_consent_token',
        'the consent was never authorised: no token to re-authorise',
        400,
      )
    }
    return snapshotFromConsent(await this.#client.reauthorise(token, context))
  }

  /** Records the reconfirmation on every Yapily consent the consent is held as. */
  async reconfirm(ref: ProviderConsentRef, confirmedAt: Date, context: ProviderCallContext): Promise<ProviderSnapshot> {
    // Yapily refuses a time in its future, and clocks drift. Its clock is known from the Date of its answers, to the
    // second: only a time clearly past that (beyond the second) is pulled back to it.
    const providerNow = this.#client.providerNow().getTime()
    const sent = (confirmedAt.getTime() > providerNow + 1_000 ? new Date(providerNow) : confirmedAt).toISOString()
    const [own = { id: ref.providerConsentId, token: null }, ...others] = decodeConsentSet(
      ref.providerConsentId,
      ref.secret,
    )
    const first = snapshotFromConsent(await this.#client.extend(own.id, sent, context))
    if (others.length === 0) return first
    const rest: ProviderSnapshot[] = []
    for (const consent of others) rest.push(snapshotFromConsent(await this.#client.extend(consent.id, sent, context)))
    return this.#combine({ ...own, token: first.secret ?? own.token }, first, others, rest)
  }

  /** A consent's set only grows: a read that opened an older set keeps what was added since (docs/providers.md). */
  mergeSecrets(providerConsentId: string, stored: string, issued: string): string {
    return mergeConsentSets(providerConsentId, stored, issued)
  }

  /**
   * `consent=<token>` on success, once per consent where the bank returns one consent per account (`secrets`, in
   * order; `secret` is the first), `error=...` otherwise.
   */
  readCallback(query: URLSearchParams): CallbackResult {
    const error = query.get('error')
    const secrets = query.getAll('consent').filter((token) => token !== '')
    return { secret: secrets[0] ?? null, secrets, error, denied: error === 'access_denied' }
  }

  async verifyNotification(notification: InboundNotification): Promise<ProviderEvent[]> {
    return verifyYapilyNotification(notification, this.config.webhookSecret, {
      signatureHeader: this.config.webhookSignatureHeader,
      consentEventType: this.config.webhookConsentEventType,
    })
  }
}

export function createYapilyAdapter(config: YapilyConfig): YapilyAdapter {
  return new YapilyAdapter(config)
}
