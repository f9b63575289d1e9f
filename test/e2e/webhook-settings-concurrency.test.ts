// Many writers of one tenant's webhook settings at once (a script rotating in a loop): each gets its settings or a
// typed, retryable conflict, never an internal error.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { execute, startStack, type Stack } from '../support/stack.ts'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})

afterAll(async () => {
  await stack?.close()
})

const SET_ENDPOINT = `mutation ($url: String) {
  setWebhookEndpoint(url: $url) {
    __typename ... on Error { code message } ... on ValidationError { issues { path message } }
  }
}`

it('answers many writers of the webhook settings at once with their settings or a retryable conflict, never an internal error', async () => {
  // Prepare: one tenant's script changing its endpoint and rotating its secret in parallel
  const ROTATE = `mutation { rotateWebhookSigningSecret { settings { signingSecrets { createdAt } } } }`
  const client = stack.client(stack.tenantB)

  // Act
  const answers = await Promise.all(
    Array.from({ length: 24 }, (_, index) =>
      index % 2 === 0
        ? execute(client, SET_ENDPOINT, { url: `https://partner-b.example/hooks/${index}` })
        : execute(client, ROTATE, {}),
    ),
  )

  // Assess: every answer is a payload or CONCURRENT_MODIFICATION (retryable), in the union or at the top
  for (const answer of answers) {
    const codes = (answer.errors ?? []).map((error) => error.extensions?.code)
    expect(
      codes.every((code) => code === 'CONCURRENT_MODIFICATION'),
      JSON.stringify(answer),
    ).toBe(true)
    const union = answer.data?.setWebhookEndpoint
    if (union?.code) expect(union.code).toBe('CONCURRENT_MODIFICATION')
  }
})
