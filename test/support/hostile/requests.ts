// Hostile HTTP requests for the gateway, each one rebuilt from (seed, index) alone: bad JSON, huge and stalled bodies,
// deep and wide queries, bad variables, unicode and control characters, authentication garbage, another tenant's ids,
// URLs aimed at our own network, and the other routes. `hostileRequest` is the fuzz; `storeOutageRequest` is the
// traffic kept up while the store is killed.
import {
  authentication,
  badJson,
  badVariables,
  baseline,
  crossTenant,
  deepWide,
  ssrf,
  unicode,
} from './graphql-attacks.ts'
import { graphqlPost, plain, type Category, type Draft, type HostileRequest } from './hostile-request.ts'
import { consentInput, CREATE_CONSENT, GET_CONSENT, type FuzzTarget } from './payloads.ts'
import { Random } from './random.ts'
import { hugeBody, routes, stalledBody } from './transport-attacks.ts'

/** Stalled bodies are few and at fixed positions (every STALL_EVERY-th request), so a run's duration stays bounded. */
export const STALL_EVERY = 400
const STALL_OFFSET = 200

/** The share of each category among the requests that are not stalled bodies. */
const WEIGHTS: readonly (readonly [Exclude<Category, 'stalled-body' | 'store-outage'>, number])[] = [
  ['baseline', 10],
  ['bad-json', 12],
  ['huge-body', 5],
  ['deep-wide', 13],
  ['bad-variables', 14],
  ['unicode', 12],
  ['auth', 10],
  ['cross-tenant', 6],
  ['ssrf', 10],
  ['routes', 8],
]

// Entry points -------------------------------------------------------------------------------------------------------

const finish = (seed: number, index: number, category: Category, draft: Draft): HostileRequest => {
  const { name, ...request } = draft
  return { seed, index, category, variant: `${category}/${name}`, ...request }
}

/** Whether request `index` of any run is a stalled body (they sit at fixed places). */
export const isStalledBody = (index: number): boolean => index % STALL_EVERY === STALL_OFFSET

/** Request `index` of fuzz run `seed`: the same for the same pair, whatever ran before it. */
export function hostileRequest(seed: number, index: number, target: FuzzTarget): HostileRequest {
  const random = new Random(seed, index)
  if (isStalledBody(index)) {
    return finish(seed, index, 'stalled-body', stalledBody(random, target, Math.floor(index / STALL_EVERY)))
  }
  const category = random.weighted(WEIGHTS)
  const build = {
    baseline,
    'bad-json': badJson,
    'huge-body': hugeBody,
    'deep-wide': deepWide,
    'bad-variables': badVariables,
    unicode,
    auth: authentication,
    'cross-tenant': crossTenant,
    ssrf,
    routes,
  }[category]
  return finish(seed, index, category, build(random, target))
}

/**
 * Request `index` of the traffic kept up while the store is killed: tenant A creating and reading consents (through
 * its second client, whose credentials are cached by then), credentials the gateway has not seen (which need the
 * store to check), no credentials, provider notifications and callbacks. Creates are what the lost-write check later
 * reads back.
 */
export function storeOutageRequest(seed: number, index: number, target: FuzzTarget): HostileRequest {
  const random = new Random(seed ^ 0x5f0e, index)
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
  const draft = random.weighted<() => Draft>([
    [
      () =>
        graphqlPost(random, target, 'create', {
          query: CREATE_CONSENT,
          variables: { input: consentInput({ userId: `outage-${index}` }) },
        }),
      4,
    ],
    [() => graphqlPost(random, target, 'read', { query: GET_CONSENT, variables: { id: target.consentIds.A } }), 3],
    [() => graphqlPost(random, target, 'list', { query: `{ consents(first: 5) { edges { node { id } } } }` }), 1],
    [() => graphqlPost(random, target, 'webhook settings', { query: `{ webhookSettings { defaultUrl } }` }), 1],
    [() => graphqlPost(random, target, 'providers', { query: `{ providers { provider } }` }), 1],
    [
      () =>
        graphqlPost(
          random,
          target,
          'unseen client',
          { query: `{ providers { provider } }` },
          {
            as: null,
            headers: [['authorization', `Basic ${b64(`outage-client-${seed}-${index}:secret`)}`]],
          },
        ),
      2,
    ],
    [
      () =>
        graphqlPost(
          random,
          target,
          'unseen secret',
          { query: `{ providers { provider } }` },
          {
            as: null,
            headers: [['authorization', `Basic ${b64(`${target.clientIds.A}:outage-${seed}-${index}`)}`]],
          },
        ),
      1,
    ],
    [() => graphqlPost(random, target, 'no credentials', { query: `{ providers { provider } }` }, { as: null }), 1],
    [
      () =>
        plain(
          'notification',
          'POST',
          `/webhooks/${random.pick(['finqware', 'worldline/notification/status', 'yapily'])}`,
          [['content-type', 'application/json']],
          '{"type": "consent_status_update", "consent_id": "x", "status": "revoked"}',
        ),
      1,
    ],
    [() => plain('callback', 'GET', `/callbacks/${random.pick(['finqware', 'yapily'])}/abc.def?code=x`, [], null), 1],
  ])()
  const authorization = ([name, value]: readonly [string, string]) =>
    [name, name === 'authorization' && value === target.authorization.A ? target.outageAuthorization : value] as const
  return finish(seed, index, 'store-outage', { ...draft, headers: draft.headers.map(authorization) })
}
