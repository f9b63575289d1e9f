// The query limits as yoga plugins: graphql-armor's depth, alias, directive and cost limits and its blocking of field
// suggestions, and graphql-js's own token limit, all reported as validation failures (schema/limits.ts has the numbers).
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions'
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit'
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth'
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives'
import { GraphQLError, parse, type ParseOptions, type Source } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import type { ErrorCode } from '../domain/errors.ts'
import { LIMITS } from './limits.ts'

/**
 * graphql-armor's limits, each its own envelop plugin. Not `EnvelopArmorPlugin`: it always loads armor's token
 * limit, which deep-imports `graphql/language/parser`, and a bundler that prefers `module` (SST's esbuild does)
 * resolves that to graphql's CommonJS copy beside the ES module copy everything else uses: two `GraphQLError`
 * classes, and syntax errors no longer recognised as such (they answered 200 instead of 400 in the bundle tests).
 */
export const armorPlugins = (): Plugin[] => [
  maxDepthPlugin(LIMITS.maxDepth),
  maxAliasesPlugin(LIMITS.maxAliases),
  maxDirectivesPlugin(LIMITS.maxDirectives),
  costLimitPlugin(LIMITS.costLimit),
  blockFieldSuggestionsPlugin(),
]

/**
 * The token limit, by graphql-js's own parser (`maxTokens`, graphql 16.7+): the parse stops at the limit, so an
 * abusive document costs no more than an allowed one. Reported as a validation failure, like armor's limits.
 */
export function useMaxTokens(maxTokens: number): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source: string | Source, options?: ParseOptions) => {
        try {
          return parse(source, { ...options, maxTokens })
        } catch (error) {
          if (error instanceof GraphQLError && /more that \d+ tokens/.test(error.message)) {
            throw new GraphQLError(`The query exceeds the token limit of ${maxTokens}.`, {
              source: error.source,
              positions: error.positions,
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' satisfies ErrorCode },
            })
          }
          throw error
        }
      })
    },
  }
}

/** Every query limit, in the order they run. */
export const queryLimitPlugins = (): Plugin[] => [useMaxTokens(LIMITS.maxTokens), ...armorPlugins()]
