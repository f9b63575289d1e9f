// What the GraphQL function compiles at cold start: the modules its entry chunk imports statically. Code the first
// consent query never runs (the jobs, outbound webhook delivery, the provider adapters) must sit in chunks loaded on
// first use, or every cold start pays for compiling it.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { FUNCTIONS, staticClosure, type StaticClosure } from '../../scripts/build-functions.ts'
import { FUNCTION_BUNDLING } from '../../scripts/bundling.ts'

describe('the GraphQL function’s cold start', () => {
  let closure: StaticClosure
  let lazily: Set<string>
  beforeAll(async () => {
    const { metafile } = await build({
      ...FUNCTION_BUNDLING,
      entryPoints: { index: FUNCTIONS.graphql },
      outdir: join(tmpdir(), 'cold-start-closure'),
      write: false,
      logLevel: 'silent',
      metafile: true,
    })
    closure = staticClosure(metafile, FUNCTIONS.graphql)
    lazily = new Set(
      Object.entries(metafile.outputs)
        .filter(([chunk]) => !closure.chunks.has(chunk))
        .flatMap(([, output]) => Object.keys(output.inputs)),
    )
  })

  it.each([
    'service/lifecycle-jobs.ts',
    'service/webhook-dispatcher.ts',
    'outbound/webhook-post.ts',
    'store/lease-repository.ts',
    'providers/finqware/adapter.ts',
    'providers/worldline/adapter.ts',
    'providers/yapily/adapter.ts',
  ])('loads %s on first use, not at cold start', (source) => {
    expect(closure.sources.has(source)).toBe(false)
    expect(lazily.has(source)).toBe(true)
  })

  it('compiles the schema and the consent read at cold start', () => {
    for (const source of ['schema/index.ts', 'service/consent-service.ts', 'store/consent-repository.ts']) {
      expect(closure.sources.has(source)).toBe(true)
    }
  })
})
