// Condition and filter expressions built from a description rather than by hand: attribute names and values go
// through placeholders (`#n0`, `:v0`), so no value is ever spliced into the expression and reserved words are safe.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'

/** One condition on an attribute (a dotted path reaches into a map: `institution.id`). */
export type AttributeCondition =
  { readonly path: string; readonly equals: unknown } | { readonly path: string; readonly in: readonly unknown[] }

export interface BuiltExpression {
  readonly expression: string | undefined
  readonly names: Record<string, string>
  readonly values: Record<string, unknown>
}

/** The conditions joined with AND, and the placeholders they use; `expression` undefined when there are none. */
export function allOf(conditions: readonly AttributeCondition[], prefix = 'f'): BuiltExpression {
  const names: Record<string, string> = {}
  const values: Record<string, unknown> = {}
  let counter = 0
  const nameOf = (path: string) =>
    path
      .split('.')
      .map((part) => {
        const placeholder = `#${prefix}${counter++}`
        names[placeholder] = part
        return placeholder
      })
      .join('.')
  const valueOf = (value: unknown) => {
    const placeholder = `:${prefix}${counter++}`
    values[placeholder] = value
    return placeholder
  }
  const parts = conditions.map((condition) =>
    'equals' in condition
      ? `${nameOf(condition.path)} = ${valueOf(condition.equals)}`
      : `${nameOf(condition.path)} IN (${condition.in.map(valueOf).join(', ')})`,
  )
  return { expression: parts.length ? parts.join(' AND ') : undefined, names, values }
}

/** A single write's condition did not hold (a transaction's cancellation reasons say which of its writes failed). */
export const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException =>
  error instanceof ConditionalCheckFailedException

/** Whether a conditional write took effect: false when its condition did not hold (nothing written), else its error. */
export async function conditionalWrite(write: Promise<unknown>): Promise<boolean> {
  try {
    await write
    return true
  } catch (error) {
    if (isConditionFailure(error)) return false
    throw error
  }
}
