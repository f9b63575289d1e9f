// Builds each Lambda function into its own folder under dist/functions/<name>/ with the esbuild options SST deploys
// with (scripts/bundling.ts): what the bundle tests run and the benchmarks measure is what would be deployed.
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { build, type Metafile } from 'esbuild'
import { FUNCTION_BUNDLING } from './bundling.ts'

/** Every Lambda entry point, by function name. */
export const FUNCTIONS = {
  graphql: 'functions/graphql.ts',
  'public-api': 'functions/public-api.ts',
  'sweep-deadlines': 'functions/sweep-deadlines.ts',
  reconcile: 'functions/reconcile.ts',
  'deliver-webhooks': 'functions/deliver-webhooks.ts',
  'outbox-relay': 'functions/outbox-relay.ts',
  authorizer: 'functions/authorizer.ts',
  'ws-connect': 'functions/ws-connect.ts',
  'ws-message': 'functions/ws-message.ts',
  'ws-disconnect': 'functions/ws-disconnect.ts',
  'ws-poller': 'functions/ws-poller.ts',
} as const

export interface BuiltFunction {
  readonly name: string
  readonly dir: string
  /** The handler module Lambda loads. */
  readonly entry: string
  /** Bytes of the entry module alone, and of everything the function ships (lazy chunks included). */
  readonly entryBytes: number
  readonly totalBytes: number
  /**
   * Bytes a cold start loads and compiles: the entry and every chunk it imports statically, before any `import()`.
   * What lazy loading moves out of a cold start shows here, not in `entryBytes` (esbuild may move shared code from
   * the entry into a chunk the entry still imports).
   */
  readonly staticBytes: number
}

/** What a cold start of one entry point loads: its chunks (output paths) and the source files bundled into them. */
export interface StaticClosure {
  readonly chunks: ReadonlySet<string>
  readonly sources: ReadonlySet<string>
  readonly bytes: number
}

/**
 * The entry chunk of `entryPoint` and every chunk reached from it by static imports, from the metafile of a build run
 * in the current directory (the metafile's paths are relative to it).
 */
export function staticClosure(metafile: Metafile, entryPoint: string): StaticClosure {
  const { outputs } = metafile
  const wanted = resolve(entryPoint)
  const entry = Object.keys(outputs).find((path) => {
    const source = outputs[path]?.entryPoint
    return source !== undefined && resolve(source) === wanted
  })
  if (!entry) throw new Error(`no output chunk for ${entryPoint}`)
  const chunks = new Set<string>()
  const pending = [entry]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (chunks.has(next)) continue
    chunks.add(next)
    for (const { path, kind } of outputs[next]?.imports ?? []) {
      if (kind === 'import-statement' && path in outputs) pending.push(path)
    }
  }
  const sources = new Set<string>()
  let bytes = 0
  for (const chunk of chunks) {
    const output = outputs[chunk]
    if (!output) continue
    bytes += output.bytes
    for (const source of Object.keys(output.inputs)) sources.add(source)
  }
  return { chunks, sources, bytes }
}

async function sizes(dir: string, entry: string): Promise<{ entryBytes: number; totalBytes: number }> {
  let totalBytes = 0
  for (const file of await readdir(dir)) totalBytes += (await stat(join(dir, file))).size
  return { entryBytes: (await stat(entry)).size, totalBytes }
}

/**
 * Files of one package bundled in both its CommonJS and its ES module flavour (`x.js` beside `x.mjs`): two copies of
 * the package, and for graphql two `GraphQLError` classes, which breaks error handling in ways no type check sees.
 */
export function dualFlavourModules(inputs: readonly string[]): string[] {
  const inBundle = new Set(inputs.filter((path) => path.includes('node_modules/')))
  return [...inBundle].filter((path) => path.endsWith('.js') && inBundle.has(path.replace(/\.js$/, '.mjs')))
}

/** Bundles one entry point (its dynamically imported modules become chunks beside it). */
export async function buildFunction(
  name: string,
  entryPoint: string,
  outRoot = 'dist/functions',
): Promise<BuiltFunction> {
  const dir = resolve(outRoot, name)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const { metafile } = await build({
    ...FUNCTION_BUNDLING,
    entryPoints: { index: entryPoint },
    outdir: dir,
    logLevel: 'warning',
    metafile: true,
  })
  const duplicated = dualFlavourModules(Object.keys(metafile.inputs))
  if (duplicated.length > 0) {
    throw new Error(`${name}: bundled twice, as CommonJS and as an ES module: ${duplicated.join(', ')}`)
  }
  const entry = join(dir, 'index.mjs')
  return { name, dir, entry, ...(await sizes(dir, entry)), staticBytes: staticClosure(metafile, entryPoint).bytes }
}

export async function buildAllFunctions(outRoot = 'dist/functions'): Promise<BuiltFunction[]> {
  const built: BuiltFunction[] = []
  for (const [name, entry] of Object.entries(FUNCTIONS)) built.push(await buildFunction(name, entry, outRoot))
  return built
}

/** Whole kilobytes of 1,000 bytes: how this script, the bench (bench/lambda-bundles.ts) and the README count. */
export const kilobytes = (bytes: number): string => (bytes / 1000).toFixed(0)

const kB = (bytes: number) => kilobytes(bytes).padStart(6)

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const fn of await buildAllFunctions()) {
    console.log(
      `${fn.name.padEnd(24)} ${kB(fn.entryBytes)} kB entry, ${kB(fn.staticBytes)} kB at cold start, ${kB(fn.totalBytes)} kB in all  ${fn.dir}`,
    )
  }
}
