// `DELETE /consents/{consentId}?forceDelete=` as pure rules (Yapily API 12.13.0).
import { badRequest } from './errors.ts'

export interface DeleteOutcome {
  deleteStatus: 'SUCCESS' | 'FAILED'
  /** The consent is deleted at Yapily: status `REVOKED`. */
  deleted: boolean
  /** What `isDeletedByInstitution` becomes when deleted. */
  isDeletedByInstitution: boolean
}

/**
 * The bank delete works: deleted at both ends. It fails: `forceDelete=true` deletes at Yapily anyway (the bank keeps
 * its copy), `forceDelete=false` changes nothing and reports `FAILED`.
 */
export function deleteOutcome(bankDeleteFails: boolean, forceDelete: boolean): DeleteOutcome {
  if (!bankDeleteFails) return { deleteStatus: 'SUCCESS', deleted: true, isDeletedByInstitution: true }
  if (forceDelete) return { deleteStatus: 'SUCCESS', deleted: true, isDeletedByInstitution: false }
  return { deleteStatus: 'FAILED', deleted: false, isDeletedByInstitution: false }
}

/** Absent means `true` (the spec's default); otherwise `true` or `false`, any case. */
export function parseForceDelete(value: string | null): boolean {
  if (value === null || value.trim() === '') return true
  const text = value.trim().toLowerCase()
  if (text === 'true') return true
  if (text === 'false') return false
  throw badRequest(`forceDelete must be true or false, got ${value}`)
}
