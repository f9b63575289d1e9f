// The tree's structural rules that a fresh clone and the Lambda bundles depend on. infra/ (and sst.config.ts,
// test/infra/) type-check only against the SST platform in .sst/, which `sst install` writes and a fresh clone lacks: any
// other file importing from them would make `npm test` resolve infra/tsconfig.json, and fail, before `npm run
// infra:check` ever ran. And the one HTTP app (http/) sits between its hosts (local/, functions/) and the rest: no
// Lambda entry reaches local mode's code (its controls, DynamoDB Local, the sandboxes), and nothing below http/ imports
// it. eslint checks each import; this checks what they add up to, following every relative import from each entry.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { describe, expect, it } from 'vitest'

const INFRA_ONLY = /^(infra\/|test\/infra\/|sst\.config\.ts$)/
const IMPORTS_INFRA = /(?:from|import)\s*\(?\s*['"](?:\.\.?\/)+(?:\.\.\/)*(?:infra\/|sst\.config)/

const trackedFiles = () =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file && existsSync(file))

/** Relative module specifiers in `source`: static imports, re-exports, side-effect and dynamic imports. */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.\.?\/[^'"]+)['"]/g

function relativeImports(source: string): string[] {
  return [...source.matchAll(RELATIVE_IMPORT)].map((match) => match[1] ?? '')
}

/** The relative imports that load something at run time: type-only imports are erased. */
const runtimeImports = (source: string): string[] =>
  relativeImports(source.replace(/^import type [^;]*?from\s*['"][^'"]+['"]/gms, ''))

/** Every file of ours `entry` reaches through relative imports, itself included (paths from the repository root). */
function reachedFrom(entry: string): Set<string> {
  const reached = new Set<string>()
  const queue = [normalize(entry)]
  while (queue.length) {
    const file = queue.shift() ?? ''
    if (reached.has(file) || !existsSync(file)) continue
    reached.add(file)
    for (const specifier of runtimeImports(readFileSync(file, 'utf8'))) {
      queue.push(normalize(join(dirname(file), specifier)))
    }
  }
  return reached
}

const LAMBDA_ENTRIES = () => trackedFiles().filter((file) => /^functions\/[^/]+\.ts$/.test(file))

describe('the tree', () => {
  it('imports nothing from infra/ or sst.config.ts outside of them', () => {
    const files = trackedFiles().filter((file) => !INFRA_ONLY.test(file) && file !== 'test/unit/layout.test.ts') // its examples below
    expect(files.length).toBeGreaterThan(100)
    const offenders = files.filter((file) => IMPORTS_INFRA.test(readFileSync(file, 'utf8')))
    expect(offenders).toEqual([])
  })

  it('would notice such an import', () => {
    expect(IMPORTS_INFRA.test(`import { FUNCTION_NODEJS } from '../infra/functions.ts'`)).toBe(true)
    expect(IMPORTS_INFRA.test(`import { x } from '../../infra/api.ts'`)).toBe(true)
    expect(IMPORTS_INFRA.test(`await import('../sst.config.ts')`)).toBe(true)
    expect(IMPORTS_INFRA.test(`import { FUNCTION_BUNDLING } from './bundling.ts'`)).toBe(false)
  })
})

describe('the HTTP layer', () => {
  it('is reached by every Lambda entry that serves HTTP, and no Lambda entry reaches local mode or a sandbox', () => {
    const entries = LAMBDA_ENTRIES()
    expect(entries).toEqual(expect.arrayContaining(['functions/graphql.ts', 'functions/public-api.ts']))
    for (const entry of entries) {
      const reached = [...reachedFrom(entry)]
      expect(
        reached.filter((file) => /^(local|sandbox|bench|test|scripts)\//.test(file)),
        entry,
      ).toEqual([])
    }
    for (const entry of ['functions/graphql.ts', 'functions/public-api.ts']) {
      expect(reachedFrom(entry).has('http/app.ts'), entry).toBe(true)
    }
  })

  it('keeps GraphQL out of the function that serves providers and browsers (its cold start)', () => {
    expect([...reachedFrom('functions/public-api.ts')].filter((file) => file.startsWith('schema/'))).toEqual([])
  })

  it('is imported only by its hosts (local/, functions/), tests and benchmarks, and imports neither host', () => {
    const below = trackedFiles().filter((file) => /^(domain|store|providers|service|schema|sandbox)\//.test(file))
    const importsHttp = (file: string) =>
      relativeImports(readFileSync(file, 'utf8')).some((specifier) =>
        normalize(join(dirname(file), specifier)).startsWith('http/'),
      )
    expect(below.filter(importsHttp)).toEqual([])
    const http = trackedFiles().filter((file) => file.startsWith('http/'))
    expect(http.length).toBeGreaterThan(5)
    for (const file of http) {
      const targets = relativeImports(readFileSync(file, 'utf8')).map((specifier) =>
        normalize(join(dirname(file), specifier)),
      )
      expect(
        targets.filter((target) => /^(local|functions|sandbox|store)\//.test(target)),
        file,
      ).toEqual([])
    }
  })

  it('would notice such imports, static, dynamic and side-effect alike, and not count type-only ones', () => {
    expect(
      relativeImports(`import { a } from '../local/x.ts'\nconst b = await import('./y.ts')\nimport './z.ts'`),
    ).toEqual(['../local/x.ts', './y.ts', './z.ts'])
    expect(relativeImports(`import { x } from 'hono'`)).toEqual([])
    expect(
      runtimeImports(`import type {\n  A,\n  B,\n} from '../schema/server.ts'\nimport { c } from './c.ts'`),
    ).toEqual(['./c.ts'])
  })
})
