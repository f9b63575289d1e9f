// Builds the administration use cases (service/tenant-admin.ts) over a table: the repositories they read and write are
// made here, as gateway.ts makes everyone else's; `npm run admin` (cli/admin.ts) and `npm start` (local/main.ts) call it.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { monotonicFactory } from 'ulid'
import { TenantAdmin, type DocumentCheck } from '../service/tenant-admin.ts'
import type { UsagePlans } from '../service/usage-plans.ts'
import { AccessRepository } from '../store/access-repository.ts'
import { AdminLogRepository } from '../store/admin-log-repository.ts'
import { writeTogether } from '../store/transaction.ts'
import { TrustedDocumentRepository } from '../store/trusted-document-repository.ts'

export interface TenantAdminOptions {
  /** @default () => new Date() */
  readonly clock?: () => Date
  /** Checks trusted documents against the schema; without it, registering documents is refused. @default none */
  readonly checkDocument?: DocumentCheck
  /** @default hashSecret (scrypt), as TenantAdminDeps says */
  readonly hashSecret?: (secret: string) => Promise<string>
  /** API Gateway's usage plans, on a deployed stage. @default none (limits applied in process) */
  readonly usagePlans?: UsagePlans
}

/** The administration use cases over a table, with ULIDs for tenants, clients and log entries. */
export function createTenantAdmin(
  db: DynamoDBDocumentClient,
  tableName: string,
  options: TenantAdminOptions = {},
): TenantAdmin {
  const newId = monotonicFactory()
  return new TenantAdmin({
    access: new AccessRepository(db, tableName),
    log: new AdminLogRepository(db, tableName),
    documents: new TrustedDocumentRepository(db, tableName),
    write: (writes) => writeTogether(db, writes),
    clock: options.clock ?? (() => new Date()),
    newId: () => newId(),
    checkDocument: options.checkDocument,
    hashSecret: options.hashSecret,
    usagePlans: options.usagePlans,
  })
}
