// The names this machine's loopback answers to, as a browser writes them in the Host header.

/** `127.0.0.1:<port>`, `localhost:<port>` and `[::1]:<port>`: the Host values of a browser on this machine. */
export function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]
}
