// Structured JSON logs (Powertools Logger) with the current request's id attached to every line, even when one
// process serves many requests at once (`npm start`): the id (and the platform's deadline for the request) travel in
// AsyncLocalStorage, not in logger state.
import { AsyncLocalStorage } from 'node:async_hooks'
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger'
import type { Logger } from '../providers/adapter.ts'

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

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT'

/**
 * The process logger. Level from `LOG_LEVEL` (Powertools' own variable) unless given.
 * @example
 * const logger = createLogger({ serviceName: 'consent-gateway' })
 * logger.info('consent created', { consentId })
 */
export function createLogger(options: { serviceName?: string; level?: LogLevel } = {}): Logger {
  const base = new PowertoolsLogger({
    serviceName: options.serviceName ?? 'consent-gateway',
    ...(options.level ? { logLevel: options.level } : {}),
  })
  const withRequest = (extra?: Record<string, unknown>) => {
    const requestId = currentRequestId()
    return requestId ? { requestId, ...extra } : (extra ?? {})
  }
  return {
    debug: (message, extra) => base.debug(message, withRequest(extra)),
    info: (message, extra) => base.info(message, withRequest(extra)),
    warn: (message, extra) => base.warn(message, withRequest(extra)),
    error: (message, extra) => base.error(message, withRequest(extra)),
  }
}

/** Discards everything: for benchmarks and tests that assert on nothing logged. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
