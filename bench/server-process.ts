// Parent side of bench/servers.ts: forks it (the servers under test live in their own process, so the load
// generator never shares their event loop), and talks to it over the IPC channel.
import { fork, type ChildProcess } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** What the child is told at start, through its environment. */
export interface ServersSetup {
  readonly dynamoEndpoint: string
  readonly tableName: string
  /** Wire the Finqware adapter (through a local sandbox) rather than no provider at all. */
  readonly providers: 'finqware' | 'none'
  /** Answer GetItem from DynamoDB Local's first answer, in process (bench/canned-store.ts), or always ask it. */
  readonly store: 'dynamodb' | 'canned'
}

/** Messages from the child. */
export type ChildMessage =
  | {
      readonly type: 'ready'
      readonly gatewayUrl: string
      readonly rawUrl: string
      readonly minimalUrl: string
      readonly yogaOnlyUrl: string
      readonly authorization: string
      readonly bearerAuthorization: string
    }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'cpu'; readonly id: number; readonly userMicros: number; readonly systemMicros: number }

/** Messages to the child. */
export type ParentMessage = { readonly type: 'cpu'; readonly id: number } | { readonly type: 'stop' }

export const SETUP_ENV = 'BENCH_SERVERS_SETUP'

export interface ServersProcess {
  readonly pid: number
  /** POST consent(id) here: the gateway's /graphql. */
  readonly gatewayUrl: string
  /** The raw node:http handler doing the same GetItem. */
  readonly rawUrl: string
  /** A minimal yoga + Pothos server doing the same GetItem (no authentication, limits or plugins): its /graphql. */
  readonly minimalUrl: string
  /** The same gateway with every request through yoga (its fast path off, schema/fast-path.ts): its /graphql. */
  readonly yogaOnlyUrl: string
  /** HTTP Basic header of the API client provisioned for the bench tenant. */
  readonly authorization: string
  /** `Bearer <token>`: the same client's access token from the gateway's /oauth/token (client credentials). */
  readonly bearerAuthorization: string
  /** CPU time (user + system) the child has used so far, in microseconds. */
  cpuMicros(): Promise<number>
  /** Asks the child to close its servers and exit; kills it after 5 s. Resolves with the CPU profile, if any. */
  stop(): Promise<string | null>
}

export interface StartServersOptions {
  /** Write a V8 CPU profile of the child into this directory. */
  readonly cpuProfDir?: string | null | undefined
  readonly startTimeoutMs?: number
}

const SERVERS_ENTRY = fileURLToPath(new URL('./servers.ts', import.meta.url))

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true)
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      done(true)
    })
  })
}

/**
 * Forks `node --import tsx bench/servers.ts` and resolves once both its servers listen.
 *
 * @example
 * const servers = await startServers({ dynamoEndpoint, tableName: BENCH_TABLE, providers: 'finqware', store: 'dynamodb' })
 * try { ... } finally { await servers.stop() }
 */
export async function startServers(setup: ServersSetup, options: StartServersOptions = {}): Promise<ServersProcess> {
  const profileDir = options.cpuProfDir ?? null
  const child = fork(SERVERS_ENTRY, [], {
    // Our own execArgv is tsx's loader setup as the tsx CLI chose it; the child gets a plain, explicit one.
    execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    env: { ...process.env, [SETUP_ENV]: JSON.stringify(setup) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  })
  // A parent that dies without stop() must not leave the servers behind (the child also exits on disconnect).
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)

  const pending = new Map<number, { resolve: (micros: number) => void; reject: (error: Error) => void }>()
  child.on('exit', () => {
    for (const { reject } of pending.values()) reject(new Error('bench servers exited'))
    pending.clear()
  })
  let ready: Extract<ChildMessage, { type: 'ready' }>
  try {
    ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('bench servers did not start within the timeout')),
        options.startTimeoutMs ?? 60_000,
      )
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer)
          resolve(message)
        } else if (message.type === 'failed') {
          clearTimeout(timer)
          reject(new Error(`bench servers failed to start: ${message.message}`))
        } else if (message.type === 'cpu') {
          pending.get(message.id)?.resolve(message.userMicros + message.systemMicros)
          pending.delete(message.id)
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`bench servers exited (code ${code}, signal ${signal})`))
      })
      child.once('error', reject)
    })
  } catch (error) {
    child.kill('SIGKILL')
    process.removeListener('exit', killOnExit)
    throw error
  }

  // From here on the child's death shows up as 'exit' (pending CPU reads reject, measurements fail); a send racing
  // that death emits 'error', which must not crash the bench before it reports.
  child.on('error', () => undefined)
  let nextId = 0
  const send = (message: ParentMessage) => child.send(message)

  return {
    pid: child.pid ?? -1,
    gatewayUrl: ready.gatewayUrl,
    rawUrl: ready.rawUrl,
    minimalUrl: ready.minimalUrl,
    yogaOnlyUrl: ready.yogaOnlyUrl,
    authorization: ready.authorization,
    bearerAuthorization: ready.bearerAuthorization,
    cpuMicros() {
      if (exited(child)) return Promise.reject(new Error('bench servers are gone'))
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        send({ type: 'cpu', id })
      })
    },
    async stop() {
      process.removeListener('exit', killOnExit)
      if (!exited(child)) {
        if (child.connected) send({ type: 'stop' })
        else child.kill('SIGTERM')
        if (!(await waitForExit(child, 5_000))) {
          child.kill('SIGKILL')
          await waitForExit(child, 5_000)
        }
      }
      return profileDir ? newestProfile(profileDir, child.pid) : null
    },
  }
}

/**
 * The main thread's profile V8 wrote for `pid` (named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile); thread 0
 * is the main thread, the others are module-loader workers (tsx's hooks) that only load code.
 */
async function newestProfile(dir: string, pid: number | undefined): Promise<string | null> {
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.cpuprofile') && (pid === undefined || name.includes(`.${pid}.0.`)))
    .sort()
  const last = names.at(-1)
  return last ? join(dir, last) : null
}
