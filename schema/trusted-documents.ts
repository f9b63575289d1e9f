// The check a trusted document passes before a tenant may register it: it parses within the token limit, is valid
// against this schema, and keeps the server's query limits, so every registered document can run. Administration
// (service/tenant-admin.ts) takes it as its `checkDocument`.
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit'
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth'
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives'
import { GraphQLError, Kind, parse, specifiedRules, validate, type DocumentNode, type ValidationContext } from 'graphql'
import type { DocumentCheck } from '../service/tenant-admin.ts'
import { schema } from './index.ts'
import { LIMITS } from './limits.ts'

/** Armor's rules throw at the first limit by default; here each reports its error like any validation rule. */
const reported = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
  ],
}

const RULES = [
  ...specifiedRules,
  maxDepthRule({ ...LIMITS.maxDepth, ...reported }),
  maxAliasesRule({ ...LIMITS.maxAliases, ...reported }),
  maxDirectivesRule({ ...LIMITS.maxDirectives, ...reported }),
  costLimitRule({ ...LIMITS.costLimit, ...reported }),
]

/** What the document runs (`query GetConsent`, one per operation), or the first reason it cannot be trusted. */
export const checkTrustedDocument: DocumentCheck = (source) => {
  let document: DocumentNode
  try {
    document = parse(source, { maxTokens: LIMITS.maxTokens })
  } catch (error) {
    return { problem: `does not parse: ${error instanceof GraphQLError ? error.message : String(error)}` }
  }
  const errors = validate(schema, document, RULES)
  if (errors.length > 0) {
    const first = errors[0]?.message ?? 'is not valid'
    return { problem: errors.length > 1 ? `${first} (and ${errors.length - 1} more errors)` : first }
  }
  const operations = document.definitions.flatMap((definition) =>
    definition.kind === Kind.OPERATION_DEFINITION
      ? [definition.name ? `${definition.operation} ${definition.name.value}` : definition.operation]
      : [],
  )
  if (operations.length === 0) return { problem: 'has no operation (only fragments)' }
  return { operations }
}
