// offline: Apollo's multipart subscription answer part by part: the delimiter after each part (a client hands a part on
// when it sees it), heartbeats while the source is quiet, a failing source as one typed transport-level error with
// nothing of the failure in it, and the closing delimiter.
import type { ExecutionResult } from 'graphql'
import { describe, expect, it } from 'vitest'
import { apolloMultipartResponse, APOLLO_MULTIPART_CONTENT_TYPE } from '../../schema/apollo-multipart.ts'

const parts = (text: string) =>
  text
    .split('\r\n--graphql')
    .slice(1, -1)
    .map((part) => JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4)) as unknown)

describe('apolloMultipartResponse', () => {
  it('writes each result as a part, heartbeats while the source is quiet, and closes with --graphql--', async () => {
    let release: () => void = () => undefined
    const quiet = new Promise<void>((resolve) => (release = resolve))
    async function* source(): AsyncGenerator<ExecutionResult> {
      yield { data: { n: 1 } }
      await quiet
      yield { data: { n: 2 } }
    }
    const response = apolloMultipartResponse(source(), 10)
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    // Read until two heartbeats came while the source waits, then let it go on.
    while ((text.match(/\r\n\r\n\{\}\r\n--graphql/g) ?? []).length < 2) {
      const { value } = await reader.read()
      text += new TextDecoder().decode(value)
    }
    release()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }

    expect(response.headers.get('content-type')).toBe(APOLLO_MULTIPART_CONTENT_TYPE)
    expect(text.endsWith('\r\n--graphql--\r\n')).toBe(true)
    const all = parts(text)
    expect(all[0]).toEqual({ payload: { data: { n: 1 } } })
    expect(all.at(-1)).toEqual({ payload: { data: { n: 2 } } })
    expect(all.slice(1, -1).every((part) => JSON.stringify(part) === '{}')).toBe(true)
  })

  it('ends a source that throws with one transport-level error that says nothing of it', async () => {
    async function* source(): AsyncGenerator<ExecutionResult> {
      yield { data: { n: 1 } }
      throw new Error('connect ECONNREFUSED 10.0.0.7:8000 at Socket.internal (/var/task/index.mjs:1:2)')
    }
    const text = await apolloMultipartResponse(source(), 60_000).text()

    expect(parts(text)).toEqual([
      { payload: { data: { n: 1 } } },
      { payload: null, errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    ])
    expect(text).not.toMatch(/ECONNREFUSED|index\.mjs/)
    expect(text.endsWith('\r\n--graphql--\r\n')).toBe(true)
  })

  it('sends a single result (no stream) as its one part', async () => {
    const text = await apolloMultipartResponse({ data: { ok: true } }, 60_000).text()
    expect(parts(text)).toEqual([{ payload: { data: { ok: true } } }])
    expect(text.endsWith('\r\n--graphql--\r\n')).toBe(true)
  })
})
