// Seeding a known tenant and API client with a given secret, unlogged: what tests and benchmarks set up their tenants
// with. Administration (tenant-admin.ts) does the same with a log entry for `npm start`'s demo tenant.
import { UnauthorizedError } from '../domain/errors.ts'
import type { AccessRepository } from '../store/access-repository.ts'
import { hashSecret } from '../crypto/secret-hash.ts'

export interface ProvisionApiClientInput {
  readonly tenantId: string
  readonly tenantName: string
  readonly clientId: string
  /**
   * Stored only as a scrypt hash: a secret someone chose may be weak, so it keeps the slow hash (generated ones, made
   * by tenant-admin.ts, need only a keyed SHA-256).
   */
  readonly clientSecret: string
  readonly clientName?: string
}

/** What a client id can be; authentication refuses anything else without looking it up. */
export const CLIENT_ID = /^[A-Za-z0-9._-]{3,64}$/

/**
 * Creates the tenant if it is missing (renaming it otherwise, keeping its allowed origins) and writes the API client
 * with the given secret, replacing any with its id.
 */
export async function provisionApiClient(
  access: AccessRepository,
  input: ProvisionApiClientInput,
  now: Date,
): Promise<void> {
  if (!CLIENT_ID.test(input.clientId)) {
    throw new UnauthorizedError('Client ids are 3-64 characters of letters, digits, dot, dash and underscore')
  }
  if (input.clientSecret.length < 16) throw new UnauthorizedError('Client secrets must be at least 16 characters')
  const createdAt = now.toISOString()
  await access.tenants.seed({ tenantId: input.tenantId, name: input.tenantName }, createdAt)
  await access.putApiClient({
    clientId: input.clientId,
    tenantId: input.tenantId,
    name: input.clientName ?? input.clientId,
    secretHash: await hashSecret(input.clientSecret),
    disabled: false,
    createdAt,
  })
}
