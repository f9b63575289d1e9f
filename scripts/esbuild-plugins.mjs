// The esbuild plugins of every Lambda bundle: scripts/bundling.ts adds them to its build, and SST's deploy build loads
// this file itself (`nodejs.plugins` in FUNCTION_NODEJS). Plain JavaScript on purpose: SST imports it with plain
// `node` and relays each of esbuild's resolve calls to it over a pipe, with a stand-in for esbuild's plugin API that
// offers only `onResolve`, `onLoad` and `onEnd` (no `build.resolve`), and that matches a hook's `filter` against
// nothing useful (sst 4.x's nodejs-runtime/plugin.mjs tests it on the message, not on the import's path). So the hook
// below matches every path and decides in its body, and resolves with Node's own resolver.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A subpath import of graphql (`graphql/error/index.js`, `graphql/language/printer`); never `graphql` itself. */
const GRAPHQL_SUBPATH = /^graphql\/./

/**
 * graphql's ES module files for its subpath imports. graphql 16 has no `exports` map: its package `module` field sends
 * a bare `graphql` to index.mjs, but a subpath like graphql-jit's `graphql/execution/execute.js` names the CommonJS
 * file, and a bundle holding both would carry two copies of graphql, two `GraphQLError` classes among them
 * (scripts/build-functions.ts refuses such a bundle). Each subpath goes to the `.mjs` file beside the one Node
 * resolves, which is the same code as the ES module graph the bare import loads.
 *
 * @type {import('esbuild').Plugin}
 */
export const graphqlAsEsModules = {
  name: 'graphql-as-es-modules',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (!GRAPHQL_SUBPATH.test(args.path) || !args.resolveDir) return undefined
      const resolved = createRequire(join(args.resolveDir, 'importer.js')).resolve(args.path)
      const esModule = resolved.replace(/\.js$/, '.mjs')
      return esModule !== resolved && existsSync(esModule) ? { path: esModule } : undefined
    })
  },
}

/**
 * graphql-jit's import of fast-json-stringify, answered with unused-fast-json-stringify.mjs: graphql-jit calls it only
 * for `customJSONSerializer`, which we never enable, and the real one brings ajv into the bundle.
 *
 * @type {import('esbuild').Plugin}
 */
export const withoutFastJsonStringify = {
  name: 'without-fast-json-stringify',
  setup(build) {
    const standIn = fileURLToPath(new URL('./unused-fast-json-stringify.mjs', import.meta.url))
    build.onResolve({ filter: /.*/ }, (args) =>
      args.path === 'fast-json-stringify' && /[\\/]graphql-jit[\\/]/.test(args.importer)
        ? { path: standIn }
        : undefined,
    )
  },
}

/** A file of graphql-jit's ES module build (`dist/*.mjs`). */
const GRAPHQL_JIT_ES_MODULE = /[\\/]graphql-jit[\\/]dist[\\/][^\\/]+\.mjs$/

/**
 * graphql-jit's ES module build imports its own files without an extension (`./execution`) or as `.js`, which resolve
 * to its CommonJS build: those files `require('graphql')`, and a bundle then carries graphql as CommonJS-wrapped
 * modules with a namespace object of every export (initialised at import, kept whole: ~190 kB, tens of ms of cold
 * start). Each of those imports goes to the `.mjs` file beside the importer, so graphql-jit is ES modules throughout
 * and imports graphql by name.
 *
 * @type {import('esbuild').Plugin}
 */
export const graphqlJitAsEsModules = {
  name: 'graphql-jit-as-es-modules',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (!args.path.startsWith('./') || !GRAPHQL_JIT_ES_MODULE.test(args.importer)) return undefined
      const esModule = join(dirname(args.importer), `${args.path.replace(/\.js$/, '')}.mjs`)
      return existsSync(esModule) ? { path: esModule } : undefined
    })
  },
}

/** What SST's builder reads: the default export, an array of plugins. */
export default [graphqlAsEsModules, withoutFastJsonStringify, graphqlJitAsEsModules]
