// `/providers/list`: the sandbox banks. The response shape is not published (our guess, docs/providers.md): `{ request_id, providers: [...] }`.
import type { ApiOperation } from './api-call.ts'
import { SANDBOX_BANKS } from './catalogue.ts'
import { FLOW_TYPES } from './consent.ts'

export function listProvidersOperation(): ApiOperation {
  return ({ requestId }) => ({
    status: 200,
    body: {
      request_id: requestId,
      providers: SANDBOX_BANKS.map((bank) => ({
        provider_id: bank.providerId,
        name: bank.name,
        country: bank.country,
        env: 'sandbox',
        ais_method_types: FLOW_TYPES,
      })),
    },
  })
}
