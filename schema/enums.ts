// The domain's enumerations as GraphQL enums; values and order come from domain/, so the schema cannot drift.
import { ACTOR_KINDS } from '../domain/actor.ts'
import { EVENT_SOURCES } from '../domain/consent.ts'
import { NEXT_ACTIONS } from '../domain/derived.ts'
import { ERROR_CATALOGUE, ERROR_CODES } from '../domain/errors.ts'
import { DATA_SCOPES, PROVIDERS, REGIONS } from '../domain/provider.ts'
import { CONSENT_STATUSES, STATUS_REASONS } from '../domain/status.ts'
import { builder } from './builder.ts'

export const ConsentStatusEnum = builder.enumType('ConsentStatus', {
  description:
    'Unified consent status. Time is part of it: never ACTIVE past validUntil, never pending past linkExpiresAt.',
  values: CONSENT_STATUSES,
})

export const StatusReasonEnum = builder.enumType('StatusReason', {
  description: 'Why a consent is in its status, where that matters (revoked by whom, expired how).',
  values: STATUS_REASONS,
})

export const ProviderEnum = builder.enumType('Provider', { values: PROVIDERS })

export const RegionEnum = builder.enumType('Region', {
  description: 'Drives the validity maximum (UK 90 days, EEA 180 days) and UK reconfirmation.',
  values: REGIONS,
})

export const DataScopeEnum = builder.enumType('DataScope', { values: DATA_SCOPES })

export const NextActionEnum = builder.enumType('NextAction', {
  description: 'What the partner should do next with this consent.',
  values: NEXT_ACTIONS,
})

export const EventSourceEnum = builder.enumType('EventSource', {
  description: 'What told us about a change: this API, a provider push, a provider poll, or the scheduler.',
  values: EVENT_SOURCES,
})

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable error codes; see docs/errors.md.',
  values: Object.fromEntries(ERROR_CODES.map((code) => [code, { description: ERROR_CATALOGUE[code].summary }])),
})

export const ActorKindEnum = builder.enumType('ActorKind', {
  description:
    'Who caused an event: API_CLIENT (a partner backend), END_USER (an end user through a token its partner minted), ' +
    'PROVIDER (the provider told us, or we read it there), SCHEDULER (a deadline), UNKNOWN (not recognised; see ' +
    '`initiator`).',
  values: ACTOR_KINDS,
})
