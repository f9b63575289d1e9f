// Where a cold start's CPU time goes, by source module: builds the GraphQL bundle and the minimal yoga + Pothos
// DynamoDB baseline unminified with source maps (otherwise as deployed), cold-starts each a few times under
// `node --cpu-prof` answering the lambda-bundles suite's consent query, cuts every profile into its phases (node's own
// start, importing the bundle, the first answer) and maps each sample back through the source map to the file and
// function it came from. Medians over the runs. Not a bench suite: profiling slows the process, so its figures explain
// the lambda-bundles suite's, they do not replace them.
//
//   npx tsx bench/cold-profile.ts [--runs 3] [--rows 25] [--bundle graphql] [--keep DIR] [--baseline DIR]
//   npx tsx bench/cold-profile.ts --analyse DIR [--filter schema/] [--rows 60]
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { SourceMap, type SourceMapPayload } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { freePort, startDynamoDBLocal } from '../local/dynamodb-local.ts'
import { FUNCTION_BUNDLING } from '../scripts/bundling.ts'
import { buildFunction, FUNCTIONS } from '../scripts/build-functions.ts'
import { coldStartSeed } from './lambda-bundles.ts'
import { IDLE, packageOf, type CallFrame, type CpuProfile, type ProfileNode } from './cpu-profile.ts'
import { median } from './measure.ts'
import { fixed, renderTable } from './table.ts'

const projectRoot = fileURLToPath(new URL('..', import.meta.url))

/** What the cold-started process reports besides its answer (scripts/lambda-runtime.mjs `--once`), microseconds. */
interface RunMarks {
  /** The import's start and end on the profile's clock. */
  readonly importSpan: readonly [number, number]
  /** The process's CPU time at the import's start and end, and after the answer. */
  readonly cpuAt: readonly [number, number, number]
}

type Phase = 'boot' | 'import' | 'answer'
const PHASES: readonly Phase[] = ['boot', 'import', 'answer']

/** Totals of one profile: microseconds by phase, then by key. */
type Tally = Record<Phase, Map<string, number>>
const emptyTally = (): Tally => ({ boot: new Map(), import: new Map(), answer: new Map() })
const add = (map: Map<string, number>, key: string, micros: number) => map.set(key, (map.get(key) ?? 0) + micros)

/** Builds one entry point as deployed but readable: unminified, with a linked source map and a metafile. */
async function buildReadable(name: string, entryPoint: string, outRoot: string): Promise<string> {
  const dir = resolve(outRoot, name)
  await rm(dir, { recursive: true, force: true })
  const { metafile } = await build({
    ...FUNCTION_BUNDLING,
    minify: false,
    sourcemap: true,
    metafile: true,
    entryPoints: { index: entryPoint },
    outdir: dir,
    logLevel: 'warning',
  })
  await writeFile(join(dir, 'meta.json'), JSON.stringify(metafile))
  return join(dir, 'index.mjs')
}

/** Who a source file belongs to: a package (`@pothos/core`), or the project's own file (`schema/consent.ts`). */
function ownerOfSource(source: string): string {
  return packageOf(source) ?? source
}

/** Maps bundle positions back to sources, one parsed source map per bundle file. */
class SourceMaps {
  readonly #maps = new Map<string, SourceMap | null>()

  /** `root`: the checkout the bundle was built from, which project paths are given relative to. */
  constructor(private readonly root = projectRoot) {}

  async load(dir: string): Promise<void> {
    for (const file of await readdir(dir)) {
      if (!file.endsWith('.mjs.map')) continue
      const payload = JSON.parse(await readFile(join(dir, file), 'utf8')) as SourceMapPayload
      this.#maps.set(`file://${join(dir, file.slice(0, -'.map'.length))}`, new SourceMap(payload))
    }
  }

  /** The source file (relative to the project) at a 0-based position of `url`, or null when `url` has no map. */
  sourceAt(url: string, line: number, column: number): string | null {
    const map = this.#maps.get(url)
    if (!map) return null
    const entry = map.findEntry(line, column) as { originalSource?: string }
    if (!entry.originalSource) return '(bundle glue)'
    // esbuild names sources relative to the map's own directory, which is the bundle's.
    const path = entry.originalSource.startsWith('file://')
      ? fileURLToPath(entry.originalSource)
      : resolve(dirname(fileURLToPath(url)), entry.originalSource)
    return relative(this.root, path)
  }

  isBundle(url: string): boolean {
    return this.#maps.has(url)
  }
}

