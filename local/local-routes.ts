// Local mode's routes beside the API: the gateway clock control (behind the local control secret, like the
// sandboxes' controls) and the "done" page a consent's redirectUrl can point at to show what the provider sent back.
// Mounted into the one app by `npm start` only (http/app.ts `extraRoutes`), so no Lambda bundle carries them.
import { createHash, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import { readBodyAtMost } from '../http/body-limit.ts'
import type { HttpApp, HttpContext, HttpEnv } from '../http/env.ts'
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

const send = (c: HttpContext, status: 200 | 400 | 401 | 405, body: unknown) =>
  c.json(body, status, { 'cache-control': 'no-store' })

const digest = (value: string) => createHash('sha256').update(value).digest()

/** The body as JSON (an empty one is `{}`); throws when it is over 4 kB or not JSON. */
async function readJson(request: Request): Promise<unknown> {
  const bytes = await readBodyAtMost(request, MAX_CONTROL_BYTES)
  if (bytes === null) throw new RangeError('the body is too large')
  const text = new TextDecoder().decode(bytes)
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

/** `GET /local/done`, and `GET|POST /local/clock` (401 without the control secret, moving nothing). */
export function localRoutes(options: LocalRoutesOptions): HttpApp {
  const secret = digest(options.controlSecret)
  const authorised = (c: HttpContext) => {
    const given = c.req.raw.headers.get(CONTROL_SECRET_HEADER)
    return given !== null && timingSafeEqual(digest(given), secret)
  }
  const state = () => ({ now: options.clock.now().toISOString(), offsetMs: options.clock.offsetMs })

  const routes = new Hono<HttpEnv>()
  routes.get(DONE_PATH, (c) =>
    c.html(donePage(new URL(c.req.url).searchParams), 200, {
      'cache-control': 'no-store',
      // Whatever the parameters hold, the page runs no script and loads nothing.
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    }),
  )
  routes.all(CLOCK_PATH, async (c) => {
    if (!authorised(c)) {
      return send(c, 401, {
        error: 'unauthorized',
        message: `the local controls need the control secret (printed by npm start) in ${CONTROL_SECRET_HEADER}`,
      })
    }
    if (c.req.method === 'GET') return send(c, 200, state())
    if (c.req.method !== 'POST') return send(c, 405, { error: 'method_not_allowed' })
    let body: unknown
    try {
      body = await readJson(c.req.raw)
    } catch {
      return send(c, 400, { error: 'invalid_control', message: 'send a JSON object of at most 4 kB' })
    }
    const move = clockMove(body, options.clock.now())
    if ('error' in move) return send(c, 400, { error: 'invalid_control', message: move.error })
    options.clock.advance(move.ms)
    await options.sweepNow()
    const sandboxes = Object.fromEntries(
      move.sandboxes ? options.sandboxes.map((sandbox) => [sandbox.name, sandbox.advance(move.ms).toISOString()]) : [],
    )
    options.runJobsNow()
    return send(c, 200, { ...state(), sandboxes })
  })
  return routes
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
