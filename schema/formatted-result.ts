// An execution result as a client receives it, for the transports that write results themselves (Apollo's multipart
// subscriptions, graphql-ws): errors as plain JSON, without what only the server uses (`http`, the status an error
// asks for; `unexpected`; `originalError`).
import type { ExecutionResult, FormattedExecutionResult, GraphQLFormattedError } from 'graphql'

const INTERNAL_EXTENSIONS = new Set(['http', 'unexpected', 'originalError'])

/** One error as JSON, without the server's own extensions. */
export function formatError(error: unknown): GraphQLFormattedError {
  const json = (
    error && typeof (error as { toJSON?: unknown }).toJSON === 'function'
      ? (error as { toJSON(): GraphQLFormattedError }).toJSON()
      : error
  ) as GraphQLFormattedError
  const extensions = Object.entries(json.extensions ?? {}).filter(([key]) => !INTERNAL_EXTENSIONS.has(key))
  const { extensions: _dropped, ...rest } = json
  return extensions.length ? { ...rest, extensions: Object.fromEntries(extensions) } : rest
}

export function formatResult(result: ExecutionResult): FormattedExecutionResult {
  const { errors, extensions, ...rest } = result
  const { http: _http, ...otherExtensions } = (extensions ?? {}) as Record<string, unknown>
  return {
    ...rest,
    ...(errors?.length ? { errors: errors.map(formatError) } : {}),
    ...(Object.keys(otherExtensions).length ? { extensions: otherExtensions } : {}),
  }
}
