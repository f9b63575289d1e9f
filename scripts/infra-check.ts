// `npm run infra:check`: the offline proof of sst.config.ts and infra/, with no AWS account and no network but npm.
// 1. installs the SST platform into .sst/platform (`sst install` with offline flags), unless the install there was
//    made by this sst version from this sst.config.ts;
// 2. type-checks sst.config.ts, infra/ and test/infra/ against the platform's types (infra/tsconfig.json);
// 3. lints them with type information from that program (the root lint checks them without types: the root
//    tsconfig excludes them, so `npm run lint` and `npm run typecheck` pass on a fresh clone without .sst/);
// 4. runs the Pulumi-mock tests of test/infra/ (their own vitest config; `npm test` does not run them).
// Never deploys: nothing here talks to AWS.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ESLint, type Linter } from 'eslint'
import type { InfraTestSummary } from './infra-test-summary.ts'

const ROOT = resolve(import.meta.dirname, '..')
const PLATFORM = join(ROOT, '.sst/platform')
const BIN = join(ROOT, 'node_modules/.bin')
/** What the platform in .sst/ was installed from; written after a successful install. */
const INSTALL_STAMP = join(ROOT, '.sst/infra-check-install.json')
/** Where the test reporter leaves its figures (test/infra/support/assertion-reporter.ts). */
const TEST_SUMMARY = join(ROOT, '.sst/infra-check-tests.json')
/** Where tsc keeps what it checked (infra/tsconfig.json's `tsBuildInfoFile`). */
const TSC_BUILD_INFO = join(ROOT, '.sst/infra.tsbuildinfo')
/** The infra program's files, as eslint patterns. */
const INFRA_FILES = ['sst.config.ts', 'infra/**/*.ts', 'test/infra/**/*.ts']

/** `sst install` without a network: no Bun download, no dependency check, no telemetry, a throwaway stage. */
const OFFLINE_SST = {
  SST_SKIP_DEPENDENCY_CHECK: 'true',
  SST_NO_BUN: 'true',
  SST_TELEMETRY_DISABLED: '1',
  SST_STAGE: 'ci',
}

const started = performance.now()
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`

const hashOf = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

function fail(title: string, why: string, since: number): never {
  console.error(`infra:check ✗ ${title} failed (${why}) after ${seconds(since)}; total ${seconds(started)}`)
  process.exit(1)
}

/** Runs one step in the foreground and returns how long it took; stops the check if it fails. */
function run(title: string, command: string, args: string[], env: Record<string, string> = {}): string {
  const since = performance.now()
  console.log(`\ninfra:check ▸ ${title}`)
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } })
  if (result.status !== 0) fail(title, `exit ${result.status ?? result.signal}`, since)
  console.log(`infra:check ✓ ${title} (${seconds(since)})`)
  return seconds(since)
}

/**
 * What an install depends on: the sst version (the platform's sources and its Pulumi packages come with it) and
 * sst.config.ts (`sst install` reads the providers from its app(); the whole file is hashed, the simplest safe key).
 */
function installKey(): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules/sst/package.json'), 'utf8')) as {
    version: string
  }
  return JSON.stringify({ sst: version, config: hashOf(join(ROOT, 'sst.config.ts')) })
}

function install(): string {
  const key = installKey()
  const installed =
    existsSync(INSTALL_STAMP) &&
    readFileSync(INSTALL_STAMP, 'utf8') === key &&
    existsSync(join(PLATFORM, 'config.d.ts')) &&
    existsSync(join(PLATFORM, 'node_modules/@pulumi/pulumi/package.json'))
  if (installed) {
    console.log(`infra:check ▸ SST platform: cached (installed by ${key}; delete .sst/ to reinstall)`)
    return 'cached'
  }
  rmSync(INSTALL_STAMP, { force: true })
  const took = run('sst install (offline)', join(BIN, 'sst'), ['install'], OFFLINE_SST)
  writeFileSync(INSTALL_STAMP, key)
  return took
}

/**
 * The root eslint config with type information for the infra files, from infra/tsconfig.json: the root config lints
 * them without (its block for them is left out here), everything else as it is.
 */
async function lint(): Promise<string> {
  const title = 'lint with types: sst.config.ts, infra/, test/infra/'
  const since = performance.now()
  console.log(`\ninfra:check ▸ ${title}`)
  const { default: rootConfig } = (await import(join(ROOT, 'eslint.config.js'))) as { default: Linter.Config[] }
  // The root config's one block scoped to infra/ is the one that turns type information off there.
  const withoutTypes = (block: Linter.Config) => block.files?.includes('infra/**') ?? false
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    baseConfig: [
      ...rootConfig.filter((block) => !withoutTypes(block)),
      {
        files: INFRA_FILES,
        languageOptions: {
          parserOptions: { projectService: false, project: ['infra/tsconfig.json'], tsconfigRootDir: ROOT },
        },
        // ESLint's cache keys a file's result on its content and its config, not on the files it imports, whose
        // types typed rules read. This setting puts the whole program in the config: tsc's build info (written by
        // the type-check just before) changes with any file of the program, and then every file is linted again.
        settings: { infraProgram: hashOf(TSC_BUILD_INFO) },
      },
    ],
    cache: true,
    cacheLocation: join(ROOT, '.sst/infra-eslintcache'),
    cacheStrategy: 'content',
  })
  const results = await eslint.lintFiles(INFRA_FILES)
  const output = await (await eslint.loadFormatter('stylish')).format(results)
  if (output) console.log(output)
  const problems = results.reduce((sum, result) => sum + result.errorCount + result.warningCount, 0)
  if (problems > 0) fail(title, `${problems} problems`, since)
  console.log(`infra:check ✓ ${title}: ${results.length} files (${seconds(since)})`)
  return seconds(since)
}

function tests(): { took: string; summary: InfraTestSummary } {
  rmSync(TEST_SUMMARY, { force: true })
  const took = run(
    'Pulumi-mock tests (test/infra)',
    join(BIN, 'vitest'),
    ['run', '--config', 'test/infra/vitest.config.ts'],
    { INFRA_CHECK_SUMMARY: TEST_SUMMARY },
  )
  return { took, summary: JSON.parse(readFileSync(TEST_SUMMARY, 'utf8')) as InfraTestSummary }
}

const installTook = install()
const typecheckTook = run('type-check sst.config.ts, infra/, test/infra/', join(BIN, 'tsc'), [
  '-p',
  'infra/tsconfig.json',
])
const lintTook = await lint()
const { took: testsTook, summary } = tests()

console.log(
  `\ninfra:check ✓ ${summary.tests} tests, ${summary.assertions} assertions, in ${seconds(started)} ` +
    `(install ${installTook}, type-check ${typecheckTook}, lint ${lintTook}, tests ${testsTook})`,
)
