// The consent use cases: create, read, list, refresh, revoke, and provider notifications. The only place that
// combines the store, the provider adapters and the domain rules.
import { checkWebhookUrl as checkDeliveryUrl } from '../outbound/addresses.ts'
import { createHash } from 'node:crypto'
import { newConsent, newConsentEvent, type Consent, type ConsentEvent } from '../domain/consent.ts'
import { effectiveStatus, showingAs } from '../domain/derived.ts'
import {
  ConsentNotActiveError,
  ConsentNotFoundError,
  ForbiddenError,
  InstitutionNotFoundError,
  UnsupportedScopeError,
  ValidationError,
  type ValidationIssue,
} from '../domain/errors.ts'
import { notificationFor } from '../domain/notification.ts'
import { resolveConsentTerms } from '../domain/policy.ts'
import {
  DEFAULT_SCOPE,
  normalizeScope,
  sameScope,
  type DataScope,
  type Provider,
  type Region,
} from '../domain/provider.ts'
import { isTerminal, type ConsentStatus } from '../domain/status.ts'
import {
  NotificationRejectedError,
  type InboundNotification,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderEvent,
  type ProviderRegistry,
} from '../providers/adapter.ts'
import type { ConsentRepository } from '../store/consent-repository.ts'
import type { EventRepository } from '../store/event-repository.ts'
import { CursorCodec, queryFingerprint } from '../store/cursor.ts'
import type { IdempotencyRepository } from '../store/idempotency-repository.ts'
import type { NotificationReceiptRepository } from '../store/notification-receipt-repository.ts'
import type { CallbackLinks } from './callback-links.ts'
import { providerInitiator, type ConsentRecorder } from './consent-recorder.ts'
import { canSee, isNarrowed, requireWrite, type AccessScope } from './principal.ts'
import type { UserReferences } from '../crypto/user-references.ts'
import type { Logger } from '../runtime/logging.ts'

/**
 * Who is acting: what they may reach (their tenant, and for an end user's token that user and perhaps some consents),
 * what the audit trail records, and provider call correlation.
 */
export interface Caller extends AccessScope {
  /** Recorded on history events (domain/actor.ts), e.g. `api-client:<clientId>`. */
  readonly initiator: string
  readonly requestId: string
  readonly signal?: AbortSignal | undefined
}

/** What a client filters a consent list by. */
export interface ConsentFilter {
  /** Statuses as clients see them (the effective status), any of. */
  readonly status?: readonly ConsentStatus[] | undefined
  readonly provider?: Provider | undefined
  readonly userId?: string | undefined
  readonly institutionId?: string | undefined
  /** Only these consents (at most 100 ids: a token restricted to some consents). */
  readonly consentIds?: readonly string[] | undefined
}

export interface CreateConsentInput {
  readonly provider: Provider
  readonly institutionId: string
  /** The partner's user; with an end user's token, that user (left out, or the same). */
  readonly userId?: string | null | undefined
  readonly region: Region
  readonly scope?: readonly DataScope[] | null | undefined
  readonly validityDays?: number | null | undefined
  readonly linkExpiresInDays?: number | null | undefined
  readonly redirectUrl?: string | null | undefined
  readonly webhookUrl?: string | null | undefined
  readonly idempotencyKey?: string | null | undefined
}

export interface ConsentConnection {
  readonly edges: readonly { readonly cursor: string; readonly node: Consent }[]
  readonly pageInfo: {
    readonly hasNextPage: boolean
    readonly hasPreviousPage: boolean
    readonly startCursor: string | null
    readonly endCursor: string | null
  }
}

export interface ConsentServiceOptions {
  /** Accept `http://localhost` webhook URLs (local mode only); https is required otherwise. */
  readonly allowLocalHttpWebhooks: boolean
  /** Local mode: the local stack's own ports, never a webhook target. */
  readonly ownPorts?: ReadonlySet<number>
  /** Our public URL for each provider's notifications (the adapter passes it to the provider). */
  readonly notificationUrl: (provider: Provider) => string
  /** Key for pagination cursors (>= 32 bytes). */
  readonly cursorSecret: string
  /** A provider notification dated further than this from our clock, either way, is refused. */
  readonly notificationToleranceMs: number
}

export interface ConsentServiceDependencies {
  readonly consents: ConsentRepository
  /** The consents' histories and the tenant's events. */
  readonly events: EventRepository
  readonly recorder: ConsentRecorder
  readonly callbackLinks: CallbackLinks
  /** What each provider is told instead of the partner's user id. */
  readonly userReferences: UserReferences
  readonly idempotency: IdempotencyRepository
  readonly receipts: NotificationReceiptRepository
  readonly providers: ProviderRegistry
  readonly clock: () => Date
  readonly newId: () => string
  readonly logger: Logger
}

