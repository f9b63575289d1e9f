// The history event item: in its consent's partition by version, in its tenant's feed (gsi1) and in the change feed
// (gsi5) by event id; written in the transaction of the change it records and never changed.
import { EVENT_KINDS, EVENT_SOURCES, type ConsentEvent } from '../domain/consent.ts'
import { CONSENT_STATUSES, STATUS_REASONS } from '../domain/status.ts'
import * as z from '../domain/zod.ts'
import { defineEntity, orDefault, orNull, timestamp } from './entity.ts'
import { keys } from './keys.ts'
import type { StoreWrite } from './transaction.ts'

// Items written before events had kinds are changes, without a deadline.
const eventSchema: z.ZodMiniType<ConsentEvent> = z.lazy(() =>
  z.object({
    kind: orDefault(z.enum(EVENT_KINDS), 'CHANGE'),
    deadline: orNull(timestamp),
    id: z.string(),
    consentId: z.string(),
    tenantId: z.string(),
    version: z.number(),
    from: orNull(z.enum(CONSENT_STATUSES)),
    to: z.enum(CONSENT_STATUSES),
    reason: orNull(z.enum(STATUS_REASONS)),
    providerStatus: orNull(z.string()),
    source: z.enum(EVENT_SOURCES),
    initiator: z.string(),
    at: timestamp,
  }),
)

export const eventEntity = defineEntity<ConsentEvent>({
  type: 'EVENT',
  schema: () => eventSchema,
  keys: (event) => ({
    ...keys.event(event.tenantId, event.consentId, event.version),
    ...keys.eventByTenant(event.tenantId, event.id),
    ...keys.change(event.consentId, event.id),
  }),
})

/** A stored event read back. */
export const toEvent = (item: Record<string, unknown>): ConsentEvent => eventEntity.parse(item)

/**
 * The event's write. `exclusive`: fails if the consent already has an event of this version (another writer's change
 * got there first).
 */
export const putEvent = (
  tableName: string,
  event: ConsentEvent,
  options: { exclusive?: boolean } = {},
): StoreWrite => ({
  Put: {
    TableName: tableName,
    Item: eventEntity.item(event),
    ...(options.exclusive ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
  },
})