function sourceOfFrame(frame: CallFrame, maps: SourceMaps): string {
  const { url, functionName } = frame
  if (!url) return functionName.startsWith('(') ? functionName : '(V8 builtins)'
  const mapped = maps.sourceAt(url, frame.lineNumber, frame.columnNumber)
  if (mapped !== null) return mapped
  if (url.startsWith('node:')) return url
  if (url.startsWith('file://')) return relative(projectRoot, fileURLToPath(url))
  return url
}

/**
 * Cuts one profile into phases and tallies, per phase: self time by owner (package or project file), self time by
 * source file, inclusive time by owner and by function (each counted once per sample). The bundle's top level (every
 * module's top-level code, scope-hoisted into one function by esbuild) has its self time split by source line.
 *
 * The profiler samples on the wall clock: on a busy machine a process waiting for a core gets its wait counted against
 * whatever it ran last, so a phase's samples can add up to several times its CPU time. Each phase's tallies are
 * therefore scaled to the CPU time the process itself measured for that phase: the profile says how the time divides,
 * `process.cpuUsage()` how much there was.
 */
function analyse(profile: CpuProfile, { importSpan, cpuAt }: RunMarks, maps: SourceMaps) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const isTopLevel = (frame: CallFrame) =>
    maps.isBundle(frame.url) && frame.lineNumber === 0 && frame.columnNumber === 0
  const total: Record<Phase, number> = { boot: 0, import: 0, answer: 0 }
  const selfOwner = emptyTally()
  const selfSource = emptyTally()
  const inclusiveOwner = emptyTally()
  const inclusiveFunction = emptyTally()
  // Self time of top-level nodes, split later by their line ticks.
  const topLevelSelf = new Map<number, { micros: number; phase: Phase }>()

  let at = profile.startTime
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0
    at += micros
    const node = byId.get(id)
    if (!node || IDLE.has(node.callFrame.functionName)) return
    const phase: Phase = at < importSpan[0] ? 'boot' : at <= importSpan[1] ? 'import' : 'answer'
    total[phase] += micros
    if (isTopLevel(node.callFrame)) {
      const entry = topLevelSelf.get(node.id) ?? { micros: 0, phase }
      entry.micros += micros
      topLevelSelf.set(node.id, entry)
    } else {
      const source = sourceOfFrame(node.callFrame, maps)
      add(selfOwner[phase], ownerOfSource(source), micros)
      add(selfSource[phase], source, micros)
    }
    const owners = new Set<string>()
    const functions = new Set<string>()
    for (let frame: ProfileNode | undefined = node; frame; frame = byId.get(parentOf.get(frame.id) ?? -1)) {
      if (IDLE.has(frame.callFrame.functionName) || isTopLevel(frame.callFrame)) continue
      const source = sourceOfFrame(frame.callFrame, maps)
      owners.add(ownerOfSource(source))
      functions.add(`${frame.callFrame.functionName || '(anonymous)'} ${source}`)
    }
    for (const owner of owners) add(inclusiveOwner[phase], owner, micros)
    for (const fn of functions) add(inclusiveFunction[phase], fn, micros)
  })
  for (const [id, { micros, phase }] of topLevelSelf) {
    const node = byId.get(id)
    const ticks = node?.positionTicks ?? []
    const count = ticks.reduce((sum, tick) => sum + tick.ticks, 0)
    if (!node || count === 0) {
      add(selfOwner[phase], '(bundle top level)', micros)
      continue
    }
    for (const tick of ticks) {
      const source = maps.sourceAt(node.callFrame.url, tick.line - 1, 0) ?? '(bundle top level)'
      const share = (micros * tick.ticks) / count
      add(selfOwner[phase], `top level: ${ownerOfSource(source)}`, share)
      add(selfSource[phase], `top level: ${source}`, share)
    }
  }
  const cpu: Record<Phase, number> = { boot: cpuAt[0], import: cpuAt[1] - cpuAt[0], answer: cpuAt[2] - cpuAt[1] }
  for (const phase of PHASES) {
    const scale = total[phase] > 0 ? cpu[phase] / total[phase] : 0
    for (const tally of [selfOwner, selfSource, inclusiveOwner, inclusiveFunction]) {
      for (const [key, micros] of tally[phase]) tally[phase].set(key, micros * scale)
    }
  }
  return { sampled: total, total: cpu, selfOwner, selfSource, inclusiveOwner, inclusiveFunction }
}

type Analysis = ReturnType<typeof analyse>

