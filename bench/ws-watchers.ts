// The subscriptions suite's graphql-ws watchers, in a process of their own (bench/subscriptions.ts forks it): 10,000
// WebSockets and their server ends would not fit one process's file descriptors, and the clients' CPU and memory stay
// out of the server's figures. Each watcher is one `graphql-ws` client, one socket, as a phone holds one. Messages
// (IPC): in `{ open: id, url, authorization, consentId }` and `{ close: id }`; out `{ opened: id }`, `{ failed: id,
// message }` and `{ seen: id, version, at }`, `at` in epoch ms (performance.timeOrigin + now: comparable across
// processes on one machine).
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'

type In = { open: number; url: string; authorization: string; consentId: string } | { close: number }

const clients = new Map<number, Client>()
const send = (message: unknown) => process.send?.(message)

process.on('message', (message: In) => {
  if ('close' in message) {
    void clients.get(message.close)?.dispose()
    clients.delete(message.close)
    return
  }
  const id = message.open
  const client = createClient({
    url: message.url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: message.authorization },
    retryAttempts: 0,
    lazy: false,
  })
  clients.set(id, client)
  let first = true
  client.subscribe<{ consentUpdated?: { version: number } }>(
    {
      query: 'subscription ($id: ID!) { consentUpdated(id: $id) { id version status } }',
      variables: { id: message.consentId },
    },
    {
      next: (result) => {
        const version = result.data?.consentUpdated?.version
        if (version === undefined) {
          send({ failed: id, message: `a result without a consent: ${JSON.stringify(result).slice(0, 300)}` })
          return
        }
        send({ seen: id, version, at: performance.timeOrigin + performance.now() })
        if (first) send({ opened: id })
        first = false
      },
      error: (error) => {
        if (!first) return
        const text = error instanceof Error ? error.message : JSON.stringify(error, ['code', 'reason', 'message'])
        send({ failed: id, message: text })
      },
      complete: () => undefined,
    },
  )
})

// Ends with its parent, whatever way the parent goes.
process.on('disconnect', () => process.exit(0))
