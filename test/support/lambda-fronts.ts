// Built Lambda bundles served by the stand-in runtime (scripts/lambda-runtime.mjs) in a child process, as a Function
// URL or an HTTP API (payload 2.0) or a REST API (payload 1.0) would serve them: real events, real streaming, over
// HTTP.
import { spawn, type ChildProcess } from 'node:child_process'

export interface LambdaFront {
  readonly url: string
  stop(): Promise<void>
}

/**
 * Starts `node scripts/lambda-runtime.mjs` with `routes` (`METHOD /prefix*=bundle`), the function's timeout, and the
 * function's environment; resolves once it listens.
 */
export async function startLambdaFront(options: {
  routes: readonly string[]
  env: Readonly<Record<string, string>>
  timeoutMs?: number
  port?: number
  /** The event format: a Function URL's or HTTP API's (2.0), or a REST API's (1.0). @default '2.0' */
  payload?: '1.0' | '2.0'
}): Promise<LambdaFront> {
  const args = [
    'scripts/lambda-runtime.mjs',
    '--port',
    String(options.port ?? 0),
    '--timeout-ms',
    String(options.timeoutMs ?? 30_000),
    '--payload',
    options.payload ?? '2.0',
  ]
  for (const route of options.routes) args.push('--route', route)
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lambda runtime did not start:\n${output}`)), 20_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`lambda runtime exited (${code}):\n${output}`))
    })
  })
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 2_000).unref()
      }),
  }
}
