// The bundles' esbuild plugins (scripts/esbuild-plugins.mjs): one graphql in a bundle whose dependencies import its
// subpaths, no fast-json-stringify, and the same answers through a plugin API as small as the one SST's builder offers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { build, type OnResolveArgs, type OnResolveResult, type Plugin, type PluginBuild } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dualFlavourModules } from '../../scripts/build-functions.ts'
import { FUNCTION_BUNDLING, FUNCTION_PLUGINS_FILE } from '../../scripts/bundling.ts'
import functionPlugins from '../../scripts/esbuild-plugins.mjs'

const require = createRequire(import.meta.url)

// Lives in the repository, so bare imports resolve from its node_modules.
const ENTRY = `import { compileQuery } from 'graphql-jit'
import { GraphQLError, execute } from 'graphql'
import { locatedError } from 'graphql/error/index.js'
console.log(compileQuery, GraphQLError, execute, locatedError)
`

type ResolveHook = (args: Partial<OnResolveArgs>) => OnResolveResult | undefined

/**
 * The plugin API of SST's builder (its nodejs-runtime plugin.mjs): `onResolve`, `onLoad` and `onEnd` only, each hook's
 * filter tested against the message rather than the import's path, that is against `undefined`.
 */
function sstLikeResolve(plugins: readonly Plugin[]): ResolveHook {
  const hooks: { filter: RegExp; callback: ResolveHook }[] = []
  const api = {
    onResolve: (options: { filter: RegExp }, callback: ResolveHook) => hooks.push({ ...options, callback }),
    onLoad: () => undefined,
    onEnd: () => undefined,
  }
  for (const plugin of plugins) void plugin.setup(api as unknown as PluginBuild)
  return (args) => {
    for (const { filter, callback } of hooks) {
      if (!new RegExp(filter).test(String(undefined))) continue
      const reply = callback(args)
      if (reply) return reply
    }
    return undefined
  }
}

describe('the Lambda bundles’ esbuild plugins', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esbuild-plugins-'))
    await writeFile(resolve('.esbuild-plugins-entry.test-tmp.mjs'), ENTRY)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
    await rm(resolve('.esbuild-plugins-entry.test-tmp.mjs'), { force: true })
  })

  it('bundle graphql once, as ES modules, when graphql-jit imports its CommonJS subpaths; no fast-json-stringify', async () => {
    // Act
    const { metafile } = await build({
      ...FUNCTION_BUNDLING,
      entryPoints: { index: '.esbuild-plugins-entry.test-tmp.mjs' },
      outdir: dir,
      logLevel: 'silent',
      metafile: true,
    })

    // Assess
    const inputs = Object.keys(metafile.inputs)
    expect(dualFlavourModules(inputs)).toEqual([])
    expect(inputs.filter((path) => /node_modules\/graphql\/.*\.js$/.test(path))).toEqual([])
    expect(inputs.some((path) => path.endsWith('node_modules/graphql/error/index.mjs'))).toBe(true)
    expect(inputs.filter((path) => /node_modules\/.*(fast-json-stringify|ajv)/.test(path))).toEqual([])
    expect(inputs).toContain('scripts/unused-fast-json-stringify.mjs')
  })

  it('answer the same through SST’s plugin API, whose filters never see the path', async () => {
    // Prepare
    const plugins = ((await import(resolve(FUNCTION_PLUGINS_FILE))) as { default: Plugin[] }).default
    const resolveLikeSst = sstLikeResolve(plugins)
    const jit = dirname(require.resolve('graphql-jit'))

    // Act
    const deep = resolveLikeSst({ path: 'graphql/execution/execute.js', resolveDir: jit, importer: `${jit}/x.mjs` })
    const bare = resolveLikeSst({ path: 'graphql', resolveDir: jit, importer: `${jit}/x.mjs` })
    const serializer = resolveLikeSst({ path: 'fast-json-stringify', resolveDir: jit, importer: `${jit}/x.mjs` })
    const elsewhere = resolveLikeSst({ path: 'fast-json-stringify', resolveDir: dir, importer: `${dir}/x.mjs` })

    // Assess
    expect(plugins).toEqual(functionPlugins)
    expect(deep?.path).toMatch(/node_modules\/graphql\/execution\/execute\.mjs$/)
    expect(bare).toBeUndefined()
    expect(serializer?.path).toBe(resolve('scripts/unused-fast-json-stringify.mjs'))
    expect(elsewhere).toBeUndefined()
  })
})
