// Who caused a history event, as a type: the API client, an end user through an API client's token, a provider, or
// the scheduler. Events keep it as their `initiator` string (what the table and the API have always shown); the
// typed actor is read back from that string, whose grammar this module alone writes and parses.
import { PROVIDERS, type Provider } from './provider.ts'

export type Actor =
  | { readonly kind: 'API_CLIENT'; readonly clientId: string }
  | { readonly kind: 'END_USER'; readonly clientId: string; readonly userId: string }
  | { readonly kind: 'PROVIDER'; readonly provider: Provider }
  | { readonly kind: 'SCHEDULER' }
  /** An initiator this version does not recognise (written by a later one): shown as it is. */
  | { readonly kind: 'UNKNOWN' }

export const ACTOR_KINDS = ['API_CLIENT', 'END_USER', 'PROVIDER', 'SCHEDULER', 'UNKNOWN'] as const

/**
 * Client ids are `[A-Za-z0-9._-]`, so neither `/` nor `:` ends one early: an end user's initiator, whatever its user id
 * holds, parses back to the same client and user.
 */
const API_CLIENT = /^api-client:([A-Za-z0-9._-]+)(?:\/end-user:([\s\S]+))?$/
const PROVIDER = /^provider:([a-z]+)$/

/**
 * The event's `initiator` for an actor.
 *
 * @example
 * initiatorOf({ kind: 'END_USER', clientId: 'shop-app', userId: 'user-1' }) // 'api-client:shop-app/end-user:user-1'
 */
export function initiatorOf(actor: Exclude<Actor, { kind: 'UNKNOWN' }>): string {
  switch (actor.kind) {
    case 'API_CLIENT':
      return `api-client:${actor.clientId}`
    case 'END_USER':
      return `api-client:${actor.clientId}/end-user:${actor.userId}`
    case 'PROVIDER':
      return `provider:${actor.provider.toLowerCase()}`
    case 'SCHEDULER':
      return 'scheduler'
  }
}

/** The actor an event's `initiator` names. */
export function actorOf(initiator: string): Actor {
  const client = API_CLIENT.exec(initiator)
  if (client?.[1]) {
    return client[2] === undefined
      ? { kind: 'API_CLIENT', clientId: client[1] }
      : { kind: 'END_USER', clientId: client[1], userId: client[2] }
  }
  const provider = PROVIDER.exec(initiator)?.[1]?.toUpperCase()
  if (provider && (PROVIDERS as readonly string[]).includes(provider)) {
    return { kind: 'PROVIDER', provider: provider as Provider }
  }
  if (initiator === 'scheduler') return { kind: 'SCHEDULER' }
  return { kind: 'UNKNOWN' }
}
