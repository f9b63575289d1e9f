// The consent item: its keys (the consent partition, the tenant and user lists, the sparse due-work indexes while it
// has a deadline ahead or a re-check due), its shape, and the writes that put it.
import {
  DEADLINE_KINDS,
  type Consent,
  type ConsentDeadline,
  type ConsentDeletion,
  type Institution,
} from '../domain/consent.ts'
import { DATA_SCOPES, PROVIDERS, REGIONS } from '../domain/provider.ts'
import { CONSENT_STATUSES, STATUS_REASONS } from '../domain/status.ts'
import * as z from '../domain/zod.ts'
import { defineEntity, orNull, timestamp } from './entity.ts'
import { keys } from './keys.ts'
import type { StoreWrite } from './transaction.ts'

// Compiled objects (domain/zod.ts): every consent read, a page of them at a time, goes through these.
const institution: z.ZodMiniType<Institution> = z.lazy(() =>
  z.compiledObject({ id: z.string(), name: z.string(), country: z.string() }),
)

const deletion: z.ZodMiniType<ConsentDeletion> = z.lazy(() =>
  z.compiledObject({
    status: z.enum(['SUCCESS', 'FAILED']),
    deletedAtInstitution: orNull(z.boolean()),
    at: timestamp,
  }),
)

const deadline: z.ZodMiniType<ConsentDeadline> = z.lazy(() =>
  z.compiledObject({
    kind: z.enum(DEADLINE_KINDS),
    at: timestamp,
    target: timestamp,
  }),
)

// Nullable fields read as null when an older item lacks them (it was written before the field existed).
const consentSchema: z.ZodMiniType<Consent> = z.lazy(() =>
  z.compiledObject({
    id: z.string(),
    tenantId: z.string(),
    provider: z.enum(PROVIDERS),
    providerConsentId: z.string(),
    providerStatus: orNull(z.string()),
    userId: z.string(),
    providerUserRef: orNull(z.string()),
    institution,
    region: z.enum(REGIONS),
    scope: z.array(z.enum(DATA_SCOPES)),
    validityDays: z.number(),
    status: z.enum(CONSENT_STATUSES),
    statusReason: orNull(z.enum(STATUS_REASONS)),
    authorizationUrl: orNull(z.string()),
    linkExpiresAt: orNull(timestamp),
    validUntil: orNull(timestamp),
    lastConfirmedAt: orNull(timestamp),
    reconfirmBy: orNull(timestamp),
    redirectUrl: orNull(z.string()),
    webhookUrl: orNull(z.string()),
    supersededBy: orNull(z.string()),
    supersedes: orNull(z.string()),
    deletion: orNull(deletion),
    nextDeadline: orNull(deadline),
    sweptUntil: orNull(timestamp),
    nextCheckAt: orNull(timestamp),
    createdAt: timestamp,
    updatedAt: timestamp,
    version: z.number(),
  }),
)

export const consentEntity = defineEntity<Consent>({
  type: 'CONSENT',
  schema: () => consentSchema,
  keys: (consent) => ({
    ...keys.consent(consent.tenantId, consent.id),
    ...keys.consentByTenant(consent.tenantId, consent.id),
    ...keys.consentByUser(consent.tenantId, consent.userId, consent.id),
    // Sparse: only a consent with a deadline ahead, or still worth re-checking, is in the due-work indexes.
    ...(consent.nextDeadline
      ? keys.due('DEADLINE', consent.id, consent.nextDeadline.at, `${consent.tenantId}#${consent.id}`)
      : {}),
    ...(consent.nextCheckAt ? keys.recheck(consent.provider, consent.id, consent.nextCheckAt, consent.tenantId) : {}),
  }),
})

/** The stored item of a consent, its index keys included (exported for bulk seeding in tests and benchmarks). */
export const consentItem = (consent: Consent): Record<string, unknown> => consentEntity.item(consent)

/** A new consent; fails if its id is taken. */
export const putNewConsent = (tableName: string, consent: Consent): StoreWrite => ({
  Put: { TableName: tableName, Item: consentItem(consent), ConditionExpression: 'attribute_not_exists(pk)' },
})

/** The consent's next version, written only if the stored one is still at `expectedVersion`. */
export const putConsentVersion = (tableName: string, consent: Consent, expectedVersion: number): StoreWrite => ({
  Put: {
    TableName: tableName,
    Item: consentItem(consent),
    ConditionExpression: 'version = :expected',
    ExpressionAttributeValues: { ':expected': expectedVersion },
  },
})
