// How every Lambda function is bundled, in one place: `FUNCTION_NODEJS` is what infra/api.ts hands SST
// (`sst.aws.Function`'s `nodejs` argument), and `FUNCTION_BUNDLING` is the esbuild build SST's CLI runs with those
// settings, reproduced for scripts/build-functions.ts so the bundle tests and benchmarks run what would be deployed.
// Plain esbuild types only: no SST globals here, so a plain Node script can import this file. It lives here, not in
// infra/, because infra/tsconfig.json extends the platform `sst install` writes to .sst/, which a fresh clone lacks, and
// the test runner resolves that tsconfig for every file under infra/ (test/unit/layout.test.ts keeps it so).
import type { BuildOptions } from 'esbuild'
import functionPlugins from './esbuild-plugins.mjs'

/** The Lambda runtime of every function (Node 22: the oldest runtime this code targets, see package.json engines). */
export const FUNCTION_RUNTIME = 'nodejs22.x'

/**
 * Nothing is left external, the AWS SDK included, although the Lambda runtime ships one: the bundled SDK is the
 * version the tests ran against (the runtime's changes under a deployed function), and bundled it loads faster,
 * tree-shaken ES modules in one file instead of hundreds of CommonJS files resolved from the runtime's
 * node_modules (measured with bench/lambda-bundles.ts: about 80 ms less cold start, for about 400 kB).
 */
export const EXTERNAL_PACKAGES: string[] = []

/**
 * The esbuild plugins of every bundle, as SST takes them: a file, relative to the project root, whose default export is
 * the array of plugins. SST's CLI passes no `alias` or `plugins` of `nodejs.esbuild` on to esbuild (only `external` and
 * `target`), so a plugin file is the one way to steer its module resolution.
 */
export const FUNCTION_PLUGINS_FILE = 'scripts/esbuild-plugins.mjs'

/**
 * The `nodejs` argument of every `sst.aws.Function`.
 *
 * - ES modules, minified (SST's defaults, stated so they cannot drift).
 * - `splitting`: dynamically imported modules (the provider adapters, see composition/gateway.ts) become their own
 *   chunks, loaded on first use; a deployment that never calls Yapily never loads the Yapily adapter.
 * - `plugins`: graphql's subpath imports resolve to its ES module files (esbuild-plugins.mjs), so a bundle holds one
 *   graphql, not its CommonJS copy beside it.
 */
export const FUNCTION_NODEJS = {
  format: 'esm',
  minify: true,
  splitting: true,
  plugins: FUNCTION_PLUGINS_FILE,
} as const

/**
 * The line SST's Node.js builder prepends to every ESM function: `require`, `__filename` and `__dirname` for the
 * CommonJS code inside the bundle (without `require`, a bundled `require('node:…')` throws "Dynamic require of … is
 * not supported" at cold start, and `node -e "import(...)"` hides that failure: load a bundle with
 * `--input-type=module` or invoke its handler to see it). infra/api.ts must not pass it again: a second
 * `const require` in one module is a SyntaxError.
 */
export const CREATE_REQUIRE_BANNER = [
  "import { createRequire as topLevelCreateRequire } from 'module';",
  'const require = topLevelCreateRequire(import.meta.url);',
  "import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from 'url'",
  'const __filename = topLevelFileUrlToPath(import.meta.url)',
  "const __dirname = topLevelFileUrlToPath(new topLevelURL('.', import.meta.url))",
].join('\n')

/**
 * The esbuild options SST's CLI (pkg/runtime/node/build.go, sst 4.x) derives from `FUNCTION_NODEJS` for a deploy:
 * bundle for Node, ESM with `.mjs` chunks beside the entry, `module` before `main`, names kept, minified, no source
 * maps, the banner above, the plugins of FUNCTION_PLUGINS_FILE, nothing external (SST forces only `sharp` and
 * `pg-native` out, which this code never uses).
 *
 * One deliberate difference: SST compiles for `esnext` and offers no way to name a Node version; here the target is
 * `node22`, the runtime's own. Neither lowers anything in this code base (measured: the two builds are identical, chunk
 * hashes included), so the local bundle still is the deployed one.
 *
 * Entry points and the output directory belong to the caller (`splitting` needs `outdir`).
 *
 * @example
 * ```ts
 * import { build } from 'esbuild'
 * import { FUNCTION_BUNDLING } from './bundling.ts'
 *
 * await build({ ...FUNCTION_BUNDLING, entryPoints: { index: 'functions/graphql.ts' }, outdir: 'dist/graphql' })
 * ```
 */
export const FUNCTION_BUNDLING = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: FUNCTION_NODEJS.minify,
  keepNames: true,
  splitting: FUNCTION_NODEJS.splitting,
  external: EXTERNAL_PACKAGES,
  mainFields: ['module', 'main'],
  outExtension: { '.js': '.mjs' },
  banner: { js: CREATE_REQUIRE_BANNER },
  // FUNCTION_PLUGINS_FILE's default export, the array SST's builder loads.
  plugins: functionPlugins,
} satisfies BuildOptions
