// offline: the operations GraphiQL opens with under npm start are valid against the schema as printed, so a partner's
// first click runs (a typo or a renamed field shows up here, not in front of them).
import { parse, validate } from 'graphql'
import { describe, expect, it } from 'vitest'
import { GRAPHIQL_TABS } from '../../local/graphiql-tabs.ts'
import { schema } from '../../schema/index.ts'

describe('the GraphiQL tabs of npm start', () => {
  it.each(GRAPHIQL_TABS('http://127.0.0.1:4000/local/done').map((tab) => [tab.split('\n')[0], tab]))(
    '%s',
    (_title, tab) => {
      expect(validate(schema, parse(tab))).toEqual([])
    },
  )

  it('sends the bank back to the local done page', () => {
    expect(GRAPHIQL_TABS('http://127.0.0.1:4123/local/done')[0]).toContain(
      'redirectUrl: "http://127.0.0.1:4123/local/done"',
    )
  })
})
