// Where `npm start` listens (`HOST`, loopback by default) and the host its URLs name, so a phone on the same network
// can reach the gateway and the sandboxes' bank pages when asked to.
import { networkInterfaces } from 'node:os'

export interface ListenAddresses {
  /** The address the gateway and the sandboxes listen on. */
  readonly host: string
  /** The host their URLs name (callbacks, bank pages, the banner). */
  readonly publicHost: string
  /** Whether a browser on this machine reaches them by a loopback name (127.0.0.1, localhost). */
  readonly loopback: boolean
  /** Whether other machines may reach them: the banner warns. */
  readonly exposed: boolean
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/
const WILDCARD = new Set(['0.0.0.0', '::'])

/** This machine's first IPv4 address on a network, for the URLs a phone follows; loopback when there is none. */
function networkAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((address) => address.family === 'IPv4' && !address.internal)
    if (found) return found.address
  }
  return '127.0.0.1'
}

/** `HOST` as given: unset is 127.0.0.1; `0.0.0.0` listens everywhere and names the machine's network address. */
export function listenAddresses(host: string | undefined): ListenAddresses {
  if (host === undefined || host === '') {
    return { host: '127.0.0.1', publicHost: '127.0.0.1', loopback: true, exposed: false }
  }
  if (LOOPBACK.test(host)) return { host, publicHost: host, loopback: true, exposed: false }
  if (WILDCARD.has(host)) return { host, publicHost: networkAddress(), loopback: true, exposed: true }
  return { host, publicHost: host, loopback: false, exposed: true }
}
