// The port through which graphql-ws messages reach a client whose socket this process does not hold (API Gateway's
// WebSocket API: its management API, functions/ws-management.ts), so the protocol and the poller stay transport-free.

export interface ConnectionSender {
  /** Sends one protocol message as JSON; 'gone' when the client is no longer connected (410). */
  post(connectionId: string, message: object): Promise<'sent' | 'gone'>
  /** Ends the connection (API Gateway sends no close code of ours: the client sees 1006 or 1000). */
  close(connectionId: string): Promise<void>
}