/** One cold start; resolves with the marks it reports. `node` gets `nodeOptions` before the runtime's arguments. */
function coldStartMarks(
  entry: string,
  request: object,
  env: Record<string, string>,
  nodeOptions: readonly string[],
): Promise<RunMarks> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeOptions, 'scripts/lambda-runtime.mjs', '--once', '--bundle', entry, '--request', JSON.stringify(request)],
      { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"status"'))
      if (code !== 0 || !line) return reject(new Error(`cold start of ${entry} failed (${code}):\n${out}`))
      const result = JSON.parse(line) as { status: number; body: string } & RunMarks
      const marks: RunMarks = { importSpan: result.importSpan, cpuAt: result.cpuAt }
      if (result.status !== 200) return reject(new Error(`cold start of ${entry} answered ${result.status}`))
      resolvePromise(marks)
    })
  })
}

/** One cold start under the profiler; resolves with the profile's path and the marks (kept beside it for `--analyse`). */
async function profiledColdStart(
  entry: string,
  request: object,
  env: Record<string, string>,
  profileDir: string,
): Promise<{ profile: string; marks: RunMarks }> {
  const marks = await coldStartMarks(entry, request, env, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])
  const profile = (await readdir(profileDir)).find((file) => file.endsWith('.cpuprofile'))
  if (!profile) throw new Error(`no profile in ${profileDir}`)
  await writeFile(join(profileDir, 'marks.json'), JSON.stringify(marks))
  return { profile: join(profileDir, profile), marks }
}

const ms = (micros: number) => fixed(micros / 1000, 1)

/** Median over runs of each key (a run without the key counts 0), heaviest first. */
function medians(maps: readonly Map<string, number>[], rows: number): [string, number][] {
  const keys = new Set(maps.flatMap((map) => [...map.keys()]))
  return [...keys]
    .map((key): [string, number] => [key, median(maps.map((map) => map.get(key) ?? 0))])
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
}

function report(name: string, analyses: readonly Analysis[], rows: number): string {
  const lines = [
    `=== ${name}: median of ${analyses.length} profiled cold starts: CPU ms (the profile's shares of each phase's CPU time; profiling adds overhead) ===`,
    renderTable(
      ['phase', 'CPU ms', 'sampled ms (wall clock)'],
      PHASES.map((phase) => [
        phase,
        ms(median(analyses.map((a) => a.total[phase]))),
        ms(median(analyses.map((a) => a.sampled[phase]))),
      ]),
    ),
  ]
  for (const phase of ['import', 'answer'] as const) {
    const table = (title: string, pick: (a: Analysis) => Map<string, number>) => {
      lines.push('', `${phase}: ${title}`)
      lines.push(
        renderTable(
          ['key', 'ms'],
          medians(
            analyses.map((a) => new Map([...pick(a)].filter(([key]) => key.includes(filter)))),
            rows,
          ).map(([key, micros]) => [key, ms(micros)]),
        ),
      )
    }
    table('self time by owner (package or project file)', (a) => a.selfOwner[phase])
    table('inclusive time by owner', (a) => a.inclusiveOwner[phase])
    table('self time by source file', (a) => a.selfSource[phase])
    table('inclusive time by function', (a) => a.inclusiveFunction[phase])
  }
  return lines.join('\n')
}

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    rows: { type: 'string', default: '25' },
    bundle: { type: 'string', multiple: true },
    keep: { type: 'string' },
    /**
     * Another checkout of this repository (e.g. `git archive <commit>` unpacked, with a node_modules link): its
     * GraphQL function is profiled too, as `graphql@baseline`, in the same rounds, for a before/after on equal terms.
     */
    baseline: { type: 'string' },
    /** A `--keep` directory of an earlier run: summarise its profiles again (e.g. with more rows), profile nothing. */
    analyse: { type: 'string' },
    /** Only keys containing this text in the tables (e.g. `schema/`). */
    filter: { type: 'string' },
    /**
     * Profile nothing: this many alternating cold starts of each bundle built as deployed (minified), timing each
     * phase's CPU with `process.cpuUsage()` alone, for figures the profiler's own overhead does not inflate.
     */
    plain: { type: 'string' },
  },
})
const filter = values.filter ?? ''
const runs = Number(values.runs)
const rows = Number(values.rows)
const work = values.keep ? resolve(values.keep) : await mkdtemp(join(tmpdir(), 'consent-gateway-cold-profile-'))
const subjects: Record<string, { entry: string; request: 'graphql' | 'minimalDynamodb'; root?: string }> = {
  graphql: { entry: FUNCTIONS.graphql, request: 'graphql' },
  'minimal-dynamodb': { entry: 'bench/fixtures/minimal-dynamodb-graphql.ts', request: 'minimalDynamodb' },
  ...(values.baseline
    ? {
        'graphql@baseline': {
          entry: join(resolve(values.baseline), FUNCTIONS.graphql),
          request: 'graphql',
          root: resolve(values.baseline),
        },
      }
    : {}),
}
const wanted = values.bundle ?? Object.keys(subjects)

