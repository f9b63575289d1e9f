// The tree's one structural rule that a fresh clone depends on: infra/ (and sst.config.ts, test/infra/) type-check only
// against the SST platform in .sst/, which `sst install` writes and a fresh clone lacks. Any other file importing from
// them would make `npm test` resolve infra/tsconfig.json, and fail, before `npm run infra:check` ever ran.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const INFRA_ONLY = /^(infra\/|test\/infra\/|sst\.config\.ts$)/
const IMPORTS_INFRA = /(?:from|import)\s*\(?\s*['"](?:\.\.?\/)+(?:\.\.\/)*(?:infra\/|sst\.config)/

describe('the tree', () => {
  it('imports nothing from infra/ or sst.config.ts outside of them', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((file) => file && !INFRA_ONLY.test(file) && file !== 'test/unit/layout.test.ts') // its examples below
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
