// What the GraphQL function compiles at cold start: the modules its entry chunk imports statically. Code the first
// consent query never runs (the jobs, outbound webhook delivery, the provider adapters) must sit in chunks loaded on
// first use, or every cold start pays for compiling it.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, type Metafile } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { FUNCTIONS } from '../../scripts/build-functions.ts'
import { FUNCTION_BUNDLING } from '../../scripts/bundling.ts'

/** The source files of the entry chunk and of every chunk it imports statically, and those of the lazy chunks. */
function closureOf(metafile: Metafile, entryPoint: string): { statically: Set<string>; lazily: Set<string> } {
  const outputs = metafile.outputs
  const entry = Object.keys(outputs).find((path) => outputs[path]?.entryPoint === entryPoint)
  if (!entry) throw new Error(`no output for ${entryPoint}`)
  const reached = new Set<string>()
  const pending = [entry]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (reached.has(next)) continue
    reached.add(next)
    for (const { path, kind } of outputs[next]?.imports ?? []) {
      if (kind === 'import-statement' && path in outputs) pending.push(path)
    }
  }
  const statically = new Set<string>()
  const lazily = new Set<string>()
  for (const [path, output] of Object.entries(outputs)) {
    for (const input of Object.keys(output.inputs)) (reached.has(path) ? statically : lazily).add(input)
  }
  return { statically, lazily }
}

describe('the GraphQL function’s cold start', () => {
  let closure: ReturnType<typeof closureOf>
  beforeAll(async () => {
    const { metafile } = await build({
      ...FUNCTION_BUNDLING,
      entryPoints: { index: FUNCTIONS.graphql },
      outdir: join(tmpdir(), 'cold-start-closure'),
      write: false,
      logLevel: 'silent',
      metafile: true,
    })
    closure = closureOf(metafile, FUNCTIONS.graphql)
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
    expect(closure.statically.has(source)).toBe(false)
    expect(closure.lazily.has(source)).toBe(true)
  })

  it('compiles the schema and the consent read at cold start', () => {
    for (const source of ['schema/index.ts', 'service/consent-service.ts', 'store/consent-repository.ts']) {
      expect(closure.statically.has(source)).toBe(true)
    }
  })
})
