// Reads a V8 .cpuprofile (node --cpu-prof) and tells where the time went: self time by package and by function,
// and inclusive time by function, as text. Used by `npm run bench -- --cpu-prof` to explain a result.
import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fixed, renderTable } from './table.ts'

/** A V8 .cpuprofile's frame, node and profile (the fields read here and in cold-profile.ts). */
export interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}

export interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: readonly number[]
  /** Self samples by source line (1-based) of this node's function. */
  readonly positionTicks?: readonly { line: number; ticks: number }[]
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples: readonly number[]
  /** Microseconds since the previous sample. */
  readonly timeDeltas: readonly number[]
}

const projectRoot = fileURLToPath(new URL('..', import.meta.url))
/** Samples of no work: the profiler's idle and root nodes. */
export const IDLE = new Set(['(idle)', '(root)'])

/** The package a path under node_modules belongs to (`@pothos/core`, `graphql`); null for any other path. */
export function packageOf(path: string): string | null {
  const modules = path.lastIndexOf('node_modules/')
  if (modules < 0) return null
  const [scope, name] = path.slice(modules + 'node_modules/'.length).split('/')
  return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? path)
}

/** Who a frame belongs to: a package, a project file, a Node internal module, or V8 itself. */
function ownerOf(frame: CallFrame): string {
  const { url, functionName } = frame
  if (!url) return functionName.startsWith('(') ? functionName : '(V8 builtins)'
  const dependency = packageOf(url)
  if (dependency) return dependency
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  if (url.startsWith('file://')) return relative(projectRoot, fileURLToPath(url))
  return url
}

function labelOf(frame: CallFrame): string {
  const where = frame.url ? `${ownerOf(frame)}:${frame.lineNumber + 1}` : ownerOf(frame)
  return `${frame.functionName || '(anonymous)'} ${where}`
}

const top = (totals: Map<string, number>, count: number) =>
  [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)

/**
 * Summarises a CPU profile: busy time (idle excluded), the heaviest owners and functions by self time, and the
 * heaviest functions by inclusive time (a function counted once per sample however deep it recurses).
 */
export async function summariseCpuProfile(path: string, rows = 20): Promise<string> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)

  const selfByOwner = new Map<string, number>()
  const selfByFunction = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let busyMicros = 0
  let idleMicros = 0
  profile.samples.forEach((id, index) => {
    const node = byId.get(id)
    const micros = profile.timeDeltas[index] ?? 0
    if (!node) return
    if (IDLE.has(node.callFrame.functionName)) {
      idleMicros += micros
      return
    }
    busyMicros += micros
    const owner = ownerOf(node.callFrame)
    selfByOwner.set(owner, (selfByOwner.get(owner) ?? 0) + micros)
    const label = labelOf(node.callFrame)
    selfByFunction.set(label, (selfByFunction.get(label) ?? 0) + micros)
    const seen = new Set<string>()
    for (let at: ProfileNode | undefined = node; at; at = byId.get(parentOf.get(at.id) ?? -1)) {
      const name = labelOf(at.callFrame)
      if (seen.has(name) || IDLE.has(at.callFrame.functionName)) continue
      seen.add(name)
      inclusive.set(name, (inclusive.get(name) ?? 0) + micros)
    }
  })

  const share = (micros: number) => `${fixed((100 * micros) / Math.max(busyMicros, 1), 1)} %`
  const ms = (micros: number) => fixed(micros / 1000, 0)
  return [
    `CPU profile ${path}`,
    `busy ${ms(busyMicros)} ms, idle ${ms(idleMicros)} ms (shares below are of busy time)`,
    '',
    'self time by owner:',
    renderTable(
      ['owner', 'ms', 'share'],
      top(selfByOwner, rows).map(([name, micros]) => [name, ms(micros), share(micros)]),
    ),
    '',
    'self time by function:',
    renderTable(
      ['function', 'ms', 'share'],
      top(selfByFunction, rows).map(([name, micros]) => [name, ms(micros), share(micros)]),
    ),
    '',
    'inclusive time by function:',
    renderTable(
      ['function', 'ms', 'share'],
      top(inclusive, rows * 2).map(([name, micros]) => [name, ms(micros), share(micros)]),
    ),
  ].join('\n')
}
