// connected: each sandbox started with a control secret (as npm start starts them) refuses its `/__sandbox/`
// controls without it, with a wrong one or another's, and changes nothing then; its provider API needs no such secret.
import { afterEach, describe, expect, it } from 'vitest'
import { startFinqwareSandbox } from '../../sandbox/finqware/server.ts'
import { startWorldlineSandbox } from '../../sandbox/worldline/server.ts'
import { startYapilySandbox } from '../../sandbox/yapily/server.ts'
import type { RunningSandbox } from '../../sandbox/shared/controls.ts'

const SECRET = 'local-control-secret-0123456789'
const HEADER = 'x-control-secret'

const SANDBOXES = [
  { name: 'Finqware', start: () => startFinqwareSandbox({ controlSecret: SECRET }), api: '/.well-known/jwks.json' },
  { name: 'Worldline', start: () => startWorldlineSandbox({ controlSecret: SECRET }), api: '/nowhere' },
  { name: 'Yapily', start: () => startYapilySandbox({ controlSecret: SECRET }), api: '/nowhere' },
] as const

const running: RunningSandbox[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()))
})

describe.each(SANDBOXES)('the $name sandbox with a control secret', ({ start, api }) => {
  it.each([
    ['no secret', {}],
    ['a wrong secret', { [HEADER]: 'guess' }],
    ['a secret one character short', { [HEADER]: SECRET.slice(0, -1) }],
    ['the secret as a bearer token', { authorization: `Bearer ${SECRET}` }],
  ])('refuses every control with %s, and changes nothing', async (_name, headers: Record<string, string>) => {
    // Prepare
    const sandbox = await start()
    running.push(sandbox)
    sandbox.clock.advance(60_000)

    // Act
    const answers = await Promise.all([
      fetch(`${sandbox.url}/__sandbox/clock`, { headers }),
      fetch(`${sandbox.url}/__sandbox/reset`, { method: 'POST', headers }),
      fetch(`${sandbox.url}/__sandbox/clock`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ advanceSeconds: 86_400 }),
      }),
      fetch(`${sandbox.url}/__sandbox/consents`, { headers }),
    ])

    // Assess
    for (const answer of answers) {
      expect(answer.status).toBe(401)
      expect(await answer.json()).toMatchObject({ error: 'unauthorized' })
    }
    expect(sandbox.clock.offsetMs).toBe(60_000)
  })

  it('obeys a control that carries the secret', async () => {
    const sandbox = await start()
    running.push(sandbox)
    sandbox.clock.advance(60_000)

    const reset = await fetch(`${sandbox.url}/__sandbox/reset`, { method: 'POST', headers: { [HEADER]: SECRET } })

    expect(reset.status).toBe(200)
    expect(sandbox.clock.offsetMs).toBe(0)
  })

  it('leaves its provider API to its own authentication', async () => {
    const sandbox = await start()
    running.push(sandbox)

    const answer = await fetch(`${sandbox.url}${api}`)

    expect(answer.status).not.toBe(401)
  })
})
