// One declaration per item type of the single table, ElectroDB's model without ElectroDB: the item's `entityType`, its
// key attributes (primary and index keys, from keys.ts) built from its fields, and the zod/mini schema every read of
// it goes through, so a stored item is checked where it enters the program instead of being cast.
import type { EntityType } from './keys.ts'
import * as z from '../domain/zod.ts'

/** A stored item did not have the shape its entity declares: a bug or a hand-edited item, never a client's doing. */
export class StoredItemInvalidError extends Error {
  constructor(
    readonly entityType: EntityType,
    readonly issues: string,
  ) {
    super(`A stored ${entityType} item does not have its declared shape: ${issues}`)
    this.name = 'StoredItemInvalidError'
  }
}

export interface EntityDeclaration<T> {
  readonly type: EntityType
  /**
   * What a read returns; attributes it does not name (the keys, `entityType`) are dropped. Given as a function,
   * called on the entity's first read: a cold start builds the few schemas its first request reads, not those of every
   * item type the bundle holds (other schemas at a store module's top level are `z.lazy(() => ...)` for the same
   * reason).
   */
  readonly schema: () => z.ZodMiniType<T>
  /** Every key attribute of the item (pk/sk and the index keys it is in), from its own fields. */
  readonly keys: (value: T) => Readonly<Record<string, string>>
  /** Fields that live in the key only, not as attributes of their own (a read supplies them from the key it read). */
  readonly keyOnly?: readonly (keyof T & string)[]
}

export interface Entity<T> extends EntityDeclaration<T> {
  /** The stored item: its keys, `entityType`, then its fields. */
  item(value: T): Record<string, unknown>
  /** A stored item read back, checked against the schema; throws {@link StoredItemInvalidError} if it does not fit. */
  parse(item: Record<string, unknown>): T
}

export function defineEntity<T>(declaration: EntityDeclaration<T>): Entity<T> {
  let schema: z.ZodMiniType<T> | undefined
  return {
    ...declaration,
    item: (value) => {
      const fields: Record<string, unknown> = { ...(value as object) }
      for (const field of declaration.keyOnly ?? []) delete fields[field]
      return { ...declaration.keys(value), entityType: declaration.type, ...fields }
    },
    parse: (item) => parseItem(declaration.type, (schema ??= declaration.schema()), item),
  }
}

/**
 * A stored item (or the part of it a projection read) checked against `schema`; throws
 * {@link StoredItemInvalidError} if it does not fit.
 */
export function parseItem<T>(type: EntityType, schema: z.ZodMiniType<T>, item: Record<string, unknown>): T {
  const result = z.safeParse(schema, item)
  if (!result.success) {
    throw new StoredItemInvalidError(
      type,
      result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    )
  }
  return result.data
}

/** A field older items may lack (or hold null): it reads as null. */
export const orNull = <S extends z.ZodMiniType>(schema: S) => z._default(z.nullable(schema), null)

/** A field older items may lack: it reads as `fallback`. */
export const orDefault = <S extends z.ZodMiniType>(schema: S, fallback: Exclude<z.output<S>, undefined>) =>
  z._default(schema, fallback)

/** An ISO timestamp as this program writes them (`Date#toISOString()`); read as the string it is. */
export const timestamp = z.string()

/** Drops the attributes that hold null, for items whose "none" is an absent attribute. */
export const withoutNulls = (item: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(item).filter(([, value]) => value !== null))

/** Epoch ms as the whole epoch seconds of a TTL attribute, rounded up. */
export const epochSeconds = (ms: number): number => Math.ceil(ms / 1000)
