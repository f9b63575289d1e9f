// What a running `npm start` tells the tools beside it (`npm run admin`): where its DynamoDB Local and table are, and
// which process it is. Written into the data directory once everything answers (with --in-memory too), removed when
// it stops; a file whose process is gone (a crash, a kill -9) is stale and says so.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The file's name inside the data directory (`.data/runtime.json` by default). */
export const RUNTIME_FILE = 'runtime.json'

export interface LocalRuntime {
  readonly pid: number
  readonly startedAt: string
  /** DynamoDB Local's URL (it takes any credentials: store/client.ts gives it the local ones). */
  readonly dynamoEndpoint: string
  readonly tableName: string
  readonly graphqlUrl: string
  readonly inMemory: boolean
}

export type RuntimeLookup =
  | { readonly state: 'running'; readonly runtime: LocalRuntime; readonly file: string }
  | { readonly state: 'stale'; readonly runtime: LocalRuntime; readonly file: string }
  | { readonly state: 'absent'; readonly file: string }
  | { readonly state: 'unreadable'; readonly file: string; readonly reason: string }

/** Writes the runtime file (atomically: a reader never sees half of it); returns what removes it again. */
export function writeRuntimeFile(dataDir: string, runtime: LocalRuntime): () => void {
  const file = join(dataDir, RUNTIME_FILE)
  mkdirSync(dataDir, { recursive: true })
  const partial = `${file}.${runtime.pid}.tmp`
  writeFileSync(partial, `${JSON.stringify(runtime, null, 2)}\n`)
  renameSync(partial, file)
  return () => {
    // Another `npm start` on the same data directory may have written its own since: that one stays.
    const current = readRuntimeFile(dataDir)
    if (current.state !== 'absent' && current.state !== 'unreadable' && current.runtime.pid !== runtime.pid) return
    rmSync(file, { force: true })
  }
}

/** Whether a process with this id exists (one of another user's counts: it is running, we may not signal it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** What the data directory says about a running `npm start`. */
export function readRuntimeFile(dataDir: string): RuntimeLookup {
  const file = join(dataDir, RUNTIME_FILE)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent', file }
    return { state: 'unreadable', file, reason: (error as Error).message }
  }
  let runtime: LocalRuntime
  try {
    runtime = JSON.parse(text) as LocalRuntime
  } catch {
    return { state: 'unreadable', file, reason: 'it is not JSON' }
  }
  if (
    !Number.isInteger(runtime.pid) ||
    typeof runtime.dynamoEndpoint !== 'string' ||
    typeof runtime.tableName !== 'string'
  ) {
    return { state: 'unreadable', file, reason: 'it lacks pid, dynamoEndpoint or tableName' }
  }
  return { state: processAlive(runtime.pid) ? 'running' : 'stale', runtime, file }
}
