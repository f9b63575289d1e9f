// infra/jobs.ts, deployed offline (Pulumi mocks): the three schedules and their functions, and the outbox relay on the
// table's stream with its retries, bisection and dead-letter queue, as AWS would be asked for them.
import { beforeAll, describe, expect, it } from 'vitest'
import type * as JobsModule from '../../infra/jobs.ts'
import { FUNCTION_RUNTIME } from '../../scripts/bundling.ts'
import {
  AWS_TYPES,
  deployOffline,
  REQUIRED_SECRETS,
  type OfflineDeployment,
  type RecordedResource,
  valueOf,
} from './support/sst-offline.ts'

const { FUNCTION, SCHEDULE, ROLE, EVENT_INVOKE_CONFIG, EVENT_SOURCE_MAPPING, QUEUE, TABLE } = AWS_TYPES

/** Each job's handler, its schedule and the period that schedule means. */
const JOBS = [
  { handler: 'functions/sweep-deadlines.handler', schedule: 'rate(5 minutes)', periodSeconds: 300 },
  { handler: 'functions/reconcile.handler', schedule: 'rate(5 minutes)', periodSeconds: 300 },
  { handler: 'functions/deliver-webhooks.handler', schedule: 'rate(1 minute)', periodSeconds: 60 },
]
const RELAY_HANDLER = 'functions/outbox-relay.handler'

interface Statement {
  actions: string[]
  resources: string[]
}

let jobs: OfflineDeployment<typeof JobsModule>
let table: RecordedResource
let deadLetters: RecordedResource
let mapping: RecordedResource
beforeAll(async () => {
  // Prepare
  jobs = await deployOffline('ci', () => import('../../infra/jobs.ts'), { secrets: REQUIRED_SECRETS })
  table = jobs.one(TABLE)
  deadLetters = jobs.one(QUEUE)
  mapping = jobs.one(EVENT_SOURCE_MAPPING)
})

/** The Lambda function whose handler is `handler`. */
const functionOf = (handler: string): RecordedResource => {
  const found = jobs.all(FUNCTION).filter((fn) => fn.inputs.handler === handler)
  if (found.length !== 1) throw new Error(`Expected one function with handler ${handler}, found ${found.length}`)
  return found[0]
}

/** The statements of a role's inline policies. */
const statementsOf = (role: RecordedResource): Statement[] =>
  (role.inputs.inlinePolicies as { policy: string }[]).flatMap(
    ({ policy }) => (JSON.parse(policy) as { statements: Statement[] }).statements,
  )

/** The role a function runs with. */
const roleOf = (fn: RecordedResource): RecordedResource => {
  const role = jobs.all(ROLE).find((candidate) => candidate.state.arn === fn.inputs.role)
  if (!role) throw new Error(`No role for ${fn.name}`)
  return role
}

/** The schedule that invokes the function whose handler is `handler`. */
const scheduleOf = (handler: string): RecordedResource => {
  const fn = functionOf(handler)
  const found = jobs
    .all(SCHEDULE)
    .filter((schedule) => (schedule.inputs.target as { arn: string }).arn === fn.state.arn)
  if (found.length !== 1) throw new Error(`Expected one schedule for ${handler}, found ${found.length}`)
  return found[0]
}

/** Whether the role lets its function use the table: every DynamoDB action on the table and what is under it. */
const mayUseTable = (role: RecordedResource) =>
  statementsOf(role).some(
    ({ actions, resources }) =>
      actions.includes('dynamodb:*') &&
      resources.includes(String(table.state.arn)) &&
      resources.includes(`${String(table.state.arn)}/*`),
  )

describe('the scheduled jobs', () => {
  it('are exactly the sweep and the reconciler every 5 minutes and webhook delivery every minute', () => {
    // Prepare
    const scheduled = jobs.all(SCHEDULE).map((schedule) => {
      const fn = jobs.all(FUNCTION).find((item) => item.state.arn === (schedule.inputs.target as { arn: string }).arn)
      return [fn?.inputs.handler, schedule.inputs.scheduleExpression]
    })

    // Assess
    expect(Object.fromEntries(scheduled)).toEqual(Object.fromEntries(JOBS.map((job) => [job.handler, job.schedule])))
    expect(scheduled).toHaveLength(JOBS.length)
  })

  it.each(JOBS)('runs $handler on time, enabled, with an empty event', ({ handler }) => {
    // Prepare
    const schedule = scheduleOf(handler)

    // Assess
    expect(schedule.inputs.state).toBe('ENABLED')
    expect(schedule.inputs.flexibleTimeWindow).toEqual({ mode: 'OFF' })
    expect((schedule.inputs.target as { input: string }).input).toBe('{}')
  })

  it.each(JOBS)('lets the schedule of $handler invoke that function and nothing else', ({ handler }) => {
    // Prepare
    const { roleArn } = scheduleOf(handler).inputs.target as { roleArn: string }
    const roles = jobs.all(ROLE).filter((item) => item.state.arn === roleArn)

    // Assess
    expect(roles).toHaveLength(1)
    expect(JSON.stringify(roles[0].inputs.assumeRolePolicy)).toContain('scheduler.amazonaws.com')
    expect(statementsOf(roles[0])).toEqual([
      { actions: ['lambda:InvokeFunction'], resources: [functionOf(handler).state.arn] },
    ])
  })

  it.each(JOBS)('ends a run of $handler before the next one starts', ({ handler, periodSeconds }) => {
    // Prepare
    const timeout = functionOf(handler).inputs.timeout as number

    // Assess
    expect(timeout).toBeGreaterThanOrEqual(30)
    expect(timeout).toBeLessThan(periodSeconds)
  })

  it.each(JOBS)('leaves the retry of a failed $handler run to the next tick', ({ handler }) => {
    // Prepare
    const fn = functionOf(handler)
    const configs = jobs.all(EVENT_INVOKE_CONFIG).filter((config) => config.inputs.functionName === fn.inputs.name)

    // Assess: neither Lambda (asynchronous invocations) nor Scheduler tries again.
    expect(configs.map((config) => config.inputs.maximumRetryAttempts)).toEqual([0])
    expect((scheduleOf(handler).inputs.target as { retryPolicy: unknown }).retryPolicy).toEqual({
      maximumRetryAttempts: 0,
    })
  })

  it.each(JOBS)('links $handler to the table and the secrets and lets it use the table', ({ handler }) => {
    // Prepare
    const fn = functionOf(handler)
    const build = jobs.builds.find((item) => item.handler === handler)

    // Assess
    expect(Object.keys(build?.links ?? {})).toEqual(expect.arrayContaining(['Table', ...Object.keys(REQUIRED_SECRETS)]))
    expect(mayUseTable(roleOf(fn))).toBe(true)
    expect(fn.inputs.runtime).toBe(FUNCTION_RUNTIME)
    expect(fn.inputs.architectures).toEqual(['arm64'])
  })
})

