// e2e: a document of several operations runs the one each request names, every time: graphql-jit compiles a document
// for one operation, so only documents of one operation are compiled (schema/compiled-queries.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../support/stack.ts'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})
afterAll(() => stack?.close())

const DOCUMENT = `query Typename { __typename } query Consents { consents(first: 1) { __typename } }`

async function run(operationName: string): Promise<unknown> {
  const response = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { authorization: stack.authorization(stack.tenantA), 'content-type': 'application/json' },
    body: JSON.stringify({ query: DOCUMENT, operationName }),
  })
  return ((await response.json()) as { data?: unknown }).data
}

describe('compiled queries', () => {
  it('runs the operation each request names in a document of two', async () => {
    // Act
    const first = await run('Typename')
    const second = await run('Consents')
    const third = await run('Typename')

    // Assert
    expect(first).toEqual({ __typename: 'Query' })
    expect(second).toEqual({ consents: { __typename: 'QueryConsentsConnection' } })
    expect(third).toEqual({ __typename: 'Query' })
  })
})
