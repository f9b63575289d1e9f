// Every subscription (consentUpdated, the consentEvents feed, any added later) re-checks the credential that opened it
// once per credential cache period, and ends with one error event when it no longer holds: UNAUTHORIZED once its
// client is disabled or its secret rotated out, SERVICE_UNAVAILABLE when the store cannot say. A clean `complete`
// would look like the end of the feed; the error tells the client to stop, not to resubscribe with the same secret.
import type { ExecutionResult, GraphQLError } from 'graphql'
import { isAsyncIterable, type Plugin } from 'graphql-yoga'
import { untilCredentialLapses } from '../service/credential-lapse.ts'
import type { GraphQLContext } from './context.ts'

/** `mask` turns the reason into the client's error (the server's one masking point). */
export function useCredentialRecheck(mask: (error: unknown, message: string) => Error): Plugin<GraphQLContext> {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ args, result, setResult }) {
          const principal = args.contextValue.principal
          if (!principal || !isAsyncIterable(result)) return
          setResult(
            untilCredentialLapses<ExecutionResult>(
              result,
              () => principal.revalidate(),
              (error) => ({ errors: [mask(error, 'Unexpected error.') as GraphQLError] }),
            ),
          )
        },
      }
    },
  }
}
