// A loopback port held open until the server that needs it is about to listen: a port probed and closed at once
// (freePort) may be handed by the OS to another test file's socket in the seconds before the stack listens on it
// (seen: EADDRINUSE in a full run), while a held one cannot be.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReservedPort {
  readonly port: number
  /** Frees the port; call right before listening on it. */
  release(): Promise<void>
}

export function reservePort(): Promise<ReservedPort> {
  return new Promise((resolve, reject) => {
    const holder = createServer()
    holder.once('error', reject)
    holder.listen(0, '127.0.0.1', () => {
      holder.unref() // never what keeps a process alive, should a stack fail before releasing it
      const { port } = holder.address() as AddressInfo
      resolve({ port, release: () => new Promise((done) => holder.close(() => done())) })
    })
  })
}