async function analyseKept(dir: string): Promise<void> {
  for (const name of wanted) {
    const root = await readFile(join(dir, 'bundles', name, 'root.txt'), 'utf8')
    const maps = new SourceMaps(root)
    await maps.load(join(dir, 'bundles', name))
    const analyses: Analysis[] = []
    for (const run of (await readdir(dir)).filter((entry) => entry.startsWith(`${name}-`))) {
      const files = await readdir(join(dir, run))
      const profile = files.find((file) => file.endsWith('.cpuprofile'))
      if (!profile) continue
      const marks = JSON.parse(await readFile(join(dir, run, 'marks.json'), 'utf8')) as RunMarks
      const parsed = JSON.parse(await readFile(join(dir, run, profile), 'utf8')) as CpuProfile
      analyses.push(analyse(parsed, marks, maps))
    }
    console.log(`${report(name, analyses, rows)}\n`)
  }
}

if (values.analyse) {
  await analyseKept(resolve(values.analyse))
  process.exit(0)
}

/** `--plain N`: CPU per phase of N unprofiled cold starts of each bundle as deployed, alternating, medians. */
async function plainColdStarts(count: number, seed: Awaited<ReturnType<typeof coldStartSeed>>): Promise<void> {
  const built = []
  for (const name of wanted) {
    const subject = subjects[name]
    if (!subject) throw new Error(`unknown bundle ${name}: ${Object.keys(subjects).join(', ')}`)
    const { entry } = await buildFunction(name, subject.entry, join(work, 'deployed'))
    built.push({ name, entry, request: seed.requests[subject.request], runs: [] as RunMarks[] })
  }
  for (const { entry, request } of built) await coldStartMarks(entry, request, seed.env, [])
  for (let run = 0; run < count; run++) {
    for (const { entry, request, runs } of built) runs.push(await coldStartMarks(entry, request, seed.env, []))
  }
  const med = (runs: readonly RunMarks[], pick: (cpu: RunMarks['cpuAt']) => number) =>
    fixed(median(runs.map((run) => pick(run.cpuAt))) / 1000, 1)
  console.log(
    `CPU ms per phase, median of ${count} alternating unprofiled cold starts of each bundle as deployed (minified):`,
  )
  console.log(
    renderTable(
      ['bundle', 'boot', 'import', 'first answer', 'in all'],
      built.map(({ name, runs }) => [
        name,
        med(runs, ([boot]) => boot),
        med(runs, ([boot, imported]) => imported - boot),
        med(runs, ([, imported, answered]) => answered - imported),
        med(runs, ([, , answered]) => answered),
      ]),
    ),
  )
}

const dynamo = await startDynamoDBLocal({ port: await freePort(), startTimeoutMs: 180_000 })
try {
  const seed = await coldStartSeed(dynamo.endpoint)
  if (values.plain) {
    await plainColdStarts(Number(values.plain), seed)
    process.exit(0)
  }
  const built = []
  for (const name of wanted) {
    const subject = subjects[name]
    if (!subject) throw new Error(`unknown bundle ${name}: ${Object.keys(subjects).join(', ')}`)
    const entry = await buildReadable(name, subject.entry, join(work, 'bundles'))
    const root = subject.root ?? projectRoot
    await writeFile(join(entry, '..', 'root.txt'), root)
    const maps = new SourceMaps(root)
    await maps.load(resolve(entry, '..'))
    const request = seed.requests[subject.request]
    // One unprofiled run warms the OS file cache.
    await profiledColdStart(entry, request, seed.env, await mkdtemp(join(work, 'warm-')))
    built.push({ name, entry, maps, request, analyses: [] as Analysis[] })
  }
  // Rounds alternate the bundles, so a change in the machine's load hits all alike.
  for (let run = 0; run < runs; run++) {
    for (const { name, entry, maps, request, analyses } of built) {
      const { profile, marks } = await profiledColdStart(
        entry,
        request,
        seed.env,
        await mkdtemp(join(work, `${name}-`)),
      )
      analyses.push(analyse(JSON.parse(await readFile(profile, 'utf8')) as CpuProfile, marks, maps))
    }
  }
  for (const { name, analyses } of built) console.log(`${report(name, analyses, rows)}\n`)
} finally {
  await dynamo.stop()
  if (!values.keep) await rm(work, { recursive: true, force: true })
}
