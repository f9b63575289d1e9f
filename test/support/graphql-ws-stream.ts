// One graphql-ws subscription's answers, collected as they come, for the suites that drive a graphql-ws client
// (locally and through the stand-in for API Gateway's WebSocket API).
import type { Client, ExecutionResult } from 'graphql-ws'

export type Result = ExecutionResult<Record<string, any>, unknown>

export interface Stream {
  readonly results: Result[]
  readonly errors: unknown[]
  readonly done: Promise<void>
  completed(): boolean
  stop(): void
}

/** Subscribes `client` to `query`; `extra` goes into the request as is (e.g. `extensions`). */
export function stream(client: Client, query: string, variables: Record<string, unknown> = {}, extra = {}): Stream {
  const results: Result[] = []
  const errors: unknown[] = []
  let completed = false
  let stop = () => undefined as void
  const done = new Promise<void>((resolve) => {
    stop = client.subscribe(
      { query, variables, ...extra },
      {
        next: (result) => results.push(result as Result),
        error: (error) => {
          errors.push(error)
          resolve()
        },
        complete: () => {
          completed = true
          resolve()
        },
      },
    )
  })
  return { results, errors, done, completed: () => completed, stop: () => stop() }
}
