// e2e, every provider: a provider's refusal reaches the client as our code and our message; the provider's own text
// (its validation message) goes to the log only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sandboxControl } from '../support/provider-drivers.ts'
import { execute, startStack, type Stack } from '../support/stack.ts'
import type { Logger } from '../../runtime/logging.ts'

let stack: Stack
const logLines: string[] = []
const recordingLogger = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as const).map((level) => [
    level,
    (message: string, extra?: Record<string, unknown>) => logLines.push(JSON.stringify({ level, message, ...extra })),
  ]),
) as unknown as Logger

beforeAll(async () => {
  stack = await startStack({ logger: recordingLogger })
})
afterAll(async () => {
  await stack?.close()
})

const CASES = [
  { provider: 'FINQWARE', input: { institutionId: 'bt_ro', region: 'EEA' }, url: () => stack.finqware.url },
  { provider: 'WORLDLINE', input: { institutionId: '20101', region: 'EEA' }, url: () => stack.worldline.url },
  { provider: 'YAPILY', input: { institutionId: 'modelo-sandbox', region: 'UK' }, url: () => stack.yapily.url },
] as const

/** The text every sandbox puts in the error body of an injected failure: the provider's own words. */
const PROVIDER_TEXT = 'injected failure (sandbox fault control)'

describe.each(CASES.map((c) => [c.provider, c] as const))('%s refusals', (_name, c) => {
  it("answer PROVIDER_REJECTED with our message; the provider's text is logged, never shown", async () => {
    // Prepare: a consent, then the provider refusing the next call as invalid
    const created = await execute(
      stack.client(stack.tenantA),
      `mutation ($input: CreateConsentInput!) { createConsent(input: $input) { ... on CreateConsentPayload { consent { id } } } }`,
      { input: { provider: c.provider, userId: `refused-${c.provider}`, ...c.input } },
    )
    const id = created.data?.createConsent.consent.id as string
    await sandboxControl(c.url(), 'faults', { failNext: 5, status: 400, code: 'validation_error' })
    const logged = logLines.length
    // Act
    let result
    try {
      result = await execute(
        stack.client(stack.tenantA),
        `mutation ($id: ID!) { refreshConsent(id: $id) { __typename ... on Error { code message retryable } ... on ProviderRejectedError { provider providerCode } } }`,
        { id },
      )
    } finally {
      await sandboxControl(c.url(), 'faults', { failNext: 0 })
    }
    // Assess
    expect(result.errors).toBeUndefined()
    const answer = result.data?.refreshConsent as Record<string, unknown>
    expect(answer).toMatchObject({
      __typename: 'ProviderRejectedError',
      code: 'PROVIDER_REJECTED',
      provider: c.provider,
    })
    expect(JSON.stringify(result)).not.toContain(PROVIDER_TEXT)
    expect(answer.message).toMatch(/refused the request/)
    expect(logLines.slice(logged).join('\n')).toContain(PROVIDER_TEXT)
  })
})
