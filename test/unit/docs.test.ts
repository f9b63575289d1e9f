// offline: the docs say what the code does (error catalogue, status crosswalk, the tests the data model cites).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { STATUS_CROSSWALK } from '../../domain/crosswalk.ts'
import { ERROR_CATALOGUE, ERROR_CODES } from '../../domain/errors.ts'
import { PROVIDERS } from '../../domain/provider.ts'
import { CONSENT_STATUSES } from '../../domain/status.ts'

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

/** The cells of every markdown table row (padding and alignment ignored). */
const tableRows = (markdown: string) =>
  markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )

describe('docs/errors.md', () => {
  const page = read('docs/errors.md')
  const rows = tableRows(page)

  it.each(ERROR_CODES)('documents %s with its number, HTTP status, retryability and meaning', (code) => {
    const entry = ERROR_CATALOGUE[code]
    expect(rows).toContainEqual([
      String(entry.number),
      `[\`${code}\`](#${code.toLowerCase()})`,
      String(entry.httpStatus),
      entry.retryable ? 'yes' : 'no',
      entry.summary,
    ])
    expect(page).toContain(`\n## ${code}\n`)
  })

  it('documents no code the catalogue lacks', () => {
    const documented = [...page.matchAll(/^## ([A-Z_]+)$/gm)].map((match) => match[1])
    expect(documented.sort()).toEqual([...ERROR_CODES].sort())
  })
})

describe('docs/providers.md', () => {
  it('shows the crosswalk exactly as domain/crosswalk.ts maps it', () => {
    const page = read('docs/providers.md')
    const table = page.slice(page.indexOf('<!-- crosswalk:start -->'), page.indexOf('<!-- crosswalk:end -->'))
    const rows = tableRows(table).filter(([first]) => first !== 'unified')
    const documented = new Map<string, string>()
    for (const [status, ...cells] of rows) {
      PROVIDERS.forEach((provider, index) => {
        for (const raw of (cells[index] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)) {
          documented.set(`${provider}:${raw}`, status ?? '')
        }
      })
    }
    const actual = new Map<string, string>()
    for (const provider of PROVIDERS) {
      for (const [raw, mapped] of Object.entries(STATUS_CROSSWALK[provider]))
        actual.set(`${provider}:${raw}`, mapped.status)
    }
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(actual))
    expect(rows.map(([status]) => status)).toEqual([...CONSENT_STATUSES])
  })
})

describe('docs/data-model.md', () => {
  const page = read('docs/data-model.md')

  it('cites only test files that exist', () => {
    const files = [...new Set([...page.matchAll(/`(test\/[\w/.-]+\.test\.ts)`/g)].map((match) => match[1] ?? ''))]
    expect(files.length).toBeGreaterThan(3)
    for (const file of files) expect(existsSync(new URL(`../../${file}`, import.meta.url)), file).toBe(true)
  })

  it('cites only test names that exist in the files it names', () => {
    for (const line of page.split('\n').filter((l) => l.startsWith('|'))) {
      for (const citation of line.matchAll(/`(test\/[\w/.-]+\.test\.ts)` › ([^;|]+)/g)) {
        const source = read(citation[1] ?? '')
        for (const name of [...(citation[2] ?? '').matchAll(/"([^"]+)"/g)].map((match) => match[1] ?? '')) {
          const stem = name.replace(/ \.\.\.$/, '').replace(/, \.\.\.$/, '')
          expect(source, `${citation[1]} should contain a test named "${stem}"`).toContain(stem)
        }
      }
    }
  })
})

describe('docs/local.md', () => {
  const page = read('docs/local.md')

  it('documents every sandbox control the sandboxes register, and the gateway clock and done page', () => {
    const sources = readdirSync(new URL('../../sandbox', import.meta.url), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.ts'))
      .map((file) => read(`sandbox/${file}`))
      .join('\n')
    const routes = new Set([...sources.matchAll(/'(\/__sandbox\/[^']+)'/g)].map((match) => match[1] ?? ''))
    // Per-consent controls are registered by action name (sandbox/shared/controls.ts registerConsentControl).
    for (const match of sources.matchAll(/registerConsentControl\(\s*router,\s*store,\s*'([^']+)'/g)) {
      routes.add(`/__sandbox/consents/:consentId/${match[1] ?? ''}`)
    }
    expect(routes.size).toBeGreaterThan(10)
    for (const route of [...routes, '/local/clock', '/local/done']) {
      expect(page, route).toContain(route.replace(':consentId', '<id>'))
    }
  })

  it('is linked from the README', () => {
    expect(read('README.md')).toContain('(docs/local.md)')
  })
})
