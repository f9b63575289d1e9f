// `GET {S}/directory/v3/aspsps`: the Reach directory of the sandbox banks (docs/providers.md, Worldline evidence: Directory).
import type { AisOperation } from './api-call.ts'
import { SANDBOX_ASPSPS, type SandboxAspsp, type TransactionAccess } from './aspsps.ts'
import { schemaViolation } from './errors.ts'

/**
 * The `Details` items that tell the three banks apart. The item fields are documented (Api, Fieldname, Type,
 * Value, ProtocolVersion); these particular values are invented [I].
 */
const TRANSACTION_DETAILS: Readonly<Record<TransactionAccess, ReadonlyArray<Record<string, string>>>> = {
  'date-filter': [
    { Api: 'GET /transactions', Fieldname: 'dateFrom', Type: 'SUPPORTED', Value: 'date', ProtocolVersion: 'v3' },
    { Api: 'GET /transactions', Fieldname: 'dateTo', Type: 'SUPPORTED', Value: 'date', ProtocolVersion: 'v3' },
  ],
  'datetime-filter': [
    { Api: 'GET /transactions', Fieldname: 'dateFrom', Type: 'SUPPORTED', Value: 'datetime', ProtocolVersion: 'v3' },
    { Api: 'GET /transactions', Fieldname: 'dateTo', Type: 'SUPPORTED', Value: 'datetime', ProtocolVersion: 'v3' },
  ],
  'download-only': [
    { Api: 'GET /transactions', Fieldname: 'dl', Type: 'MANDATORY', Value: 'download', ProtocolVersion: 'v3' },
  ],
}

/**
 * Needs the `Service: AIS` header. The `allDetails`, `allOptions` and `allAspspSpecificFields` flags are accepted
 * and ignored: every entry always carries its details [I].
 */
export function listAspspsOperation(): AisOperation {
  return ({ headers }) => {
    const service = headers.service
    if (service !== 'AIS')
      throw schemaViolation(`the Service header must be AIS, got ${JSON.stringify(service) ?? 'none'}`)
    return { status: 200, body: { Service: 'AIS', ASPSP: SANDBOX_ASPSPS.map(directoryEntry) } }
  }
}

function directoryEntry(aspsp: SandboxAspsp): Record<string, unknown> {
  return {
    AspspId: aspsp.aspspId,
    Name: [{ Label: aspsp.name, Language: 'en' }],
    Country: aspsp.country,
    BIC: aspsp.bic,
    CategoryLabel: [],
    Details: TRANSACTION_DETAILS[aspsp.transactions],
    Options: [],
  }
}
