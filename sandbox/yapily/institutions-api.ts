// `GET /institutions`: the sandbox's three institutions (`ApiListResponseOfInstitution`).
import type { ApiOperation } from './api-call.ts'
import { SANDBOX_INSTITUTIONS, institutionView } from './institutions.ts'

export function listInstitutionsOperation(): ApiOperation {
  return () => ({
    status: 200,
    data: SANDBOX_INSTITUTIONS.map(institutionView),
    meta: { count: SANDBOX_INSTITUTIONS.length },
  })
}
