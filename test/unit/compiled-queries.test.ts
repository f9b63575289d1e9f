// When documents run compiled (schema/compiled-queries.ts): a document on its second run starts loading the compiler
// and is compiled once it has loaded; a document sent once never is; documents of several operations and
// subscriptions never are; at most `max` documents are kept. Through a real yoga server over a small schema.
import { createSchema, createYoga } from 'graphql-yoga'
import { describe, expect, it } from 'vitest'
import { CompiledQueries } from '../../schema/compiled-queries.ts'

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      hello(name: String!): String!
    }
    type Subscription {
      tick: Int!
    }
  `,
  resolvers: {
    Query: { hello: (_: unknown, { name }: { name: string }) => `hello ${name}` },
    Subscription: {
      tick: {
        subscribe: async function* () {
          yield { tick: 1 }
        },
      },
    },
  },
})

function serve(compiled: CompiledQueries) {
  const yoga = createYoga({ schema, plugins: [compiled.plugin()], logging: false })
  return async (query: string, variables: Record<string, unknown> = {}, operationName?: string) => {
    const response = await yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables, operationName }),
    })
    return { status: response.status, body: await response.text() }
  }
}

const HELLO = 'query ($name: String!) { hello(name: $name) }'

describe('compiled queries', () => {
  it('compile a document on its second run, once the compiler has loaded; a document sent once never', async () => {
    // Prepare
    const compiled = new CompiledQueries()
    const ask = serve(compiled)

    // Act
    const first = await ask(HELLO, { name: 'a' })
    const afterOne = { compiled: compiled.get(HELLO), loaded: compiled.compilerLoaded }
    await ask(HELLO, { name: 'b' })
    await compiled.load()
    const third = await ask(HELLO, { name: 'c' })
    await ask('{ other: hello(name: "once") }')

    // Assert
    expect(first.body).toBe('{"data":{"hello":"hello a"}}')
    expect(afterOne).toEqual({ compiled: undefined, loaded: false })
    expect(compiled.get(HELLO)).toBeDefined()
    expect(third.body).toBe('{"data":{"hello":"hello c"}}')
    expect(compiled.get('{ other: hello(name: "once") }')).toBeUndefined()
  })

  it('answer a compiled document’s wrong variables as the interpreted one, and never compile several operations or a subscription', async () => {
    // Prepare
    const compiled = new CompiledQueries({ compileAfterRuns: 1 })
    await compiled.load()
    const interpreted = serve(new CompiledQueries({ compileAfterRuns: Number.POSITIVE_INFINITY }))
    const ask = serve(compiled)
    const TWO = 'query A { hello(name: "a") } query B { hello(name: "b") }'

    // Act
    const wrong = [await ask(HELLO, { name: 5 }), await ask(HELLO, {})]
    const expected = [await interpreted(HELLO, { name: 5 }), await interpreted(HELLO, {})]
    await ask(TWO, {}, 'A')
    await ask(TWO, {}, 'B')
    await ask('subscription { tick }')

    // Assert
    expect(compiled.get(HELLO)).toBeDefined()
    expect(wrong).toEqual(expected)
    expect(wrong[0]?.status).toBe(400)
    expect(compiled.get(TWO)).toBeUndefined()
    expect(compiled.get('subscription { tick }')).toBeUndefined()
  })

  it('keep at most `max` documents, the least recently used dropped', async () => {
    // Prepare
    const compiled = new CompiledQueries({ compileAfterRuns: 1, max: 2 })
    await compiled.load()
    const ask = serve(compiled)
    const documents = ['{ a: hello(name: "a") }', '{ b: hello(name: "b") }', '{ c: hello(name: "c") }']

    // Act
    for (const document of documents) await ask(document)

    // Assert
    expect(documents.map((document) => compiled.get(document) !== undefined)).toEqual([false, true, true])
  })
})
