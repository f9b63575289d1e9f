// `npm run admin` as an operator runs it, in a child process of its own: its exit code and both streams, whole.
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')

export interface AdminRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs cli/admin.ts with `args` in environment `env` (where it finds its table, or AWS). */
export function runAdmin(args: readonly string[], env: NodeJS.ProcessEnv): Promise<AdminRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/admin.ts'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', fail)
    child.once('close', (code) => done({ code, stdout, stderr }))
  })
}
