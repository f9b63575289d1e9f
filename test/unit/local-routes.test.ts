// offline (the routes answered in process): the gateway clock control of npm start: the control secret, bodies it
// refuses without moving anything, forward-only moves, the order (gateway sweep before the sandboxes), and the done page.
import { describe, expect, it } from 'vitest'
import { localRoutes } from '../../local/local-routes.ts'
import { OffsetClock } from '../../local/offset-clock.ts'

const SECRET = 'control-secret-for-this-test'

async function start() {
  const clock = OffsetClock.load(null)
  const calls: string[] = []
  const sandboxMoves: number[] = []
  const routes = localRoutes({
    clock,
    controlSecret: SECRET,
    sandboxes: [
      {
        name: 'finqware',
        advance: (ms) => {
          calls.push('sandbox')
          sandboxMoves.push(ms)
          return new Date(Date.now() + ms)
        },
      },
    ],
    sweepNow: async () => {
      calls.push(`sweep at +${Math.round(clock.offsetMs / 1000)} s`)
    },
    runJobsNow: () => calls.push('jobs'),
  })
  const post = (body: string, secret: string | null = SECRET) =>
    routes.request('/local/clock', {
      method: 'POST',
      headers: secret === null ? {} : { 'x-control-secret': secret },
      body,
    })
  return { clock, calls, sandboxMoves, routes, post }
}

describe('POST /local/clock', () => {
  it('moves the gateway, sweeps, then moves the sandboxes by the same amount, then runs the jobs', async () => {
    const { clock, calls, sandboxMoves, post } = await start()

    const answer = await post(JSON.stringify({ advanceSeconds: 3_600 }))

    expect(answer.status).toBe(200)
    expect(await answer.json()).toMatchObject({ offsetMs: 3_600_000, sandboxes: { finqware: expect.any(String) } })
    expect(clock.offsetMs).toBe(3_600_000)
    expect(calls).toEqual(['sweep at +3600 s', 'sandbox', 'jobs'])
    expect(sandboxMoves).toEqual([3_600_000])
  })

  it('leaves the sandboxes alone when asked', async () => {
    const { calls, post } = await start()

    await post(JSON.stringify({ advanceSeconds: 60, sandboxes: false }))

    expect(calls).toEqual(['sweep at +60 s', 'jobs'])
  })

  it.each([
    ['no secret', JSON.stringify({ advanceSeconds: 60 }), null, 401],
    ['a forged secret', JSON.stringify({ advanceSeconds: 60 }), 'forged', 401],
    ['a move back', JSON.stringify({ advanceSeconds: -60 }), SECRET, 400],
    ['a date in the past', JSON.stringify({ set: '2001-01-01T00:00:00Z' }), SECRET, 400],
    ['both ways at once', JSON.stringify({ advanceSeconds: 60, set: '2099-01-01T00:00:00Z' }), SECRET, 400],
    ['neither', '{}', SECRET, 400],
    ['text for seconds', JSON.stringify({ advanceSeconds: '60' }), SECRET, 400],
    ['not a date', JSON.stringify({ set: 'tomorrow' }), SECRET, 400],
    ['not JSON', '{"advanceSeconds": ', SECRET, 400],
    ['an array', '[60]', SECRET, 400],
    ['a body of 5 kB', JSON.stringify({ advanceSeconds: 60, pad: 'x'.repeat(5_000) }), SECRET, 400],
  ])('refuses %s and moves nothing', async (_name, body, secret, status) => {
    const { clock, calls, post } = await start()

    const answer = await post(body, secret)

    expect(answer.status).toBe(status)
    expect(clock.offsetMs).toBe(0)
    expect(calls).toEqual([])
  })

  it('moves to a date given', async () => {
    const { clock, post } = await start()
    const target = new Date(Date.now() + 10 * 86_400_000)

    await post(JSON.stringify({ set: target.toISOString() }))

    expect(Math.abs(clock.now().getTime() - target.getTime())).toBeLessThan(60_000)
  })
})

describe('GET /local/done', () => {
  it('shows what came back, escaped, and runs no script', async () => {
    const { routes } = await start()

    const answer = await routes.request(
      `/local/done?consent=consent_01X&status=ACTIVE&evil=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E`,
    )
    const page = await answer.text()

    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(page).toContain('consent_01X')
    expect(page).toContain('ACTIVE')
    expect(page).not.toContain('<img')
  })
})
