// Puts a hostile request on a raw TCP socket (node:net: no client library tidies it up first) and reads the answer
// with a small HTTP/1.1 response parser, within a deadline: an answer that is not complete by then is a hang, and the
// socket is cut so the run itself never hangs.
import { connect } from 'node:net'
import type { HostileRequest } from './hostile-request.ts'

/** The request's bytes as they go on the wire. */
export function encodeRequest(request: HostileRequest): Buffer {
  if (request.raw) return request.raw
  const lines = [`${request.method} ${request.target} HTTP/1.1`]
  const has = (name: string) => request.headers.some(([header]) => header.toLowerCase() === name)
  if (!has('host')) lines.push('host: 127.0.0.1')
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`)
  if (!has('connection')) lines.push('connection: close')
  const body = request.body ?? Buffer.alloc(0)
  switch (request.framing.kind) {
    case 'length':
      if (request.body !== null || request.method === 'POST') lines.push(`content-length: ${body.length}`)
      break
    case 'declared':
      lines.push(`content-length: ${request.framing.value}`)
      break
    case 'chunked':
      lines.push('transfer-encoding: chunked')
      break
    case 'none':
      break
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8')
  if (request.framing.kind !== 'chunked') return Buffer.concat([head, body])
  const chunks: Buffer[] = [head]
  const size = 16_384
  for (let at = 0; at < body.length; at += size) {
    const chunk = body.subarray(at, at + size)
    chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(chunks)
}

export interface Answer {
  /**
   * `answered`: a complete HTTP response; `dropped`: the connection ended (closed or reset) without one; `hang`:
   * neither within the deadline.
   */
  readonly outcome: 'answered' | 'dropped' | 'hang'
  /** The final (non-1xx) status; null unless answered. */
  readonly status: number | null
  /** Lower-cased header names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>
  /** The body, de-chunked. */
  readonly body: Buffer
  /** From the start of the connection to the complete answer (or to the end of waiting). */
  readonly ms: number
  /** The socket error, if one came (EPIPE, ECONNRESET...). */
  readonly socketError: string | null
}

interface Parsed {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: Buffer
  readonly complete: boolean
}

/** Parses the first final response in `data`; null when its head is not all there (or is not HTTP). */
export function parseResponse(data: Buffer, ended: boolean, headRequest: boolean): Parsed | null {
  let offset = 0
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', offset)
    if (headEnd < 0) return null
    const [statusLine = '', ...headerLines] = data.subarray(offset, headEnd).toString('latin1').split('\r\n')
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)
    if (!match) return null
    const status = Number(match[1])
    const headers: Record<string, string> = {}
    for (const line of headerLines) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    const bodyStart = headEnd + 4
    if (status >= 100 && status < 200) {
      offset = bodyStart // 100 Continue and friends: the answer follows
      continue
    }
    const rest = data.subarray(bodyStart)
    if (headRequest || status === 204 || status === 304)
      return { status, headers, body: Buffer.alloc(0), complete: true }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const { body, complete } = dechunk(rest)
      return { status, headers, body, complete: complete || ended }
    }
    const length = headers['content-length']
    if (length !== undefined && /^\d+$/.test(length)) {
      const expected = Number(length)
      return { status, headers, body: rest.subarray(0, expected), complete: rest.length >= expected || ended }
    }
    return { status, headers, body: rest, complete: ended }
  }
}

function dechunk(data: Buffer): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset)
    if (lineEnd < 0) return { body: Buffer.concat(parts), complete: false }
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16)
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), complete: false }
    if (size === 0) return { body: Buffer.concat(parts), complete: data.indexOf('\r\n', lineEnd + 2) >= 0 }
    const start = lineEnd + 2
    if (data.length < start + size + 2) {
      parts.push(data.subarray(start))
      return { body: Buffer.concat(parts), complete: false }
    }
    parts.push(data.subarray(start, start + size))
    offset = start + size + 2
  }
}

/**
 * Sends `request` (as `bytes`, when the caller has encoded it already) to 127.0.0.1:`port` and waits at most
 * `deadlineMs` for its complete answer. Never rejects: a refused connection, a reset or a timeout are outcomes too.
 */
export function send(
  request: HostileRequest,
  port: number,
  deadlineMs: number,
  bytes: Buffer = encodeRequest(request),
): Promise<Answer> {
  const toWrite = request.stallAfterBytes === undefined ? bytes : bytes.subarray(0, request.stallAfterBytes)
  const headRequest = request.method.toUpperCase() === 'HEAD'
  const started = performance.now()
  return new Promise((resolve) => {
    const received: Buffer[] = []
    let socketError: string | null = null
    let done = false
    const socket = connect({ host: '127.0.0.1', port })
    const finish = (outcome: Answer['outcome'], parsed: Parsed | null) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve({
        outcome,
        status: outcome === 'answered' ? (parsed?.status ?? null) : null,
        headers: parsed?.headers ?? {},
        body: parsed?.body ?? Buffer.alloc(0),
        ms: performance.now() - started,
        socketError,
      })
    }
    const timer = setTimeout(() => {
      const parsed = parseResponse(Buffer.concat(received), false, headRequest)
      finish('hang', parsed)
    }, deadlineMs)
    socket.setNoDelay(true)
    socket.on('connect', () => {
      if (toWrite.length > 0) socket.write(toWrite, () => undefined)
    })
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk)
      const parsed = parseResponse(Buffer.concat(received), false, headRequest)
      if (parsed?.complete) finish('answered', parsed)
    })
    socket.on('error', (error: NodeJS.ErrnoException) => {
      socketError = error.code ?? error.message
    })
    socket.on('close', () => {
      const parsed = parseResponse(Buffer.concat(received), true, headRequest)
      finish(parsed ? 'answered' : 'dropped', parsed)
    })
  })
}
