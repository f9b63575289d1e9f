// Every request runs in its own request scope: an id (the client's `x-request-id` when it is a sane one, else the
// platform's or a fresh UUID) that every log line, error and problem answer carries and the answer echoes, and, on
// Lambda, the moment the invocation ends, which subscriptions end before.
import { randomUUID } from 'node:crypto'
import type { HttpMiddleware } from './env.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'

/** What a client's own request id may look like; anything else is replaced rather than logged as given. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** A request's id: the client's when it is a sane one, else the platform's, else a fresh UUID. */
export const requestIdFor = (given: string | null | undefined, platformRequestId: string | undefined): string =>
  given != null && REQUEST_ID.test(given) ? given : (platformRequestId ?? randomUUID())

export function requestScope(): HttpMiddleware {
  return async (c, next) => {
    const requestId = requestIdFor(c.req.raw.headers.get('x-request-id'), c.env?.platformRequestId)
    c.set('requestId', requestId)
    const deadline = c.env?.deadline
    await runInRequestScope(deadline === undefined ? { requestId } : { requestId, deadline }, next)
    // After the route answered (not through c.header, which would copy the answer to add one header).
    c.res.headers.set('x-request-id', requestId)
  }
}
