// Every request runs in its own request scope: an id (the client's `x-request-id` when it is a sane one, else the
// platform's or a fresh UUID) that every log line, error and problem answer carries and the answer echoes, and, on
// Lambda, the moment the invocation ends, which subscriptions end before.
import { randomUUID } from 'node:crypto'
import type { HttpMiddleware } from './env.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'

/** What a client's own request id may look like; anything else is replaced rather than logged as given. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

export function requestScope(): HttpMiddleware {
  return async (c, next) => {
    const given = c.req.raw.headers.get('x-request-id')
    const requestId = given !== null && REQUEST_ID.test(given) ? given : (c.env?.platformRequestId ?? randomUUID())
    c.set('requestId', requestId)
    const deadline = c.env?.deadline
    await runInRequestScope(deadline === undefined ? { requestId } : { requestId, deadline }, next)
    // After the route answered (not through c.header, which would copy the answer to add one header).
    c.res.headers.set('x-request-id', requestId)
  }
}
