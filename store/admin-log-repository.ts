// The admin log: one entry per administrative change (who, what, when, on what), written in the change's own
// transaction, never updated or deleted. Listed per tenant (its partition) or for every tenant (an index).
import { paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import * as z from '../domain/zod.ts'
import { defineEntity, orDefault, timestamp } from './entity.ts'
import { keys } from './keys.ts'
import type { StoreWrite } from './transaction.ts'

/** A value an entry's details may hold: what the change was, never a secret or a hash. */
export type AdminLogDetail = string | number | boolean | null | readonly string[]

export interface AdminLogEntry {
  /** A ULID: entries sort by time. */
  readonly entryId: string
  readonly tenantId: string
  /** ISO time of the change. */
  readonly at: string
  /** The operator: an AWS caller identity (ARN) or `user@host`, as the administration tool established it. */
  readonly actor: string
  /** The command, e.g. `rotate-secret`. */
  readonly action: string
  /** What it changed: the tenant id, or the API client id. */
  readonly target: string
  readonly details: Readonly<Record<string, AdminLogDetail>>
}

const detailSchema: z.ZodMiniType<AdminLogDetail> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]),
)

export const adminLogEntity = defineEntity<AdminLogEntry>({
  type: 'ADMIN_LOG',
  schema: () =>
    z.object({
      entryId: z.string(),
      tenantId: z.string(),
      at: timestamp,
      actor: z.string(),
      action: z.string(),
      target: z.string(),
      details: orDefault(z.record(z.string(), detailSchema), {}),
    }),
  keys: (entry) => ({
    ...keys.adminLogEntry(entry.tenantId, entry.entryId),
    ...keys.adminLogInList(entry.entryId),
  }),
})

const entryOf = (item: Record<string, unknown>): AdminLogEntry => adminLogEntity.parse(item)

export interface AdminLogPage {
  /** Newest first. */
  readonly entries: AdminLogEntry[]
  /** Pass as `before` for the next (older) page; null at the end. */
  readonly next: string | null
}

export class AdminLogRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The entry's write, for the change's transaction; never overwrites an entry. */
  append(entry: AdminLogEntry): StoreWrite {
    return {
      Put: {
        TableName: this.tableName,
        Item: adminLogEntity.item(entry),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }
  }

  /** One tenant's entries, newest first, strongly consistent; `before` is an entry id from a previous page. */
  async listForTenant(tenantId: string, limit: number, before?: string): Promise<AdminLogPage> {
    const { pk } = keys.adminLogEntry(tenantId, '')
    return this.#page(
      {
        KeyConditionExpression: before
          ? 'pk = :pk AND sk BETWEEN :prefix AND :before'
          : 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': pk,
          ':prefix': keys.adminLogPrefix,
          ...(before ? { ':before': keys.adminLogEntry(tenantId, before).sk } : {}),
        },
        ConsistentRead: true,
      },
      limit,
      before,
    )
  }

  /** Every tenant's entries, newest first (an index read: the last moment's entries may be missing for a moment). */
  async listAll(limit: number, before?: string): Promise<AdminLogPage> {
    return this.#page(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: before ? 'gsi1pk = :pk AND gsi1sk <= :before' : 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.adminLogPartition, ...(before ? { ':before': before } : {}) },
      },
      limit,
      before,
    )
  }

  async #page(
    query: {
      KeyConditionExpression: string
      ExpressionAttributeValues: Record<string, string>
      IndexName?: string
      ConsistentRead?: boolean
    },
    limit: number,
    before: string | undefined,
  ): Promise<AdminLogPage> {
    // `before` is inclusive in the key condition (BETWEEN, <=): one more item is read and the cursor's own dropped.
    const extra = before ? 1 : 0
    const entries: AdminLogEntry[] = []
    const pages = paginateQuery(
      { client: this.db, pageSize: limit + 1 + extra },
      { TableName: this.tableName, ...query, ScanIndexForward: false },
    )
    for await (const page of pages) {
      entries.push(...(page.Items ?? []).map(entryOf).filter((entry) => entry.entryId !== before))
      if (entries.length > limit) break
    }
    const more = entries.length > limit
    const shown = entries.slice(0, limit)
    return { entries: shown, next: more ? (shown.at(-1)?.entryId ?? null) : null }
  }
}
