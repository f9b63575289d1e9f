// Structured JSON logs (Powertools Logger) with the current request's id attached to every line, even when one
// process serves many requests at once (`npm start`): the id comes from the request scope (request-scope.ts), not
// from logger state. The `Logger` interface is what every layer that logs is handed, provider adapters included.
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger'
import { currentRequestId } from './request-scope.ts'

/** Structured logging, as Powertools' Logger offers it; adapters get one per request. */
export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void
  info(message: string, extra?: Record<string, unknown>): void
  warn(message: string, extra?: Record<string, unknown>): void
  error(message: string, extra?: Record<string, unknown>): void
}

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