describe('the outbox relay', () => {
  it("reads the table's stream into its function", () => {
    // Assess
    expect(mapping.inputs.eventSourceArn).toBe(table.state.streamArn)
    expect(String(table.state.streamArn)).toMatch(/\/stream\//)
    expect(mapping.inputs.functionName).toBe(functionOf(RELAY_HANDLER).state.arn)
    expect(jobs.all(EVENT_SOURCE_MAPPING)).toHaveLength(1)
  })

  it('is woken by new outbox items only', () => {
    // Prepare
    const { filters } = mapping.inputs.filterCriteria as { filters: { pattern: string }[] }

    // Assess
    expect(filters.map(({ pattern }) => JSON.parse(pattern) as unknown)).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { entityType: { S: ['OUTBOX'] } } } },
    ])
  })

  it('starts at the newest records, in batches of 25', () => {
    // Assess
    expect(mapping.inputs.startingPosition).toBe('LATEST')
    expect(mapping.inputs.batchSize).toBe(25)
  })

  it('hands back only the records of consents whose delivery failed', () => {
    // Assess
    expect(mapping.inputs.functionResponseTypes).toEqual(['ReportBatchItemFailures'])
  })

  it('retries a failing batch in halves, 10 times at most, for an hour at most', () => {
    // Assess
    expect(mapping.inputs.bisectBatchOnFunctionError).toBe(true)
    expect(mapping.inputs.maximumRetryAttempts).toBe(10)
    expect(mapping.inputs.maximumRecordAgeInSeconds).toBe(3600)
  })

  it('then sends what it gave up on to the dead-letter queue, which keeps it 14 days', () => {
    // Assess
    expect(mapping.inputs.destinationConfig).toEqual({ onFailure: { destinationArn: deadLetters.state.arn } })
    expect(String(deadLetters.state.arn)).toMatch(/^arn:aws:sqs:/)
    expect(deadLetters.inputs.messageRetentionSeconds).toBe(14 * 24 * 3600)
    expect(deadLetters.inputs.fifoQueue).toBe(false)
  })

  it('may use the table, its stream included, and send to the dead-letter queue', () => {
    // Prepare
    const role = roleOf(functionOf(RELAY_HANDLER))

    // Assess: `dynamodb:*` on `<table>/*` covers the stream (`<table>/stream/<label>`).
    expect(mayUseTable(role)).toBe(true)
    expect(String(table.state.streamArn).startsWith(`${String(table.state.arn)}/`)).toBe(true)
    expect(statementsOf(role)).toContainEqual(
      expect.objectContaining({ actions: ['sqs:SendMessage'], resources: [deadLetters.state.arn] }),
    )
  })

  it('is a gateway function linked to the table and the secrets, with a minute per batch', () => {
    // Prepare
    const fn = functionOf(RELAY_HANDLER)
    const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables

    // Assess
    expect(Object.keys(jobs.builds.find((build) => build.handler === RELAY_HANDLER)?.links ?? {})).toEqual(
      expect.arrayContaining(['Table', ...Object.keys(REQUIRED_SECRETS)]),
    )
    expect(variables.TABLE_NAME).toBe(table.inputs.name)
    expect(variables.PUBLIC_BASE_URL).toMatch(/^https:\/\/.+\.execute-api\./)
    expect(fn.inputs.runtime).toBe(FUNCTION_RUNTIME)
    expect(fn.inputs.architectures).toEqual(['arm64'])
    expect(fn.inputs.timeout).toBe(60)
  })

  it("gives operators the dead-letter queue's URL", async () => {
    // Act
    const url = await valueOf(jobs.module.outputs.outboxDeadLetterQueueUrl)

    // Assess
    expect(url).toBe(deadLetters.state.url)
    expect(url).toMatch(/^https:\/\/sqs\./)
  })
})
