// Local mode's routes beside the API: the gateway clock control (behind the local control secret, like the
// sandboxes' controls) and the "done" page a consent's redirectUrl can point at to show what the provider sent back.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { OffsetClock } from './offset-clock.ts'

/** The request header that carries the local control secret (the sandboxes read the same one). */
export const CONTROL_SECRET_HEADER = 'x-control-secret'
export const CLOCK_PATH = '/local/clock'
export const DONE_PATH = '/local/done'

/** A clock that moves with the gateway's: each sandbox's, moved in process. */
export interface MovableClock {
  readonly name: string
  advance(ms: number): Date
}

export interface LocalRoutesOptions {
  readonly clock: OffsetClock
  readonly controlSecret: string
  /** Moved by the same amount as the gateway's clock unless a request says `"sandboxes": false`. */
  readonly sandboxes: readonly MovableClock[]
  /**
   * The gateway's deadline sweep, run once the gateway clock moved and before the sandboxes' clocks do: the gateway
   * applies its own deadlines (warnings, EXPIRED) before a provider's news of the same moment arrives.
   */
  readonly sweepNow: () => Promise<unknown>
  /** Runs the jobs now rather than at their next tick (webhook delivery, re-checks). */
  readonly runJobsNow: () => void
}

const MAX_CONTROL_BYTES = 4_096

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  response.end(text)
}

const digest = (value: string) => createHash('sha256').update(value).digest()

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = ''
  for await (const chunk of request as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8')
    if (text.length > MAX_CONTROL_BYTES) throw new RangeError('the body is too large')
  }
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown)
}

/** Escapes text for HTML content and attribute values. */
const html = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)

/** The page a browser lands on after the bank (or our callback) when the redirectUrl is `/local/done`. */
function donePage(query: URLSearchParams): string {
  const rows = [...query].map(([name, value]) => `<tr><th>${html(name)}</th><td>${html(value)}</td></tr>`).join('')
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>consent-gateway: back from the bank</title>',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:40rem}th{text-align:left;padding-right:1rem}</style>',
    '</head><body><h1>Back from the bank</h1>',
    '<p>This is where your app would take over. The provider sent the browser back with:</p>',
    rows ? `<table>${rows}</table>` : '<p><em>no parameters</em></p>',
    '<p>Ask the gateway for the consent (<code>consent(id)</code>) to see its status.</p></body></html>',
  ].join('')
}

/**
 * The local routes' handler: answers `/local/...` and returns true, or returns false for any other path. The clock
 * control answers 401 without the secret, and moves nothing.
 */
export function localRoutes(options: LocalRoutesOptions) {
  const secret = digest(options.controlSecret)
  const authorised = (request: IncomingMessage) => {
    const given = request.headers[CONTROL_SECRET_HEADER]
    return typeof given === 'string' && timingSafeEqual(digest(given), secret)
  }
  const state = () => ({ now: options.clock.now().toISOString(), offsetMs: options.clock.offsetMs })

  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const url = new URL(request.url ?? '/', 'http://local')
    if (url.pathname === DONE_PATH && request.method === 'GET') {
      const page = donePage(url.searchParams)
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(page),
        'cache-control': 'no-store',
        // Whatever the parameters hold, the page runs no script and loads nothing.
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      })
      response.end(page)
      return true
    }
    if (url.pathname !== CLOCK_PATH) return false
    if (!authorised(request)) {
      send(response, 401, {
        error: 'unauthorized',
        message: `the local controls need the control secret (printed by npm start) in ${CONTROL_SECRET_HEADER}`,
      })
      return true
    }
    if (request.method === 'GET') {
      send(response, 200, state())
      return true
    }
    if (request.method !== 'POST') {
      send(response, 405, { error: 'method_not_allowed' })
      return true
    }
    let body: unknown
    try {
      body = await readJson(request)
    } catch {
      send(response, 400, { error: 'invalid_control', message: 'send a JSON object of at most 4 kB' })
      return true
    }
    const move = clockMove(body, options.clock.now())
    if ('error' in move) {
      send(response, 400, { error: 'invalid_control', message: move.error })
      return true
    }
    options.clock.advance(move.ms)
    await options.sweepNow()
    const sandboxes = Object.fromEntries(
      move.sandboxes ? options.sandboxes.map((sandbox) => [sandbox.name, sandbox.advance(move.ms).toISOString()]) : [],
    )
    options.runJobsNow()
    send(response, 200, { ...state(), sandboxes })
    return true
  }
}

/** `{"advanceSeconds": n}` or `{"set": "<ISO date>"}`, and `"sandboxes": false` to leave the providers' clocks. */
function clockMove(body: unknown, now: Date): { ms: number; sandboxes: boolean } | { error: string } {
  const usage = 'send {"advanceSeconds": n} or {"set": "<ISO date>"} (forward only), optionally "sandboxes": false'
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: usage }
  const { advanceSeconds, set, sandboxes = true } = body as Record<string, unknown>
  if (typeof sandboxes !== 'boolean') return { error: '"sandboxes" must be true or false' }
  if ((advanceSeconds === undefined) === (set === undefined)) return { error: usage }
  const ms =
    advanceSeconds !== undefined
      ? typeof advanceSeconds === 'number'
        ? advanceSeconds * 1000
        : Number.NaN
      : typeof set === 'string'
        ? Date.parse(set) - now.getTime()
        : Number.NaN
  if (!Number.isFinite(ms)) return { error: usage }
  if (ms < 0) return { error: 'the gateway clock only moves forward' }
  return { ms, sandboxes }
}
