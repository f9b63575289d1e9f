// One unified consent held as several Yapily consents: a bank that returns one consent per account brings one token
// per consent to the callback (docs/providers.md, Yapily). The consent we created stays `providerConsentId`; the set
// (every id with its token) travels as the consent's one sealed secret, so the store keeps its single reference and
// every token stays as secret as the first. A set of one is the plain token, as before.
import type { ConsentStatus } from '../../domain/status.ts'
import type { ProviderSnapshot } from '../adapter.ts'

export interface HeldConsent {
  readonly id: string
  /** Its consent token; null before the first authorisation. */
  readonly token: string | null
}

const PREFIX = 'yapily-consent-set:v1:'

/** The sealed secret for `consents` (the one we created first): the plain token for one, the encoded set for more. */
export function encodeConsentSet(consents: readonly HeldConsent[]): string | null {
  if (consents.length <= 1) return consents[0]?.token ?? null
  const pairs = consents.map((consent) => [consent.id, consent.token])
  return `${PREFIX}${Buffer.from(JSON.stringify(pairs), 'utf8').toString('base64url')}`
}

/** The consents a secret names, the one we created first; a plain token (or none) is that one consent. */
export function decodeConsentSet(providerConsentId: string, secret: string | null | undefined): HeldConsent[] {
  if (!secret?.startsWith(PREFIX)) return [{ id: providerConsentId, token: secret ?? null }]
  const pairs = JSON.parse(Buffer.from(secret.slice(PREFIX.length), 'base64url').toString('utf8')) as unknown
  const consents = Array.isArray(pairs)
    ? pairs.flatMap((pair: unknown) =>
        Array.isArray(pair) && typeof pair[0] === 'string' && (typeof pair[1] === 'string' || pair[1] === null)
          ? [{ id: pair[0], token: pair[1] as string | null }]
          : [],
      )
    : []
  // Sealed by us and bound to its consent, so never another consent's set; still, the reference we hold comes first.
  const others = consents.filter((consent) => consent.id !== providerConsentId)
  const own = consents.find((consent) => consent.id === providerConsentId) ?? { id: providerConsentId, token: null }
  return [own, ...others]
}

/**
 * Every consent either secret holds: the stored set's in its order with the token `issued` has for it (the newer
 * read), then any only `issued` holds. A set only ever grows (deletion removes the whole secret), so a read that
 * began before the callback brought the further consents cannot drop them when it records after it.
 */
export function mergeConsentSets(providerConsentId: string, stored: string, issued: string): string {
  const fresh = decodeConsentSet(providerConsentId, issued)
  const kept = decodeConsentSet(providerConsentId, stored)
  const merged = kept.map((consent) => ({
    ...consent,
    token: fresh.find((candidate) => candidate.id === consent.id)?.token ?? consent.token,
  }))
  for (const consent of fresh) if (!merged.some((held) => held.id === consent.id)) merged.push(consent)
  return encodeConsentSet(merged) ?? issued
}

/** From healthiest to least healthy: a set is as healthy as its least healthy member. */
const HEALTH: Readonly<Record<ConsentStatus, number>> = {
  ACTIVE: 0,
  AUTHORIZED: 1,
  AWAITING_REAUTHORIZATION: 2,
  PARTIALLY_AUTHORIZED: 3,
  AWAITING_AUTHORIZATION: 4,
  CREATED: 5,
  SUSPENDED: 6,
  UNKNOWN: 7,
  EXPIRED: 8,
  LINK_EXPIRED: 9,
  FAILED: 10,
  REJECTED: 11,
  SUPERSEDED: 12,
  REVOKED: 13,
}

const earliest = (values: ReadonlyArray<string | null | undefined>): string | null =>
  values.filter((value): value is string => typeof value === 'string').sort()[0] ?? null

/**
 * The set as one snapshot: the least healthy member's status (with its raw status and reason; the first such member
 * on a tie), the earliest end of access and reconfirmation deadline of any member, the link of the one we created.
 */
export function combineSnapshots(
  own: ProviderSnapshot,
  others: readonly ProviderSnapshot[],
  secret: string | null,
): ProviderSnapshot {
  const members = [own, ...others]
  const worst = members.reduce((least, member) => (HEALTH[member.status] > HEALTH[least.status] ? member : least))
  const reconfirmBy = earliest(members.map((member) => member.reconfirmBy))
  const lastConfirmedAt = earliest(members.map((member) => member.lastConfirmedAt))
  return {
    ...own,
    providerStatus: worst.providerStatus,
    status: worst.status,
    reason: worst.reason,
    validUntil: earliest(members.map((member) => member.validUntil)),
    ...(reconfirmBy !== null ? { reconfirmBy } : {}),
    ...(lastConfirmedAt !== null ? { lastConfirmedAt } : {}),
    secret,
  }
}
