// Structured JSON logs (Powertools Logger) with the current request's id attached to every line, even when one
// process serves many requests at once (`npm start`): the id comes from the request scope (request-scope.ts), not
// from logger state. The `Logger` interface is what every layer that logs is handed, provider adapters included.
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger'
import type { Context } from 'aws-lambda'
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
  processLoggers.add(base)
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

/** The Powertools loggers createLogger made in this process: the ones a Lambda invocation's context goes to. */
const processLoggers = new Set<PowertoolsLogger>()

type ContextDecorator = ReturnType<PowertoolsLogger['injectLambdaContext']>
type DecoratedHandler = NonNullable<Parameters<ContextDecorator>[2]['value']>

/**
 * A Lambda handler whose every log line carries the invocation's context (`cold_start`, `function_name`,
 * `function_memory_size`, `function_arn`, `function_request_id`), through Powertools' `injectLambdaContext`. That is a
 * legacy method decorator (Middy's middleware being the other form), so it is applied here by hand, per invocation,
 * for every logger of the process; the handler takes the context second, as Lambda passes it.
 *
 * @example
 * export const handler = withLambdaContext(async (event: unknown, context: Context) => ...)
 */
export function withLambdaContext<Event, Result>(
  handler: (event: Event, context: Context) => Promise<Result>,
): (event: Event, context: Context) => Promise<Result> {
  return (event, context) => {
    // Lambda always passes one; a harness calling the handler with the event alone gets the lines without it.
    if ((context as Context | undefined) === undefined) return handler(event, context)
    let run = handler
    for (const logger of processLoggers) {
      const method = { value: run as DecoratedHandler }
      logger.injectLambdaContext()({ handler: method.value }, 'handler', method)
      run = method.value as typeof handler
    }
    return run(event, context)
  }
}

/** Discards everything: for benchmarks and tests that assert on nothing logged. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
