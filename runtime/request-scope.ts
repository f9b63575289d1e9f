// The request being served, wherever the code runs: its id (for every log line and error id) and the platform's
// deadline for it, carried in AsyncLocalStorage rather than passed down, so a process serving many requests at once
// (`npm start`) keeps them apart.
import { AsyncLocalStorage } from 'node:async_hooks'

export interface RequestScope {
  readonly requestId: string
  /** Epoch ms by which the platform ends this request (a Lambda invocation's remaining time); none locally. */
  readonly deadline?: number
}

const scope = new AsyncLocalStorage<RequestScope>()

/** Runs `fn` with `requestId` attached to every log line and error id it produces. */
export const runInRequestScope = <T>(requestScope: RequestScope, fn: () => T): T => scope.run(requestScope, fn)

export const currentRequestId = (): string | undefined => scope.getStore()?.requestId

export const currentDeadline = (): number | undefined => scope.getStore()?.deadline
