// A counting proxy in front of DynamoDB Local, for benches that price what a handler does: every request asks for
// its consumed capacity (`ReturnConsumedCapacity: INDEXES`, added on the way through, so the code under test runs
// unchanged), and the read and write units DynamoDB Local reports, indexes included, are added up by operation.
// DynamoDB Local checks no signature, so the changed body goes through. Listens on 127.0.0.1 only. In a process of its
// own (`startCapacityProxyProcess`), its work stays out of the CPU figures of the process it counts for.
import { spawn } from 'node:child_process'
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Operations that take `ReturnConsumedCapacity`, and whether they read or write. */
const OPERATIONS: Record<string, 'read' | 'write'> = {
  GetItem: 'read',
  BatchGetItem: 'read',
  Query: 'read',
  Scan: 'read',
  TransactGetItems: 'read',
  PutItem: 'write',
  UpdateItem: 'write',
  DeleteItem: 'write',
  BatchWriteItem: 'write',
  TransactWriteItems: 'write',
}

/** What the proxy saw since the last {@link CapacityProxy.take}. */
export interface CapacityCount {
  /** Read request units (eventually consistent reads count half). */
  readonly readUnits: number
  /** Write request units, each index's write included. */
  readonly writeUnits: number
  /** Calls by operation (`PutItem: 2`). */
  readonly calls: Readonly<Record<string, number>>
}

export interface CapacityProxy {
  /** For `DYNAMODB_ENDPOINT`. */
  readonly endpoint: string
  /** What was counted since the last call, and a fresh count. */
  take(): CapacityCount
  close(): Promise<void>
}

interface Consumed {
  readonly CapacityUnits?: number
}

/** Where a proxy in another process hands over its count (DynamoDB's API is all `POST /`). */
const TAKE_PATH = '/__capacity'

const body = (message: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    message.on('data', (chunk: Buffer) => chunks.push(chunk))
    message.on('end', () => resolve(Buffer.concat(chunks)))
    message.on('error', reject)
  })

export async function startCapacityProxy(target: string): Promise<CapacityProxy> {
  const upstream = new URL(target)
  let count = { readUnits: 0, writeUnits: 0, calls: {} as Record<string, number> }

  const server = createServer((incoming, outgoing) => {
    if (incoming.url === TAKE_PATH) {
      const taken = count
      count = { readUnits: 0, writeUnits: 0, calls: {} }
      outgoing.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(taken))
      return
    }
    void (async () => {
      const operation = String(incoming.headers['x-amz-target'] ?? '').split('.')[1] ?? ''
      const kind = OPERATIONS[operation]
      let payload = await body(incoming)
      if (kind) {
        payload = Buffer.from(
          JSON.stringify({ ...(JSON.parse(payload.toString('utf8')) as object), ReturnConsumedCapacity: 'INDEXES' }),
        )
      }
      const headers = { ...incoming.headers, 'content-length': String(payload.length), host: upstream.host }
      const forwarded = httpRequest(
        { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers },
        (answer) => {
          void body(answer).then((answerBody) => {
            if (kind && answer.statusCode === 200) {
              const { ConsumedCapacity } = JSON.parse(answerBody.toString('utf8')) as {
                ConsumedCapacity?: Consumed | Consumed[]
              }
              const units = [ConsumedCapacity ?? []]
                .flat()
                .reduce((sum, consumed) => sum + (consumed.CapacityUnits ?? 0), 0)
              if (kind === 'read') count.readUnits += units
              else count.writeUnits += units
              count.calls[operation] = (count.calls[operation] ?? 0) + 1
            }
            outgoing.writeHead(answer.statusCode ?? 500, answer.headers)
            outgoing.end(answerBody)
          })
        },
      )
      forwarded.on('error', (error) => {
        outgoing.writeHead(502)
        outgoing.end(String(error))
      })
      forwarded.end(payload)
    })()
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    take() {
      const taken = count
      count = { readUnits: 0, writeUnits: 0, calls: {} }
      return taken
    },
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections()
        server.close(() => closed())
      }),
  }
}

/** The same proxy in a child process; `take` asks it for its count. */
export async function startCapacityProxyProcess(
  target: string,
): Promise<Omit<CapacityProxy, 'take'> & { take(): Promise<CapacityCount> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, target], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
    child.once('exit', (code) => reject(new Error(`the capacity proxy exited (${code})`)))
  })
  return {
    endpoint,
    take: async () => (await (await fetch(`${endpoint}${TAKE_PATH}`)).json()) as CapacityCount,
    close: () =>
      new Promise<void>((closed) => {
        child.once('exit', () => closed())
        child.kill()
      }),
  }
}

if (process.argv[1] === import.meta.filename && process.argv[2]) {
  const proxy = await startCapacityProxy(process.argv[2])
  console.log(proxy.endpoint)
}