/**
 * What happened to one provider notification: answered to the provider as 200 (applied, unchanged, or a replay of
 * one already processed), 404 when the consent is unknown, 503 while the same delivery is being processed.
 */
export type NotificationOutcome = {
  readonly providerConsentId: string
  readonly result: 'applied' | 'unchanged' | 'replayed' | 'unknown_consent' | 'in_progress'
}

/** Schemes a redirect may never use: they run code or read local files in the user's browser. */
const FORBIDDEN_REDIRECT_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:'])

export class ConsentService {
  readonly #cursors: CursorCodec

  constructor(
    private readonly deps: ConsentServiceDependencies,
    private readonly options: ConsentServiceOptions,
  ) {
    this.#cursors = new CursorCodec(options.cursorSecret)
  }

  #context(caller: Pick<Caller, 'requestId' | 'signal'>): ProviderCallContext {
    return { requestId: caller.requestId, logger: this.deps.logger, signal: caller.signal }
  }

  /**
   * Creates a consent at its provider and records it. With an idempotency key, a repeat with the same input returns
   * the same consent (`replayed: true`); the same key with different input is IDEMPOTENCY_KEY_REUSED.
   */
  async create(caller: Caller, input: CreateConsentInput): Promise<{ consent: Consent; replayed: boolean }> {
    // 0. Who may create, and for which user: an end user's token creates for its own user only.
    requireWrite(caller)
    if (caller.consentIds) {
      throw new ForbiddenError('A token restricted to some consents may not create one: mint one without consentIds')
    }
    // 1. Everything that needs no I/O, so bad input costs nothing and changes nothing.
    const terms = resolveConsentTerms(input)
    const scope = normalizeScope(input.scope?.length ? input.scope : DEFAULT_SCOPE)
    const issues: ValidationIssue[] = []
    const userId = caller.userId ?? input.userId ?? ''
    if (caller.userId !== undefined && input.userId != null && input.userId !== caller.userId) {
      issues.push({ path: 'input.userId', message: "must be the token's own user, or left out" })
    } else if (!userId) {
      issues.push({ path: 'input.userId', message: 'is required with API client credentials' })
    }
    if (input.scope && input.scope.length === 0) issues.push({ path: 'input.scope', message: 'must not be empty' })
    if (input.redirectUrl) checkRedirectUrl(input.redirectUrl, issues)
    if (input.webhookUrl) checkWebhookUrl(input.webhookUrl, this.options, issues)
    if (issues.length) throw new ValidationError(issues)

    const adapter = await this.deps.providers.get(input.provider)
    checkAgainstCapabilities(adapter, input.region, scope, terms.validityDays)

    // 2. Idempotency: claim the key before any provider call.
    // An end user's keys are their own: neither another user's nor the partner's key can answer them, or tell they
    // were used. Partner keys are printable ASCII without spaces, so nothing after a space can be one of theirs.
    const idempotencyKey = input.idempotencyKey
      ? caller.userId === undefined
        ? input.idempotencyKey
        : `${input.idempotencyKey} ${caller.userId}`
      : null
    let leaseToken: string | null = null
    if (idempotencyKey) {
      const inputHash = hashInput({
        provider: input.provider,
        institutionId: input.institutionId,
        userId,
        region: input.region,
        scope,
        validityDays: terms.validityDays,
        linkExpiresInDays: terms.linkExpiresInDays,
        redirectUrl: input.redirectUrl ?? null,
        webhookUrl: input.webhookUrl ?? null,
      })
      const claim = await this.deps.idempotency.claim(caller.tenantId, idempotencyKey, inputHash, this.deps.clock())
      if (claim.kind === 'completed') {
        const existing = await this.deps.consents.get(caller.tenantId, claim.consentId, { consistent: true })
        if (existing && canSee(caller, existing)) return { consent: existing, replayed: true }
        throw new ConsentNotFoundError(claim.consentId)
      }
      leaseToken = claim.leaseToken
    }

    try {
      const institutions = await adapter.listInstitutions(this.#context(caller))
      const institution = institutions.find((candidate) => candidate.id === input.institutionId)
      if (!institution) throw new InstitutionNotFoundError(input.provider, input.institutionId)
      if (institution.region !== input.region) {
        throw ValidationError.of(
          'input.region',
          `${institution.name} is in the ${institution.region} region, not ${input.region}`,
        )
      }

      const consentId = this.deps.newId()
      // Tenant-scoped at the provider: another tenant's `user-1` is another user there, so its consents never
      // supersede (or are found as) this tenant's.
      const providerUserRef = this.deps.userReferences.for(caller.tenantId, userId)
      const snapshot = await adapter.create(
        {
          consentId,
          userRef: providerUserRef,
          institution,
          region: input.region,
          scope,
          validityDays: terms.validityDays,
          linkExpiresInDays: terms.linkExpiresInDays,
          notificationUrl: this.options.notificationUrl(input.provider),
          callbackUrl: this.deps.callbackLinks.urlFor(input.provider, { tenantId: caller.tenantId, consentId }),
        },
        this.#context(caller),
      )

      const clock = this.deps.clock()
      const unscheduled = newConsent({
        id: consentId,
        tenantId: caller.tenantId,
        provider: input.provider,
        providerConsentId: snapshot.providerConsentId,
        userId,
        providerUserRef,
        institution,
        region: input.region,
        scope,
        validityDays: terms.validityDays,
        observed: snapshot,
        redirectUrl: input.redirectUrl,
        webhookUrl: input.webhookUrl,
        at: clock.toISOString(),
      })
      const consent = this.deps.recorder.schedule(unscheduled, clock)
      await this.deps.recorder.keepSecret(consent, snapshot.secret)
      const event = newConsentEvent(consent, null, {
        id: this.deps.newId(),
        source: 'API',
        initiator: caller.initiator,
      })
      try {
        await this.deps.consents.create(
          consent,
          event,
          notificationFor(event, consent),
          idempotencyKey && leaseToken ? { idempotencyKey, leaseToken } : undefined,
        )
      } catch (error) {
        // The provider holds a consent we failed to record: withdraw it rather than leave an orphan.
        await adapter
          .revoke(await this.deps.recorder.refFor(consent, adapter), this.#context(caller))
          .catch((revokeError: unknown) =>
            this.deps.logger.error('orphaned provider consent', {
              provider: consent.provider,
              providerConsentId: consent.providerConsentId,
              error: revokeError,
            }),
          )
        throw error
      }
      this.deps.logger.info('consent created', { consentId, provider: consent.provider, status: consent.status })
      return { consent, replayed: false }
    } catch (error) {
      if (idempotencyKey && leaseToken) {
        await this.deps.idempotency.release(caller.tenantId, idempotencyKey, leaseToken).catch(() => undefined)
      }
      throw error
    }
  }

  /**
   * One consent the caller can see; CONSENT_NOT_FOUND for a missing id and, exactly alike, for another tenant's, or
   * (with an end user's token) another user's or one outside the token's consents.
   */
  async get(scope: AccessScope, consentId: string): Promise<Consent> {
    const consent = await this.deps.consents.get(scope.tenantId, consentId)
    if (!consent || !canSee(scope, consent)) throw new ConsentNotFoundError(consentId)
    return consent
  }

  /** Consents by id, in order; null for a missing one and for one the caller cannot see. */
  async getMany(scope: AccessScope, consentIds: readonly string[]): Promise<(Consent | null)[]> {
    const consents = await this.deps.consents.getMany(scope.tenantId, consentIds)
    return consents.map((consent) => (consent && canSee(scope, consent) ? consent : null))
  }

  /** Events by id, in order; null for a missing one and for one of a consent the caller cannot see. */
  async eventsById(scope: AccessScope, eventIds: readonly string[]): Promise<(ConsentEvent | null)[]> {
    const events = await Promise.all(eventIds.map((id) => this.deps.events.eventOfTenant(scope.tenantId, id)))
    if (!isNarrowed(scope)) return events
    const consentIds = [...new Set(events.flatMap((event) => (event ? [event.consentId] : [])))]
    const visible = new Set((await this.getMany(scope, consentIds)).flatMap((consent) => (consent ? [consent.id] : [])))
    return events.map((event) => (event && visible.has(event.consentId) ? event : null))
  }

  /** A consent's history, oldest first; CONSENT_NOT_FOUND for a consent the caller cannot see. */
  async history(scope: AccessScope, consentId: string): Promise<ConsentEvent[]> {
    // The tenant is in the key; a narrower caller's consent is checked first.
    if (isNarrowed(scope)) await this.get(scope, consentId)
    return this.deps.events.history(scope.tenantId, consentId)
  }

  /**
   * A page of the consents the caller can see, newest first; cursors are signed and bound to this tenant and filter.
   * With an end user's token the list is that user's (a filter naming another user finds nothing), and only the
   * token's consents when it names some.
   */
  async list(
    scope: AccessScope,
    requested: ConsentFilter,
    first: number,
    after: string | null,
  ): Promise<ConsentConnection> {
    const otherUser = scope.userId !== undefined && requested.userId !== undefined && requested.userId !== scope.userId
    const filter: ConsentFilter = {
      ...requested,
      userId: scope.userId ?? requested.userId,
      ...(scope.consentIds ? { consentIds: [...scope.consentIds].sort() } : {}),
    }
    const fingerprint = queryFingerprint({
      tenant: scope.tenantId,
      status: filter.status ? [...new Set(filter.status)].sort() : undefined,
      provider: filter.provider,
      userId: filter.userId,
      institutionId: filter.institutionId,
      consentIds: filter.consentIds,
    })
    const position = after === null ? null : this.#cursors.decode(after, fingerprint)
    const page =
      otherUser || filter.consentIds?.length === 0
        ? { consents: [], hasNextPage: false, resumeAfter: null }
        : await this.deps.consents.list(
            scope.tenantId,
            {
              provider: filter.provider,
              userId: filter.userId,
              institutionId: filter.institutionId,
              consentIds: filter.consentIds,
              ...(filter.status?.length ? showingAs(filter.status, this.deps.clock()) : {}),
            },
            first,
            position,
          )
    const edges = page.consents.map((node) => ({ node, cursor: this.#cursors.encode(fingerprint, node.id) }))
    const endCursor =
      page.hasNextPage && page.resumeAfter
        ? this.#cursors.encode(fingerprint, page.resumeAfter)
        : (edges.at(-1)?.cursor ?? null)
    return {
      edges,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: position !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor,
      },
    }
  }

  /** Re-reads the consent at its provider and records any change. A final consent is returned as it is. */
  async refresh(caller: Caller, consentId: string): Promise<Consent> {
    requireWrite(caller)
    const consent = await this.get(caller, consentId)
    if (isTerminal(consent.status)) return consent
    const adapter = await this.deps.providers.get(consent.provider)
    const snapshot = await adapter.fetch(await this.deps.recorder.refFor(consent, adapter), this.#context(caller))
    return this.deps.recorder.record(consent, snapshot, 'PROVIDER_POLL', caller.initiator, this.#context(caller))
  }

  /**
   * Revokes the consent at its provider. Revoking a revoked consent returns it unchanged; a consent that is already
   * over in another way (expired, failed, ...) is CONSENT_NOT_ACTIVE and nothing is called.
   */
  async revoke(caller: Caller, consentId: string): Promise<Consent> {
    requireWrite(caller)
    const consent = await this.deps.consents.get(caller.tenantId, consentId, { consistent: true })
    if (!consent || !canSee(caller, consent)) throw new ConsentNotFoundError(consentId)
    if (consent.status === 'REVOKED') return consent
    const shown = effectiveStatus(consent, this.deps.clock()).status
    if (isTerminal(shown)) throw new ConsentNotActiveError(consent.id, shown, 'revoke')

    const adapter = await this.deps.providers.get(consent.provider)
    const snapshot = await adapter.revoke(await this.deps.recorder.refFor(consent, adapter), this.#context(caller))
    const result = await this.deps.recorder.record(consent, snapshot, 'API', caller.initiator, this.#context(caller))
    // The provider knew better (it had expired or failed meanwhile): the truth is recorded, the revoke is refused.
    if (result.status !== 'REVOKED') throw new ConsentNotActiveError(consent.id, result.status, 'revoke')
    return result
  }

  /**
   * Handles a provider notification: authenticity first (the adapter throws on a bad signature), then freshness (one
   * dated outside the tolerance is refused), then, once per delivery id where the provider sends one, for each consent
   * it names, the provider's current state is read and recorded. Reading instead of trusting the pushed status makes
   * duplicates and out-of-order deliveries harmless where a replay cannot be told apart.
   */
  async ingestNotification(
    provider: Provider,
    notification: InboundNotification,
    requestId: string,
  ): Promise<NotificationOutcome[]> {
    const adapter = await this.deps.providers.get(provider)
    const events = await adapter.verifyNotification(notification)
    const now = this.deps.clock()
    // A provider dates its notifications by its own clock: compared with what we know of it, skew is not staleness.
    const providerNow = adapter.providerNow?.() ?? now
    for (const event of events) this.#checkFreshness(event, providerNow)
    const outcomes: NotificationOutcome[] = []
    for (const event of events) {
      if (!event.deliveryId) {
        outcomes.push(await this.#ingestEvent(adapter, event, requestId))
        continue
      }
      const claim = await this.deps.receipts.claim(provider, event.deliveryId, now)
      if (claim.kind !== 'claimed') {
        this.deps.logger.info('provider notification already taken in', {
          provider,
          deliveryId: event.deliveryId,
          state: claim.kind,
        })
        const result = claim.kind === 'processed' ? 'replayed' : 'in_progress'
        outcomes.push({ providerConsentId: event.providerConsentId, result })
        continue
      }
      let outcome: NotificationOutcome
      try {
        outcome = await this.#ingestEvent(adapter, event, requestId)
      } catch (error) {
        await this.deps.receipts.release(provider, event.deliveryId, claim.leaseToken).catch(() => undefined)
        throw error
      }
      // An unknown consent is answered 404 for the provider to retry (it may race our own write): not taken in.
      if (outcome.result === 'unknown_consent') {
        await this.deps.receipts.release(provider, event.deliveryId, claim.leaseToken)
      } else {
        await this.deps.receipts.complete(provider, event.deliveryId, claim.leaseToken, this.deps.clock())
      }
      outcomes.push(outcome)
    }
    return outcomes
  }

  #checkFreshness(event: ProviderEvent, providerNow: Date): void {
    if (!event.sentAt) return
    const skewMs = providerNow.getTime() - Date.parse(event.sentAt)
    const toleranceMs = this.options.notificationToleranceMs
    if (skewMs > toleranceMs) {
      throw new NotificationRejectedError(`notification sent at ${event.sentAt} is older than the tolerance`, 'stale')
    }
    if (-skewMs > toleranceMs) {
      throw new NotificationRejectedError(`notification sent at ${event.sentAt} is dated in the future`, 'stale')
    }
  }

  async #ingestEvent(adapter: ProviderAdapter, event: ProviderEvent, requestId: string): Promise<NotificationOutcome> {
    const { provider } = adapter
    const ref = await this.deps.consents.findByProviderRef(provider, event.providerConsentId)
    const consent = ref && (await this.deps.consents.get(ref.tenantId, ref.consentId, { consistent: true }))
    if (!consent) return { providerConsentId: event.providerConsentId, result: 'unknown_consent' }
    const context = { requestId, logger: this.deps.logger }
    const snapshot = await adapter.fetch(await this.deps.recorder.refFor(consent, adapter), context)
    const recorded = await this.deps.recorder.record(
      consent,
      snapshot,
      'PROVIDER_WEBHOOK',
      providerInitiator(adapter),
      context,
    )
    return {
      providerConsentId: event.providerConsentId,
      result: recorded.version === consent.version ? 'unchanged' : 'applied',
    }
  }
}

function checkAgainstCapabilities(
  adapter: ProviderAdapter,
  region: Region,
  scope: DataScope[],
  validityDays: number,
): void {
  const { capabilities } = adapter
  if (!capabilities.scopes.some((allowed) => sameScope(allowed, scope))) {
    throw new UnsupportedScopeError(adapter.provider, scope, capabilities.scopes)
  }
  const issues: ValidationIssue[] = []
  if (!capabilities.regions.includes(region)) {
    issues.push({
      path: 'input.region',
      message: `${adapter.displayName} serves ${capabilities.regions.join(', ')} only`,
    })
  }
  if (validityDays > capabilities.maxValidityDays) {
    issues.push({
      path: 'input.validityDays',
      message: `must be at most ${capabilities.maxValidityDays} days at ${adapter.displayName}`,
    })
  }
  if (issues.length) throw new ValidationError(issues)
}

function checkRedirectUrl(value: string, issues: ValidationIssue[]): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    issues.push({ path: 'input.redirectUrl', message: 'must be an absolute URL' })
    return
  }
  // App schemes (myapp://callback) are fine for mobile partners; script-capable ones are not.
  if (FORBIDDEN_REDIRECT_SCHEMES.has(url.protocol)) {
    issues.push({ path: 'input.redirectUrl', message: `the ${url.protocol} scheme is not allowed` })
  }
}

/**
 * Partner webhooks go to public https endpoints; plain http only to this machine, and only in local mode. The same
 * rules apply again at every delivery, after DNS resolution (outbound/webhook-post.ts).
 */
export function checkWebhookUrl(
  value: string,
  policy: Pick<ConsentServiceOptions, 'allowLocalHttpWebhooks' | 'ownPorts'>,
  issues: ValidationIssue[],
  path = 'input.webhookUrl',
): void {
  const checked = checkDeliveryUrl(value, { allowLocalHttp: policy.allowLocalHttpWebhooks, ownPorts: policy.ownPorts })
  if (!checked.ok) issues.push({ path, message: checked.reason })
}

/** Hash of the creation input after defaults, so `validityDays: null` and the default are the same request. */
const hashInput = (input: Record<string, unknown>): string =>
  createHash('sha256').update(JSON.stringify(input)).digest('base64url')
