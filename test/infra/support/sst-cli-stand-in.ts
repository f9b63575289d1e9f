// A stand-in for the `sst` CLI's side of a deploy. SST's components call the CLI over JSON-RPC at $SST_SERVER/rpc
// (the platform's src/components/rpc/rpc.ts) for two things in this app: `Runtime.Build`, the esbuild run of a
// function (pkg/runtime/node in the Go CLI), and `Provider.Aws.Bootstrap`, the account's bootstrap bucket that
// receives the code archives. This answers both, keeps every build request (what the CLI's builder would get:
// handler, runtime, the `nodejs` settings), and refuses any other method, so a component that starts needing more of
// the CLI fails the tests loudly rather than being mocked by accident. Listens on 127.0.0.1 only, for one deployment.
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

/** A function build the CLI was asked for: what its Node.js builder would bundle, and how. */
export interface BuildRequest {
  /** The `sst.aws.Function` component's name. */
  readonly functionID: string
  /** As the function's `handler` argument gives it. */
  readonly handler: string
  readonly runtime: string
  /** The function's `nodejs` argument plus its `architecture`: the builder's settings. */
  readonly properties: Record<string, unknown>
  /** Linked resources' properties by name (the CLI encrypts them into the bundle as resource.enc). */
  readonly links: Record<string, unknown>
}

export interface CliStandIn {
  /** For $SST_SERVER. */
  readonly url: string
  readonly builds: readonly BuildRequest[]
  /** Whether a call is being answered: the component that made it has more to declare. */
  busy: () => boolean
  close: () => Promise<void>
}

/** @param workDir A scratch directory for the empty bundles handed back. */
export async function startCliStandIn(workDir: string): Promise<CliStandIn> {
  const builds: BuildRequest[] = []
  // An empty bundle: the Function component zips what the builder returned and uploads it; its content is not read.
  const emptyBundle = mkdtempSync(join(workDir, 'bundle-'))
  let inFlight = 0

  function answer(method: string, args: Record<string, unknown>): { result: unknown } | { error: string } {
    if (method === 'Runtime.Build') {
      builds.push(args as unknown as BuildRequest)
      // The handler is handed back as given; the tests read handlers from the build requests.
      return { result: { handler: args.handler, out: emptyBundle, errors: [], sourcemaps: [] } }
    }
    if (method === 'Provider.Aws.Bootstrap') {
      return { result: { asset: 'sst-asset-mock', assetEcrRegistryId: '', assetEcrUrl: '', state: 'sst-state-mock' } }
    }
    return { error: `rpc: can't find method ${method} (test/infra/support/sst-cli-stand-in.ts answers two)` }
  }

  const server = createServer((request, response) => {
    inFlight += 1
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    request.on('end', () => {
      const { method, params } = JSON.parse(body) as { method: string; params: [Record<string, unknown>] }
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify(answer(method, params[0])), () => {
        inFlight -= 1
      })
    })
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    builds,
    busy: () => inFlight > 0,
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  }
}
