// runtime/logging.ts's withLambdaContext: every log line of a Lambda invocation carries Powertools' Lambda context
// (cold start, function name...), the first invocation of the process reading as the cold start and the next not.
import type { Context } from 'aws-lambda'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger, withLambdaContext } from '../../runtime/logging.ts'

const contextOf = (awsRequestId: string): Context =>
  ({
    functionName: 'consent-gateway-ci-SweepDeadlinesJob',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:consent-gateway-ci-SweepDeadlinesJob',
    memoryLimitInMB: '512',
    awsRequestId,
    getRemainingTimeInMillis: () => 60_000,
  }) as Context

/** Every JSON line Powertools writes, whichever of stdout or the console it writes through. */
function captureLines(): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = []
  const keep = (chunk: unknown) => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line))
  }
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (keep(chunk), true))
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation(keep)
  }
  return lines
}

afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
})

describe('a Lambda handler with the invocation context', () => {
  it('logs the cold start, the function and the request on every line, the cold start once', async () => {
    // Prepare
    const lines = captureLines()
    // As Lambda sets it for a function without provisioned concurrency: Powertools counts cold starts only then.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand')
    const logger = createLogger({ serviceName: 'lambda-context-test', level: 'INFO' })
    const handler = withLambdaContext(async (event: { run: number }) => {
      logger.info('job done', { run: event.run })
      return event.run
    })

    // Act
    const answers = [await handler({ run: 1 }, contextOf('req-1')), await handler({ run: 2 }, contextOf('req-2'))]

    // Assess
    expect(answers).toEqual([1, 2])
    const done = lines.filter((line) => line.message === 'job done')
    expect(done).toMatchObject([
      {
        run: 1,
        cold_start: true,
        function_name: 'consent-gateway-ci-SweepDeadlinesJob',
        function_memory_size: '512',
        function_request_id: 'req-1',
      },
      { run: 2, cold_start: false, function_request_id: 'req-2' },
    ])
  })
})
