// What a host (the node server locally, the Lambda adapter on AWS) tells the app about a request beyond the request
// itself, and the types every route module shares.
import type { Context, Hono, MiddlewareHandler } from 'hono'
import type { WebOriginCheck } from '../schema/request-guard.ts'

/** What the host knows of a request that the request does not say. Every field is optional: `app.request` has none. */
export interface HttpBindings {
  /**
   * The caller's address as the platform saw it: the socket's locally, `sourceIp` on Lambda. Never taken from a
   * header (X-Forwarded-For is whatever the caller wants it to be); failed logins are limited by it.
   */
  readonly clientAddress?: string
  /** The platform's own id for the request (Lambda's `awsRequestId`), used when the client sends no usable one. */
  readonly platformRequestId?: string
  /** Epoch ms by which the platform ends this request (a Lambda invocation's time); streams end before it. */
  readonly deadline?: number
}

export interface HttpEnv {
  Bindings: HttpBindings
  Variables: {
    /** The request's id: in every log line, error and problem answer, and echoed in `x-request-id`. */
    requestId: string
    /** A page's cross-origin request: its origin, checked against the caller's tenant once known (cors.ts). */
    webOrigin?: WebOriginCheck
  }
}

export type HttpApp = Hono<HttpEnv>
export type HttpContext = Context<HttpEnv>
export type HttpMiddleware = MiddlewareHandler<HttpEnv>

/** What a route answered by a plain fetch handler is told beyond the request itself. */
export interface RequestInfo {
  /** The caller's address as the platform saw it (the socket's; Lambda's `sourceIp`), for the failure limits. */
  readonly clientAddress?: string | null | undefined
}

/** A route answered by a plain fetch handler (the OAuth endpoints): it sees the request, nothing of the app. */
export type RequestHandler = (request: Request, info?: RequestInfo) => Promise<Response>
