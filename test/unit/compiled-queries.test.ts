// When documents run compiled (schema/compiled-queries.ts): a document on its second run starts loading the compiler
// and is compiled once it has loaded; a document sent once never is; documents of several operations and
// subscriptions never are; at most `max` documents are kept, each with what the fast path needs of it (its compiled
// function, operation name and cost) in one entry. Through a real yoga server over a small schema.
import { createSchema, createYoga } from 'graphql-yoga'
import { describe, expect, it } from 'vitest'
import { CompiledQueries } from '../../schema/compiled-queries.ts'
import { useQueryCost, type QueryCosts } from '../../schema/cost.ts'

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

function serve(compiled: CompiledQueries, costs?: QueryCosts) {
  const plugins = costs ? [useQueryCost({ maxCost: 100 }, costs), compiled.plugin(costs)] : [compiled.plugin()]
  const yoga = createYoga({ schema, plugins, logging: false })
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

  it('stay interpreted, answering the same, when the compiler does not load; it is tried once and told once', async () => {
    // Prepare
    const told: unknown[] = []
    let tries = 0
    const compiled = new CompiledQueries({
      loadCompiler: () => {
        tries += 1
        return Promise.reject(new Error('chunk missing'))
      },
      onCompilerUnavailable: (error) => told.push(error),
    })
    const ask = serve(compiled)

    // Act
    const answers = []
    for (const name of ['a', 'b', 'c', 'd']) answers.push(await ask(HELLO, { name }))
    await ask('{ other: hello(name: "twice") }')
    await ask('{ other: hello(name: "twice") }')

    // Assert
    expect(answers.map((answer) => answer.body)).toEqual(
      ['a', 'b', 'c', 'd'].map((name) => `{"data":{"hello":"hello ${name}"}}`),
    )
    expect(compiled.get(HELLO)).toBeUndefined()
    expect({ tries, told: told.map(String) }).toEqual({ tries: 1, told: ['Error: chunk missing'] })
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

  it('keep one entry per document for the fast path: compiled, named and costed, under the same bound', async () => {
    // Prepare
    const compiled = new CompiledQueries({ compileAfterRuns: 1, max: 2 })
    await compiled.load()
    const ask = serve(compiled, new WeakMap())
    const documents = ['query A { a: hello(name: "a") }', '{ b: hello(name: "b") }', '{ c: hello(name: "c") }']

    // Act
    for (const document of documents) await ask(document)
    const evicted = compiled.prepared(documents[0] as string)
    // Sent again, the evicted document is prepared again, and pushes out the least recently used: the second.
    await ask(documents[0] as string, {}, 'A')
    const again = documents.map((document) => compiled.prepared(document))

    // Assert
    expect(evicted).toBeUndefined()
    expect(again.map((entry) => entry && { operationName: entry.operationName, cost: entry.cost })).toEqual([
      { operationName: 'A', cost: { requested: 1, limit: 100 } },
      undefined,
      { operationName: null, cost: { requested: 1, limit: 100 } },
    ])
    expect(again[2]?.compiled).toBe(compiled.get(documents[2] as string))
    expect(compiled.get(documents[1] as string)).toBeUndefined()
  })

  it('prepare no document whose cost was not measured (run without the cost plugin), though it is compiled', async () => {
    // Prepare
    const compiled = new CompiledQueries({ compileAfterRuns: 1 })
    await compiled.load()
    const ask = serve(compiled)

    // Act
    await ask(HELLO, { name: 'a' })

    // Assert
    expect(compiled.get(HELLO)).toBeDefined()
    expect(compiled.prepared(HELLO)).toBeUndefined()
  })
})
